package sandboxtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	sailpointapi "github.com/certops/certops/api/sailpoint"
)

// spec is one of SailPoint's spec files, ready to route requests.
type spec struct {
	file   string // sailpointapi.Beta, V3 or PerService
	prefix string // the server's path prefix: "/beta", "/v3", "" (per-service paths carry it)
	doc    *openapi3.T
	router routers.Router
}

// specFiles maps each file to the relative server that replaces SailPoint's
// https://{tenant}.api.identitynow.com/... so the routers match requests to
// a local test server.
var specFiles = []struct{ file, prefix string }{
	{sailpointapi.Beta, "/beta"},
	{sailpointapi.V3, "/v3"},
	{sailpointapi.PerService, ""},
}

var (
	loadOnce  sync.Once
	loaded    []*spec
	loadError error
)

// specs loads, validates and routes the three files once per process:
// loading takes a noticeable fraction of a second, and every test that
// starts a sandbox needs them.
func specs(t testing.TB) []*spec {
	t.Helper()
	loadOnce.Do(func() { loaded, loadError = loadSpecs() })
	if loadError != nil {
		t.Fatalf("sandboxtest: %v", loadError)
	}
	return loaded
}

func loadSpecs() ([]*spec, error) {
	var out []*spec
	for _, f := range specFiles {
		data, err := sailpointapi.Files.ReadFile(f.file)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.file, err)
		}
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = false
		doc, err := loader.LoadFromData(data)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", f.file, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("validate %s: %w", f.file, err)
		}
		server := f.prefix
		if server == "" {
			server = "/"
		}
		doc.Servers = openapi3.Servers{{URL: server}}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", f.file, err)
		}
		out = append(out, &spec{file: f.file, prefix: f.prefix, doc: doc, router: router})
	}
	return out, nil
}

// Operation is one operation of SailPoint's specs.
type Operation struct {
	Spec        string // sailpointapi.Beta, V3 or PerService
	Method      string // "GET", "POST"
	Path        string // the template with the server prefix: "/v3/certifications/{id}", "/certifications/v1/{id}"
	OperationID string // as in the spec: "getIdentityCertification", "getIdentityCertificationV1"
}

func (o Operation) String() string {
	return fmt.Sprintf("%s %s (%s, %s)", o.Method, o.Path, o.OperationID, o.Spec)
}

// SpecOperations returns every operation of the three spec files, sorted by
// spec file, path and method, so a test can prove the sandbox serves them
// all.
func SpecOperations(t testing.TB) []Operation {
	t.Helper()
	var ops []Operation
	for _, s := range specs(t) {
		for path, item := range s.doc.Paths.Map() {
			for method, op := range item.Operations() {
				ops = append(ops, Operation{
					Spec:        s.file,
					Method:      strings.ToUpper(method),
					Path:        s.prefix + path,
					OperationID: op.OperationID,
				})
			}
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int {
		return strings.Compare(a.Spec+" "+a.Path+" "+a.Method, b.Spec+" "+b.Path+" "+b.Method)
	})
	return ops
}
