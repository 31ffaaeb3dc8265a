package sandbox

import (
	"net/http"
	"strings"

	sailpointapi "github.com/certops/certops/api/sailpoint"
)

// apiVersion is the API flavour a route belongs to; rate limits are kept
// per client and version, and some bodies differ between them.
type apiVersion string

const (
	versionBeta apiVersion = "beta"
	versionV3   apiVersion = "v3"
	versionV1   apiVersion = "v1"
)

// route is one operation of a spec file.
type route struct {
	Method string
	// Path is the path template exactly as in the spec, with the server's
	// prefix ("/v3/certifications/{id}"); it is also the ServeMux pattern.
	Path        string
	OperationID string // as in the spec ("listIdentityCertificationsV1")
	Spec        string // sailpointapi.Beta, V3 or PerService
	Version     apiVersion
	handle      handlerFunc
}

// Operation is the operationId without the per-service "V1" suffix: the
// name faults and stats use, the same across versions.
func (rt *route) Operation() string { return strings.TrimSuffix(rt.OperationID, "V1") }

// routeTable is the whole API: every operation of beta.yaml, v3.yaml and
// per-service-v1.yaml. routes_test.go checks it against the specs.
var routeTable = func() []route {
	rs := []route{
		{http.MethodGet, "/beta/certifications", "listCertifications", sailpointapi.Beta, versionBeta, (*Sandbox).listCertificationsBeta},
		{http.MethodGet, "/beta/certifications/{id}/reviewers", "listCertificationReviewers", sailpointapi.Beta, versionBeta, (*Sandbox).listReviewers},
		{http.MethodGet, "/beta/certifications/{certificationId}/access-review-items/{itemId}/permissions", "getIdentityCertificationItemPermissions", sailpointapi.Beta, versionBeta, (*Sandbox).listPermissions},
		{http.MethodGet, "/beta/certifications/{id}/tasks-pending", "getIdentityCertificationPendingTasks", sailpointapi.Beta, versionBeta, (*Sandbox).listPendingTasksBeta},
		{http.MethodGet, "/beta/certifications/{id}/tasks/{taskId}", "getIdentityCertificationTaskStatus", sailpointapi.Beta, versionBeta, (*Sandbox).getTaskBeta},
		{http.MethodPost, "/beta/certifications/{id}/reassign-async", "submitReassignCertsAsync", sailpointapi.Beta, versionBeta, (*Sandbox).reassignAsync},
	}
	// v3 and per-service v1 are the same operations under two prefixes.
	for _, op := range []struct {
		method, v3, v1, id string
		h                  handlerFunc
	}{
		{http.MethodGet, "/v3/certifications", "/certifications/v1", "listIdentityCertifications", (*Sandbox).listCertifications},
		{http.MethodGet, "/v3/certifications/{id}", "/certifications/v1/{id}", "getIdentityCertification", (*Sandbox).getCertification},
		{http.MethodGet, "/v3/certifications/{id}/access-review-items", "/certifications/v1/{id}/access-review-items", "listIdentityAccessReviewItems", (*Sandbox).listItems},
		{http.MethodGet, "/v3/certifications/{id}/reviewers", "/certifications/v1/{id}/reviewers", "listCertificationReviewers", (*Sandbox).listReviewers},
		{http.MethodGet, "/v3/certifications/{certificationId}/access-review-items/{itemId}/permissions", "/certifications/v1/{certificationId}/access-review-items/{itemId}/permissions", "getIdentityCertificationItemPermissions", (*Sandbox).listPermissions},
		{http.MethodPost, "/v3/certifications/{id}/decide", "/certifications/v1/{id}/decide", "makeIdentityDecision", (*Sandbox).decide},
		{http.MethodPost, "/v3/certifications/{id}/reassign", "/certifications/v1/{id}/reassign", "reassignIdentityCertifications", (*Sandbox).reassignSync},
		{http.MethodPost, "/v3/certifications/{id}/reassign-async", "/certifications/v1/{id}/reassign-async", "submitReassignCertsAsync", (*Sandbox).reassignAsync},
		{http.MethodPost, "/v3/certifications/{id}/sign-off", "/certifications/v1/{id}/sign-off", "signOffIdentityCertification", (*Sandbox).signOff},
		{http.MethodGet, "/v3/certification-tasks", "/certification-tasks/v1", "getPendingCertificationTasks", (*Sandbox).listPendingTasks},
		{http.MethodGet, "/v3/certification-tasks/{id}", "/certification-tasks/v1/{id}", "getCertificationTask", (*Sandbox).getTask},
		{http.MethodGet, "/v3/public-identities", "/public-identities/v1", "getPublicIdentities", (*Sandbox).listPublicIdentities},
	} {
		rs = append(rs,
			route{op.method, op.v3, op.id, sailpointapi.V3, versionV3, op.h},
			route{op.method, op.v1, op.id + "V1", sailpointapi.PerService, versionV1, op.h})
	}
	return rs
}()

// Routes outside the specs.
const (
	tokenPath     = "/oauth/token"
	authorizePath = "/oauth/authorize"
	loginPath     = "/oauth/login"
	infoPath      = "/oauth/info"
	controlPrefix = "/_sandbox/"
	statsPath     = "/_sandbox/stats"
	faultsPath    = "/_sandbox/faults"
	latencyPath   = "/_sandbox/latency"
	clientsPath   = "/_sandbox/clients"
	decisionsPath = "/_sandbox/decisions"
	reassignPath  = "/_sandbox/reassignments"
	peoplePath    = "/_sandbox/people"
	oauthClients  = "/_sandbox/oauth-clients"
	healthPath    = "/_sandbox/healthz"
)

func (s *Sandbox) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for i := range routeTable {
		rt := &routeTable[i]
		mux.Handle(rt.Method+" "+rt.Path, s.api(rt))
	}
	mux.HandleFunc("POST "+tokenPath, s.handleToken)
	mux.HandleFunc("GET "+authorizePath, s.handleAuthorize)
	mux.HandleFunc("POST "+loginPath, s.handleLogin)
	mux.HandleFunc("GET "+infoPath, s.handleInfo)
	mux.HandleFunc("GET "+statsPath, s.handleStats)
	mux.HandleFunc("DELETE "+statsPath, s.handleResetStats)
	mux.HandleFunc("POST "+faultsPath, s.handleFaults)
	mux.HandleFunc("GET "+faultsPath, s.handleListFaults)
	mux.HandleFunc("DELETE "+faultsPath, s.handleClearFaults)
	mux.HandleFunc("POST "+latencyPath, s.handleLatency)
	mux.HandleFunc("GET "+clientsPath, s.handleClients)
	mux.HandleFunc("GET "+decisionsPath, s.handleDecisions)
	mux.HandleFunc("GET "+reassignPath, s.handleReassignments)
	mux.HandleFunc("GET "+peoplePath, s.handlePeople)
	mux.HandleFunc("GET "+oauthClients, s.handleOAuthClients)
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// Anything else: ISC's 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no operation "+r.Method+" "+r.URL.Path))
	})
	return mux
}

// Route describes one operation the sandbox serves.
type Route struct {
	Method, Path, OperationID, Spec string
}

// Routes lists the API the sandbox serves (the route table), for tests
// and documentation.
func Routes() []Route {
	out := make([]Route, len(routeTable))
	for i, r := range routeTable {
		out[i] = Route{Method: r.Method, Path: r.Path, OperationID: r.OperationID, Spec: r.Spec}
	}
	return out
}
