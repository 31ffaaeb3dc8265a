package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustomizetypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/tools"
)

// The Secrets the base expects an operator to create, and the keys it reads
// from each (keys are named after the variables they fill).
var externalSecrets = map[string][]string{
	"certops-sailpoint":  {"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"},
	"certops-slack":      {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"},
	"certops-database":   {"DATABASE_URL"},
	"certops-mcp-tokens": {"tokens"},
}

// rotatingSecrets are the secrets certops re-reads from their files while
// it runs (internal/secret). As environment variables they would be fixed
// until a restart, so the manifests must never set them as variables.
var rotatingSecrets = []string{"SAIL_CLIENT_SECRET", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}

// secretFiles maps each *_FILE variable the manifests may set to the Secret
// and key whose mounted file it must name.
var secretFiles = map[string]struct{ secret, key string }{
	"SAIL_CLIENT_SECRET_FILE":   {"certops-sailpoint", "SAIL_CLIENT_SECRET"},
	"SLACK_BOT_TOKEN_FILE":      {"certops-slack", "SLACK_BOT_TOKEN"},
	"SLACK_SIGNING_SECRET_FILE": {"certops-slack", "SLACK_SIGNING_SECRET"},
	"SLACK_APP_TOKEN_FILE":      {"certops-slack", "SLACK_APP_TOKEN"},
	"DATABASE_URL_FILE":         {"certops-database", "DATABASE_URL"},
	"CERTOPS_MCP_TOKENS_FILE":   {"certops-mcp-tokens", "tokens"},
}

// slackMode is how a rendering runs the Slack bot: HTTP mode (base: the
// signing secret) or Socket Mode (components/socket-mode: the app token).
// Exactly one of the two files is configured, since the bot refuses to
// start on a _FILE variable naming a missing file. slackNone: no bot at all
// (components/without-slack).
type slackMode string

const (
	slackHTTP   slackMode = "SLACK_SIGNING_SECRET_FILE"
	slackSocket slackMode = "SLACK_APP_TOKEN_FILE"
	slackNone   slackMode = ""
)

// siteConfigMap is the optional ConfigMap operators create for their own
// settings (DEPLOY.md).
const siteConfigMap = "certops-site"

// The certops workloads, the binary each runs, the address flag it gets, and
// the longest it takes to drain on SIGTERM (the shutdown timeouts in
// cmd/mcp-server and cmd/slackbot), which terminationGracePeriodSeconds must
// leave room for.
var certopsWorkloads = map[string]struct {
	binary, addrFlag string
	port             int32
	shutdownGrace    int64
}{
	"certops-mcp-server": {binary: "mcp-server", addrFlag: "--http", port: 8080, shutdownGrace: 10},
	"certops-slackbot":   {binary: "slackbot", addrFlag: "--addr", port: 3000, shutdownGrace: 10 + 60},
}

// The emulated tenant of components/sandbox, and the migration Job template
// of base.
const (
	sandboxWorkload = "certops-sandbox"
	migrateCronJob  = "certops-migrate"
	// sandboxToken is the MCP bearer token components/sandbox accepts (its
	// mcp-tokens.yaml holds the hash), which DEPLOY.md gives trial users.
	sandboxToken = "certops-trial-token"
)

// rendering is a kustomization certops ships, or base with components the
// test composes over it, and what it must be.
type rendering struct {
	name string
	// dir is the kustomization, under manifests/; empty for base with
	// components (under manifests/components) added.
	dir        string
	components []string
	slack      slackMode // how the Slack bot runs; slackNone when there is none
	sandbox    bool      // certops calls the emulated tenant (components/sandbox)
	autoscaled bool      // HPAs own the replica counts (components/autoscaling)
	// namespace is where every object goes; empty leaves it to kubectl -n.
	namespace string
	// selfContained: every Secret the pods read is generated, so nothing
	// needs creating before kubectl apply.
	selfContained bool
}

// shipped are the kustomizations the docs apply.
var shipped = []rendering{
	{name: "base", dir: "base", slack: slackHTTP},
	{name: "overlays/trial", dir: "overlays/trial", sandbox: true, namespace: "certops", selfContained: true},
	{name: "overlays/production", dir: "overlays/production", slack: slackHTTP, namespace: "certops"},
}

// composed are base with each component alone, and combinations that must
// work together.
var composed = []rendering{
	{name: "socket-mode", components: []string{"socket-mode"}, slack: slackSocket},
	{name: "sandbox", components: []string{"sandbox"}, slack: slackHTTP, sandbox: true},
	{name: "postgres", components: []string{"postgres"}, slack: slackHTTP},
	{name: "without-slack", components: []string{"without-slack"}},
	{name: "autoscaling", components: []string{"autoscaling"}, slack: slackHTTP, autoscaled: true},
	{name: "monitoring", components: []string{"monitoring"}, slack: slackHTTP},
	{name: "ingress", components: []string{"ingress"}, slack: slackHTTP},
	{name: "everything", components: []string{"autoscaling", "monitoring", "ingress", "socket-mode", "sandbox", "postgres"},
		slack: slackSocket, sandbox: true, autoscaled: true},
	{name: "trial, autoscaled", components: []string{"autoscaling", "sandbox", "postgres", "without-slack"},
		sandbox: true, autoscaled: true, selfContained: true},
}

// renderings is every rendering the tests check.
func renderings() []rendering { return append(slices.Clone(shipped), composed...) }

// newObject returns an empty Kubernetes object of the type apiVersion and
// kind name, or false for a kind certops' manifests have no business holding.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}, true
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1/Namespace":
		return &corev1.Namespace{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, true
	case "monitoring.coreos.com/v1/PodMonitor":
		return &podMonitor{}, true
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &prometheusRule{}, true
	}
	return nil, false
}

// podMonitor and prometheusRule hold the fields of the Prometheus
// Operator's monitoring.coreos.com/v1 types (github.com/prometheus-operator/
// prometheus-operator/pkg/apis/monitoring/v1) that components/monitoring
// may use, spelt as there; strict decoding refuses any other, so a typo
// fails here rather than in the cluster. (The operator's own module would
// bring controller-runtime into go.mod for two structs.)
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel            string               `json:"jobLabel,omitempty"`
		PodTargetLabels     []string             `json:"podTargetLabels,omitempty"`
		Selector            metav1.LabelSelector `json:"selector"`
		NamespaceSelector   *namespaceSelector   `json:"namespaceSelector,omitempty"`
		PodMetricsEndpoints []struct {
			Port          string `json:"port,omitempty"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
			HonorLabels   bool   `json:"honorLabels,omitempty"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

type namespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []struct {
				Alert         string            `json:"alert,omitempty"`
				Record        string            `json:"record,omitempty"`
				Expr          string            `json:"expr"`
				For           string            `json:"for,omitempty"`
				KeepFiringFor string            `json:"keep_firing_for,omitempty"`
				Labels        map[string]string `json:"labels,omitempty"`
				Annotations   map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// decodeStrict decodes one YAML document into its Kubernetes API type the
// way the API server's strict field validation does: YAML to JSON, then
// sigs.k8s.io/json refusing unknown, duplicated and wrongly cased fields, so
// that a typo such as `replica: 2` or `readOnlyRootFileSystem` fails instead
// of being dropped. (encoding/json, under sigs.k8s.io/yaml's UnmarshalStrict,
// matches field names case-insensitively and would let the second through.)
func decodeStrict(doc []byte) (any, error) {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(j, &tm); err != nil {
		return nil, err
	}
	obj, ok := newObject(tm.APIVersion, tm.Kind)
	if !ok {
		return nil, fmt.Errorf("unexpected kind %s %s", tm.APIVersion, tm.Kind)
	}
	return obj, strictJSON(j, obj)
}

// strictJSON decodes JSON into v refusing unknown, duplicated and wrongly
// cased fields.
func strictJSON(j []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(j, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// splitDocuments splits a YAML stream at its --- separators, dropping
// documents that hold only comments.
func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if string(bytes.TrimSpace(j)) != "null" {
			docs = append(docs, doc)
		}
	}
}

// objects are decoded manifests sorted by kind.
type objects struct {
	all             []metav1.Object
	deployments     []*appsv1.Deployment
	statefulSets    []*appsv1.StatefulSet
	cronJobs        []*batchv1.CronJob
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	serviceAccounts []*corev1.ServiceAccount
	namespaces      []*corev1.Namespace
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	ingresses       []*networkingv1.Ingress
	podMonitors     []*podMonitor
	prometheusRules []*prometheusRule
}

func (o *objects) add(obj any) {
	o.all = append(o.all, obj.(metav1.Object))
	switch v := obj.(type) {
	case *appsv1.Deployment:
		o.deployments = append(o.deployments, v)
	case *appsv1.StatefulSet:
		o.statefulSets = append(o.statefulSets, v)
	case *batchv1.CronJob:
		o.cronJobs = append(o.cronJobs, v)
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.hpas = append(o.hpas, v)
	case *corev1.Service:
		o.services = append(o.services, v)
	case *corev1.ConfigMap:
		o.configMaps = append(o.configMaps, v)
	case *corev1.Secret:
		o.secrets = append(o.secrets, v)
	case *corev1.ServiceAccount:
		o.serviceAccounts = append(o.serviceAccounts, v)
	case *corev1.Namespace:
		o.namespaces = append(o.namespaces, v)
	case *policyv1.PodDisruptionBudget:
		o.pdbs = append(o.pdbs, v)
	case *networkingv1.NetworkPolicy:
		o.netpols = append(o.netpols, v)
	case *networkingv1.Ingress:
		o.ingresses = append(o.ingresses, v)
	case *podMonitor:
		o.podMonitors = append(o.podMonitors, v)
	case *prometheusRule:
		o.prometheusRules = append(o.prometheusRules, v)
	}
}

// workload is a Deployment's, StatefulSet's or CronJob's pods, for checks
// that hold for all.
type workload struct {
	kind, name string
	replicas   int32
	selector   *metav1.LabelSelector
	template   corev1.PodTemplateSpec
}

func (o objects) workloads() []workload {
	var ws []workload
	for _, d := range o.deployments {
		ws = append(ws, workload{"Deployment", d.Name, ptrValue(d.Spec.Replicas, 1), d.Spec.Selector, d.Spec.Template})
	}
	for _, s := range o.statefulSets {
		ws = append(ws, workload{"StatefulSet", s.Name, ptrValue(s.Spec.Replicas, 1), s.Spec.Selector, s.Spec.Template})
	}
	for _, c := range o.cronJobs {
		ws = append(ws, workload{"CronJob", c.Name, 1, nil, c.Spec.JobTemplate.Spec.Template})
	}
	return ws
}

func (o objects) deployment(name string) *appsv1.Deployment { return named(o.deployments, name) }
func (o objects) cronJob(name string) *batchv1.CronJob      { return named(o.cronJobs, name) }
func (o objects) service(name string) *corev1.Service       { return named(o.services, name) }
func (o objects) secret(name string) *corev1.Secret         { return named(o.secrets, name) }

// named is the object of list called name, or nil.
func named[T metav1.Object](list []T, name string) T {
	for _, obj := range list {
		if obj.GetName() == name {
			return obj
		}
	}
	var none T
	return none
}

// config is the rendering's certops-config (generated, so hash-suffixed).
func (o objects) config(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	var found []*corev1.ConfigMap
	for _, cm := range o.configMaps {
		if generatedFrom(cm.Name) == "certops-config" {
			found = append(found, cm)
		}
	}
	require.Len(t, found, 1, "certops-config")
	return found[0]
}

// hashSuffix is what kustomize appends to a generated object's name.
var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

// generatedFrom is the name a generated object was given in its generator.
func generatedFrom(name string) string { return hashSuffix.ReplaceAllString(name, "") }

// resolver maps a Secret or ConfigMap name, as base writes it, to its name
// in the rendering: generators add a hash of the content.
func (o objects) resolver() func(string) string {
	names := map[string]string{}
	for _, s := range o.secrets {
		names[generatedFrom(s.Name)] = s.Name
	}
	for _, cm := range o.configMaps {
		names[generatedFrom(cm.Name)] = cm.Name
	}
	return func(name string) string {
		if n, ok := names[name]; ok {
			return n
		}
		return name
	}
}

func ptrValue[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// selects reports whether sel picks pods labelled podLabels.
func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err)
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

// render builds a kustomization as kubectl apply -k would and decodes every
// object it produces strictly.
func render(t *testing.T, dir string) objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	out, err := m.AsYaml()
	require.NoError(t, err)
	docs, err := splitDocuments(out)
	require.NoError(t, err)
	var o objects
	for _, doc := range docs {
		obj, err := decodeStrict(doc)
		require.NoError(t, err, "rendered object:\n%s", doc)
		o.add(obj)
	}
	return o
}

// renderRendering renders r: its directory, or, for components, an overlay
// written into a copy of manifests/ that adds them to base.
func renderRendering(t *testing.T, r rendering) objects {
	t.Helper()
	if r.dir != "" {
		return render(t, filepath.Join(manifestsDir(t), r.dir))
	}
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(manifestsDir(t))))
	overlay := filepath.Join(dir, "overlays", "composed-by-test")
	require.NoError(t, os.MkdirAll(overlay, 0o755))
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\ncomponents:\n"
	for _, c := range r.components {
		k += "  - ../../components/" + c + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644))
	return render(t, overlay)
}

func manifestsDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "manifests")
}

// generatorInputs lists the files kustomizations turn into Secrets and
// ConfigMaps (files: and envs: of their generators), which are not
// Kubernetes objects.
func generatorInputs(t *testing.T, kustomization string) []string {
	t.Helper()
	data, err := os.ReadFile(kustomization)
	require.NoError(t, err)
	var k kustomizetypes.Kustomization
	require.NoError(t, yaml.Unmarshal(data, &k))
	var args []kustomizetypes.GeneratorArgs
	for _, g := range k.SecretGenerator {
		args = append(args, g.GeneratorArgs)
	}
	for _, g := range k.ConfigMapGenerator {
		args = append(args, g.GeneratorArgs)
	}
	var files []string
	for _, a := range args {
		for _, f := range a.FileSources {
			_, path, ok := strings.Cut(f, "=")
			if !ok {
				path = f
			}
			files = append(files, filepath.Join(filepath.Dir(kustomization), path))
		}
		for _, e := range a.EnvSources {
			files = append(files, filepath.Join(filepath.Dir(kustomization), e))
		}
	}
	return files
}

// TestManifestFilesDecodeStrictly reads every YAML file under manifests/base,
// components and overlays: kustomization files into kustomize's own type,
// every other document into its Kubernetes API type, all refusing unknown
// fields. Generators' inputs are checked where they are used.
func TestManifestFilesDecodeStrictly(t *testing.T) {
	t.Parallel()
	var files, inputs []string
	for _, sub := range []string{"base", "components", "overlays"} {
		err := filepath.WalkDir(filepath.Join(manifestsDir(t), sub), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			if err == nil && d.Name() == "kustomization.yaml" {
				inputs = append(inputs, generatorInputs(t, path)...)
			}
			return err
		})
		require.NoError(t, err)
	}
	require.NotEmpty(t, files)
	for _, path := range files {
		if slices.Contains(inputs, path) {
			continue
		}
		rel, _ := filepath.Rel(manifestsDir(t), path)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			if filepath.Base(path) == "kustomization.yaml" {
				var k kustomizetypes.Kustomization
				j, err := yaml.YAMLToJSONStrict(data)
				require.NoError(t, err)
				require.NoError(t, strictJSON(j, &k))
				// A Component is a kustomization meant to be added to
				// others (components/*), and only there.
				want := "Kustomization"
				if strings.HasPrefix(rel, "components"+string(filepath.Separator)) {
					want = "Component"
				}
				assert.Equal(t, want, k.Kind)
				return
			}
			docs, err := splitDocuments(data)
			require.NoError(t, err)
			require.NotEmpty(t, docs)
			for i, doc := range docs {
				_, err := decodeStrict(doc)
				assert.NoError(t, err, "document %d", i+1)
			}
		})
	}
}

// TestDecodeStrictRefusesMistakes shows the strict decoding has teeth.
func TestDecodeStrictRefusesMistakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc string }{
		{"misspelt field", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"},
		{"field at the wrong level", "apiVersion: v1\nkind: Service\nspec:\n  ports:\n    - port: 80\n      selector: {}\n"},
		{"wrong case", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          securityContext:\n            readOnlyRootFileSystem: true\n"},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\ndata:\n  A: x\ndata:\n  B: y\n"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: two\n"},
		{"unknown kind", "apiVersion: v1\nkind: Pod\n"},
		{"PodMonitor typo", "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nspec:\n  podMetricEndpoints: []\n"},
		{"PrometheusRule typo", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n    - name: x\n      rules:\n        - alert: A\n          expression: up\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict([]byte(tc.doc))
			assert.Error(t, err)
		})
	}
}

// TestComponentsAreTested makes sure every component under
// manifests/components is rendered over base on its own.
func TestComponentsAreTested(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join(manifestsDir(t), "components"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		alone := slices.ContainsFunc(composed, func(r rendering) bool { return slices.Equal(r.components, []string{e.Name()}) })
		assert.True(t, alone, "components/%s: add it to composed, alone over base", e.Name())
	}
}

// TestRenderings renders every kustomization certops ships and every
// component over base, and checks each against what must hold wherever
// certops is deployed.
func TestRenderings(t *testing.T) {
	t.Parallel()
	for _, r := range renderings() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			checkCertops(t, renderRendering(t, r), r)
		})
	}
}

func TestBaseManifests(t *testing.T) {
	t.Parallel()
	o := render(t, filepath.Join(manifestsDir(t), "base"))
	assert.Empty(t, o.secrets, "the base must only reference Secrets, never carry them")
	assert.Empty(t, o.namespaces, "the base leaves the namespace to overlays and kubectl -n")
}

// checkNamespace asserts every object of o is in ns, and that o creates ns
// under the restricted Pod Security Standard.
func checkNamespace(t *testing.T, o objects, ns string) {
	t.Helper()
	for _, obj := range o.all {
		if _, isNS := obj.(*corev1.Namespace); isNS {
			continue
		}
		assert.Equal(t, ns, obj.GetNamespace(), "%T %s", obj, obj.GetName())
	}
	require.Len(t, o.namespaces, 1)
	assert.Equal(t, ns, o.namespaces[0].Name)
	assert.Equal(t, "restricted", o.namespaces[0].Labels["pod-security.kubernetes.io/enforce"])
}

// TestTrialOverlay checks what a trial needs beyond checkCertops: one
// namespace, port-forwarding, and a PostgreSQL only certops reaches.
func TestTrialOverlay(t *testing.T) {
	t.Parallel()
	o := render(t, filepath.Join(manifestsDir(t), "overlays", "trial"))
	resolve := o.resolver()

	t.Run("everything in the certops namespace", func(t *testing.T) {
		checkNamespace(t, o, "certops")
	})

	t.Run("port-forward reaches the MCP server", func(t *testing.T) {
		cm := o.config(t)
		hosts := strings.Split(cm.Data["CERTOPS_MCP_ALLOWED_HOSTS"], ",")
		assert.Contains(t, hosts, "localhost")
		assert.Contains(t, hosts, "certops-mcp-server")
		assert.Equal(t, "v3", cm.Data["SAIL_API_VERSION"], "base settings kept by the merge")
	})

	t.Run("single PostgreSQL", func(t *testing.T) {
		db := o.secret(resolve("certops-database"))
		require.NotNil(t, db, "components/postgres generates certops-database")
		require.Len(t, o.statefulSets, 1)
		pg := o.statefulSets[0]
		assert.Equal(t, int32(1), ptrValue(pg.Spec.Replicas, 1))
		require.Len(t, pg.Spec.VolumeClaimTemplates, 1, "data on a PersistentVolume")
		svc := serviceFor(t, o, pg.Spec.Template.Labels)
		require.NotNil(t, svc, "a Service selects the PostgreSQL pod")
		assert.Equal(t, svc.Name, pg.Spec.ServiceName)

		c := pg.Spec.Template.Spec.Containers[0]
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		require.NotNil(t, env["POSTGRES_PASSWORD"].ValueFrom, "the password comes from the Secret")
		assert.Equal(t, db.Name, env["POSTGRES_PASSWORD"].ValueFrom.SecretKeyRef.Name)

		u, err := url.Parse(string(db.Data["DATABASE_URL"]))
		require.NoError(t, err)
		assert.Equal(t, svc.Name, u.Hostname(), "DATABASE_URL names the PostgreSQL Service")
		assert.Equal(t, strconv.Itoa(int(svc.Spec.Ports[0].Port)), u.Port())
		assert.Equal(t, env["POSTGRES_USER"].Value, u.User.Username())
		pw, _ := u.User.Password()
		assert.NotEmpty(t, pw)
		assert.Equal(t, string(db.Data["POSTGRES_PASSWORD"]), pw)
		assert.Equal(t, "/"+env["POSTGRES_DB"].Value, u.Path)
	})

	t.Run("only certops reaches PostgreSQL", func(t *testing.T) {
		require.Len(t, o.statefulSets, 1)
		pg := o.statefulSets[0]
		var policies []*networkingv1.NetworkPolicy
		for _, np := range o.netpols {
			if selects(t, &np.Spec.PodSelector, pg.Spec.Template.Labels) {
				policies = append(policies, np)
			}
		}
		require.Len(t, policies, 1)
		np := policies[0]
		assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)
		assert.Empty(t, np.Spec.Egress, "PostgreSQL connects nowhere")
		require.Len(t, np.Spec.Ingress, 1)
		rule := np.Spec.Ingress[0]
		assert.Equal(t, []string{"TCP/5432"}, policyPorts(rule.Ports))
		require.NotEmpty(t, rule.From, "ingress limited to certops pods")
		for _, w := range o.workloads() {
			if w.name == pg.Name || w.name == sandboxWorkload {
				continue
			}
			allowed := false
			for _, peer := range rule.From {
				allowed = allowed || (peer.PodSelector != nil && selects(t, peer.PodSelector, w.template.Labels))
			}
			assert.True(t, allowed, "%s may connect to PostgreSQL", w.name)
		}
	})
}

// TestProductionOverlay checks the published names: the MCP host is one
// the server accepts, and the Slack host the one the Slack app manifest
// sends requests to.
func TestProductionOverlay(t *testing.T) {
	t.Parallel()
	o := render(t, filepath.Join(manifestsDir(t), "overlays", "production"))
	checkNamespace(t, o, "certops")
	for _, s := range o.secrets {
		t.Errorf("production generates Secret %s: its Secrets are created by the operator (DEPLOY.md)", s.Name)
	}

	require.Len(t, o.ingresses, 1)
	hosts := map[string]string{} // Service → host
	for _, rule := range o.ingresses[0].Spec.Rules {
		require.NotNil(t, rule.HTTP)
		for _, p := range rule.HTTP.Paths {
			hosts[p.Backend.Service.Name] = rule.Host
		}
	}
	allowed := strings.Split(o.config(t).Data["CERTOPS_MCP_ALLOWED_HOSTS"], ",")
	assert.Contains(t, allowed, hosts["certops-mcp-server"], "the public MCP host is in CERTOPS_MCP_ALLOWED_HOSTS")
	assert.Contains(t, allowed, "certops-mcp-server", "the in-cluster name too")

	app, err := os.ReadFile(filepath.Join(manifestsDir(t), "slack-app.yaml"))
	require.NoError(t, err)
	urls := regexp.MustCompile(`(?m)^\s*(?:url|request_url): (\S+)`).FindAllStringSubmatch(string(app), -1)
	require.NotEmpty(t, urls, "slack-app.yaml has request URLs")
	for _, m := range urls {
		u, err := url.Parse(m[1])
		require.NoError(t, err)
		assert.Equal(t, hosts["certops-slackbot"], u.Host, "slack-app.yaml's %s goes to the Slack bot's public host", m[1])
		assert.True(t, strings.HasPrefix(u.Path, "/slack/"), "%s is under /slack/, which the Ingress publishes", m[1])
	}
}

// checkCertops asserts what must hold wherever certops is deployed, in
// every rendering r, and what r's components promise.
func checkCertops(t *testing.T, o objects, r rendering) {
	resolve := o.resolver()
	mode := r.slack
	expected := func(name string) bool { return name != "certops-slackbot" || mode != slackNone }

	t.Run("mcp-server and slackbot, two replicas each", func(t *testing.T) {
		for name := range certopsWorkloads {
			d := o.deployment(name)
			if !expected(name) {
				assert.Nil(t, d, "Deployment %s in a rendering without Slack", name)
				for _, obj := range o.all {
					assert.NotEqual(t, name, obj.GetName(), "%T %s left behind without its Deployment", obj, name)
				}
				continue
			}
			if !assert.NotNil(t, d, "Deployment %s", name) {
				continue
			}
			if r.autoscaled {
				assert.Nil(t, d.Spec.Replicas, "%s: the HPA owns the replica count, so kubectl apply must not reset it", name)
				continue
			}
			assert.Equal(t, int32(2), ptrValue(d.Spec.Replicas, 1), name)
		}
	})

	t.Run("secrets referenced by name", func(t *testing.T) {
		for _, w := range o.workloads() {
			for name, keys := range secretRefs(w.template.Spec) {
				if s := o.secret(name); s != nil {
					for _, k := range keys {
						assert.Contains(t, s.Data, k, "%s reads %s from %s", w.name, k, name)
					}
					continue
				}
				assert.False(t, r.selfContained, "%s reads Secret %s, which is not generated: the rendering should need nothing created first", w.name, name)
				want, known := externalSecrets[name]
				if assert.True(t, known, "%s references Secret %q, neither generated nor documented", w.name, name) {
					assert.Subset(t, want, keys, "%s reads keys of %s", w.name, name)
				}
			}
		}
	})

	t.Run("one image", func(t *testing.T) {
		images := map[string][]string{}
		for _, w := range o.workloads() {
			for _, c := range w.template.Spec.Containers {
				if len(c.Command) > 0 && strings.HasPrefix(c.Command[0], binDir) {
					images[c.Image] = append(images[c.Image], w.name)
				}
			}
		}
		assert.Len(t, images, 1, "every certops binary runs from the same image: %v", images)
	})

	for name, want := range certopsWorkloads {
		d := o.deployment(name)
		if d == nil {
			continue
		}
		pod := d.Spec.Template
		t.Run(name, func(t *testing.T) {
			assert.True(t, selects(t, d.Spec.Selector, pod.Labels), "the selector picks the template's pods")
			require.Len(t, pod.Spec.Containers, 1)
			c := pod.Spec.Containers[0]
			http := containerPort(c, "http")
			require.NotNil(t, http, "container port named http")

			t.Run("runs its binary from the image", func(t *testing.T) {
				assert.Equal(t, []string{binDir + want.binary}, c.Command)
				assert.Contains(t, binaries, want.binary)
				assert.Equal(t, "--"+listenFlag[want.binary], want.addrFlag, "the flag TestImageBinariesAreStatic finds in the binary")
				assert.Equal(t, []string{want.addrFlag, "0.0.0.0:" + strconv.Itoa(int(want.port))}, c.Args)
				assert.Equal(t, want.port, http.ContainerPort, "listens where the port says")
			})
			t.Run("probes", func(t *testing.T) {
				for probe, path := range map[string]struct {
					p    *corev1.Probe
					path string
				}{
					"startup":   {c.StartupProbe, "/healthz"},
					"liveness":  {c.LivenessProbe, "/healthz"},
					"readiness": {c.ReadinessProbe, "/readyz"},
				} {
					if assert.NotNil(t, path.p, "%s probe", probe) && assert.NotNil(t, path.p.HTTPGet, "%s probe is HTTP", probe) {
						assert.Equal(t, path.path, path.p.HTTPGet.Path, "%s probe", probe)
						assert.Equal(t, "http", path.p.HTTPGet.Port.String(), "%s probe port", probe)
					}
				}
			})
			t.Run("restricted security context", func(t *testing.T) {
				checkRestricted(t, pod.Spec, 65532)
				user, _, _ := strings.Cut(nonRootUser, ":")
				assert.Equal(t, user, strconv.Itoa(int(ptrValue(c.SecurityContext.RunAsUser, 0))), "the image's USER")
				assert.False(t, ptrValue(pod.Spec.AutomountServiceAccountToken, true), "no Kubernetes API token mounted")
			})
			t.Run("resources", func(t *testing.T) {
				checkResources(t, c)
			})
			t.Run("writable /tmp only", func(t *testing.T) {
				vol := mountedVolume(pod.Spec, c, "/tmp")
				if assert.NotNil(t, vol, "/tmp is mounted") {
					assert.NotNil(t, vol.EmptyDir, "/tmp is an emptyDir")
				}
			})
			t.Run("graceful termination", func(t *testing.T) {
				var preStop int64
				if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
					preStop = c.Lifecycle.PreStop.Sleep.Seconds
				}
				assert.Greater(t, ptrValue(pod.Spec.TerminationGracePeriodSeconds, 30), want.shutdownGrace+preStop,
					"terminationGracePeriodSeconds leaves room for the preStop pause and the app's own grace")
				if d.Spec.Strategy.RollingUpdate != nil {
					assert.Equal(t, "0", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String(), "rolling updates keep every replica serving")
				}
			})
			t.Run("spread across nodes", func(t *testing.T) {
				spread := false
				for _, tsc := range pod.Spec.TopologySpreadConstraints {
					if tsc.TopologyKey == "kubernetes.io/hostname" && selects(t, tsc.LabelSelector, pod.Labels) {
						spread = true
					}
				}
				assert.True(t, spread, "a topology spread constraint on kubernetes.io/hostname over its own pods")
			})
			t.Run("prometheus scrape annotations", func(t *testing.T) {
				assert.Equal(t, "true", pod.Annotations["prometheus.io/scrape"])
				assert.Equal(t, "/metrics", pod.Annotations["prometheus.io/path"])
				assert.Equal(t, strconv.Itoa(int(http.ContainerPort)), pod.Annotations["prometheus.io/port"])
			})
			t.Run("settings from the ConfigMap and Secrets", func(t *testing.T) {
				for _, ef := range c.EnvFrom {
					if ef.ConfigMapRef == nil {
						continue
					}
					if ef.ConfigMapRef.Name == siteConfigMap {
						assert.True(t, ptrValue(ef.ConfigMapRef.Optional, false), "%s is optional", siteConfigMap)
						continue
					}
					assert.True(t, slices.ContainsFunc(o.configMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == ef.ConfigMapRef.Name }),
						"ConfigMap %s exists", ef.ConfigMapRef.Name)
				}
				if n := len(c.EnvFrom); assert.NotZero(t, n) && c.EnvFrom[n-1].ConfigMapRef != nil {
					assert.Equal(t, siteConfigMap, c.EnvFrom[n-1].ConfigMapRef.Name, "the site's settings come last, so they win")
				}
				env := map[string]corev1.EnvVar{}
				for _, e := range c.Env {
					env[e.Name] = e
				}
				// Not secret, read once: plain variables from the Secret.
				for _, name := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID"} {
					e := env[name]
					if assert.NotNil(t, e.ValueFrom, "%s comes from a Secret", name) && assert.NotNil(t, e.ValueFrom.SecretKeyRef, name) {
						assert.Equal(t, resolve("certops-sailpoint"), e.ValueFrom.SecretKeyRef.Name, name)
						assert.Equal(t, name, e.ValueFrom.SecretKeyRef.Key, "the key is named after the variable")
						assert.False(t, ptrValue(e.ValueFrom.SecretKeyRef.Optional, false),
							"%s is required: a missing key must stop the pod, not start it half-configured", name)
					}
				}
				for _, e := range c.Env {
					assert.False(t, looksSecret(e.Name), "%s is a secret in the environment: secrets come as files (NAME_FILE)", e.Name)
				}
			})
			t.Run("secrets as files", func(t *testing.T) {
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
				for _, ef := range c.EnvFrom {
					assert.Nil(t, ef.SecretRef, "envFrom a Secret would put its secrets in the environment")
				}
				for _, name := range rotatingSecrets {
					_, set := env[name]
					assert.False(t, set, "%s is a variable: a rotation would need a restart; set %s_FILE", name, name)
					for _, cm := range o.configMaps {
						assert.NotContains(t, cm.Data, name, "ConfigMap %s holds a secret", cm.Name)
					}
				}
				required := []string{"SAIL_CLIENT_SECRET_FILE", "DATABASE_URL_FILE"}
				switch want.binary {
				case "mcp-server":
					required = append(required, "CERTOPS_MCP_TOKENS_FILE")
				case "slackbot":
					required = append(required, "SLACK_BOT_TOKEN_FILE", string(mode))
					other := slackSocket
					if mode == slackSocket {
						other = slackHTTP
					}
					_, set := env[string(other)]
					assert.False(t, set, "both %s and %s set: a rendering runs the bot in one mode, and the bot fails to start when either key is missing", mode, other)
				}
				for _, name := range required {
					assert.NotEmpty(t, env[name], "%s is set", name)
				}
				for name, path := range env {
					if !strings.HasSuffix(name, "_FILE") {
						continue
					}
					plain := strings.TrimSuffix(name, "_FILE")
					_, both := env[plain]
					assert.False(t, both, "%s and %s both set: the binary refuses to start", plain, name)
					for _, cm := range o.configMaps {
						assert.NotContains(t, cm.Data, plain, "ConfigMap %s sets %s beside %s", cm.Name, plain, name)
					}
					checkSecretFile(t, pod.Spec, c, name, path, resolve)
				}
			})
			t.Run("service account", func(t *testing.T) {
				assert.True(t, slices.ContainsFunc(o.serviceAccounts, func(sa *corev1.ServiceAccount) bool {
					return sa.Name == pod.Spec.ServiceAccountName && !ptrValue(sa.AutomountServiceAccountToken, true)
				}), "ServiceAccount %q exists and mounts no token", pod.Spec.ServiceAccountName)
			})
		})
	}

	t.Run("a PodDisruptionBudget per replicated Deployment", func(t *testing.T) {
		for _, d := range o.deployments {
			var matching []*policyv1.PodDisruptionBudget
			for _, pdb := range o.pdbs {
				if selects(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
					matching = append(matching, pdb)
				}
			}
			if d.Spec.Replicas != nil && *d.Spec.Replicas == 1 {
				// minAvailable 1 of 1 would block every node drain.
				assert.Empty(t, matching, "PDBs over %s, which has one replica", d.Name)
				continue
			}
			if assert.Len(t, matching, 1, "PDBs over %s", d.Name) {
				assert.Equal(t, "1", matching[0].Spec.MinAvailable.String())
			}
		}
		for _, pdb := range o.pdbs {
			n := 0
			for _, w := range o.workloads() {
				if selects(t, pdb.Spec.Selector, w.template.Labels) {
					n++
				}
			}
			assert.Equal(t, 1, n, "PDB %s covers exactly one workload", pdb.Name)
		}
	})

	t.Run("services select existing pods and ports", func(t *testing.T) {
		for _, svc := range o.services {
			var targets []workload
			for _, w := range o.workloads() {
				if selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, w.template.Labels) {
					targets = append(targets, w)
				}
			}
			require.Len(t, targets, 1, "Service %s selects exactly one workload's pods", svc.Name)
			for _, p := range svc.Spec.Ports {
				found := false
				for _, c := range targets[0].template.Spec.Containers {
					for _, cp := range c.Ports {
						found = found || cp.Name == p.TargetPort.String() || strconv.Itoa(int(cp.ContainerPort)) == p.TargetPort.String()
					}
				}
				assert.True(t, found, "Service %s targets port %s, which %s does not have", svc.Name, p.TargetPort.String(), targets[0].name)
			}
		}
		for name := range certopsWorkloads {
			d := o.deployment(name)
			if d != nil {
				assert.NotNil(t, serviceFor(t, o, d.Spec.Template.Labels), "a Service in front of %s", name)
			}
		}
	})

	t.Run("network policies", func(t *testing.T) {
		for name := range certopsWorkloads {
			d := o.deployment(name)
			if d == nil {
				continue
			}
			pod := d.Spec.Template
			var ingress, egress []string
			isolatedIn, isolatedOut := false, false
			for _, np := range o.netpols {
				if !selects(t, &np.Spec.PodSelector, pod.Labels) {
					continue
				}
				isolatedIn = isolatedIn || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
				isolatedOut = isolatedOut || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
				for _, r := range np.Spec.Ingress {
					require.NotEmpty(t, r.Ports, "%s: an ingress rule without ports opens every port", np.Name)
					ingress = append(ingress, policyPorts(r.Ports)...)
				}
				for _, r := range np.Spec.Egress {
					require.NotEmpty(t, r.Ports, "%s: an egress rule without ports opens every port", np.Name)
					egress = append(egress, policyPorts(r.Ports)...)
				}
			}
			assert.True(t, isolatedIn, "%s: ingress restricted", name)
			assert.True(t, isolatedOut, "%s: egress restricted", name)
			var appPorts []string
			for _, cp := range pod.Spec.Containers[0].Ports {
				appPorts = append(appPorts, "TCP/"+strconv.Itoa(int(cp.ContainerPort)))
			}
			assert.ElementsMatch(t, appPorts, ingress, "%s: in on the app ports only", name)
			wantOut := []string{"UDP/53", "TCP/53", "TCP/443", "TCP/5432"}
			if r.sandbox {
				wantOut = append(wantOut, "TCP/"+strconv.Itoa(int(sandboxPort(t, o))))
			}
			assert.ElementsMatch(t, wantOut, egress, "%s: out to DNS, HTTPS and PostgreSQL only (and the sandbox)", name)
		}
	})

	t.Run("every workload meets the restricted pod security standard", func(t *testing.T) {
		for _, w := range o.workloads() {
			t.Run(w.name, func(t *testing.T) {
				checkRestricted(t, w.template.Spec, -1)
				for _, c := range w.template.Spec.Containers {
					checkResources(t, c)
				}
			})
		}
	})

	t.Run("approvals", func(t *testing.T) {
		if mode == slackNone {
			assert.Equal(t, "false", o.config(t).Data["CERTOPS_REQUIRE_APPROVAL"],
				"without the Slack bot no one can approve, so MCP reassignments must not wait for an approver")
		}
	})
	t.Run("migrations", func(t *testing.T) { checkMigrations(t, o, resolve) })
	t.Run("sandbox", func(t *testing.T) {
		if !r.sandbox {
			assert.Nil(t, o.deployment(sandboxWorkload))
			assert.NotEqual(t, "true", o.config(t).Data["SAIL_ALLOW_HTTP"], "SAIL_ALLOW_HTTP is for the sandbox only")
			return
		}
		checkSandbox(t, o, resolve)
	})
	t.Run("autoscaling", func(t *testing.T) {
		if !r.autoscaled {
			assert.Empty(t, o.hpas)
			return
		}
		checkAutoscaling(t, o)
	})
	if len(o.podMonitors)+len(o.prometheusRules) > 0 {
		t.Run("monitoring", func(t *testing.T) { checkMonitoring(t, o) })
	}
	if len(o.ingresses) > 0 {
		t.Run("ingress", func(t *testing.T) { checkIngress(t, o) })
	}
}

// sandboxPort is the port the sandbox listens on.
func sandboxPort(t *testing.T, o objects) int32 {
	t.Helper()
	d := o.deployment(sandboxWorkload)
	require.NotNil(t, d, "Deployment %s", sandboxWorkload)
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	p := containerPort(d.Spec.Template.Spec.Containers[0], "http")
	require.NotNil(t, p, "%s: container port named http", sandboxWorkload)
	return p.ContainerPort
}

// flagValues reads --name value and --name=value pairs.
func flagValues(args []string) map[string]string {
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if n, v, eq := strings.Cut(name, "="); eq {
			flags[n] = v
		} else if i+1 < len(args) {
			flags[name] = args[i+1]
			i++
		}
	}
	return flags
}

// isolation gathers the NetworkPolicies over pods labelled podLabels.
type isolation struct {
	in, out     bool
	ingress     []networkingv1.NetworkPolicyIngressRule
	egressRules []networkingv1.NetworkPolicyEgressRule
}

func policiesOver(t *testing.T, o objects, podLabels map[string]string) isolation {
	t.Helper()
	var iso isolation
	for _, np := range o.netpols {
		if !selects(t, &np.Spec.PodSelector, podLabels) {
			continue
		}
		iso.in = iso.in || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		iso.out = iso.out || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		iso.ingress = append(iso.ingress, np.Spec.Ingress...)
		iso.egressRules = append(iso.egressRules, np.Spec.Egress...)
	}
	return iso
}

// checkSandbox: the emulated tenant runs from certops' image as one locked
// down replica, certops is pointed at it with its public credentials, and
// the trial's MCP token is the one DEPLOY.md gives, acting for a reviewer
// the tenant has.
func checkSandbox(t *testing.T, o objects, resolve func(string) string) {
	d := o.deployment(sandboxWorkload)
	require.NotNil(t, d, "Deployment %s", sandboxWorkload)
	pod := d.Spec.Template
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	port := sandboxPort(t, o)
	flags := flagValues(c.Args)

	t.Run("one replica, replaced not rolled", func(t *testing.T) {
		assert.Equal(t, int32(1), ptrValue(d.Spec.Replicas, 1), "the tenant is in memory: a second replica is a second tenant")
		assert.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type)
		assert.True(t, selects(t, d.Spec.Selector, pod.Labels))
	})
	t.Run("runs the sandbox binary", func(t *testing.T) {
		assert.Equal(t, []string{binDir + "sandbox"}, c.Command)
		assert.Contains(t, binaries, "sandbox")
		assert.Equal(t, "0.0.0.0:"+strconv.Itoa(int(port)), flags[listenFlag["sandbox"]])
		assert.Equal(t, "small", flags["size"], "a trial tenant, seeded in a moment")
	})
	t.Run("probes", func(t *testing.T) {
		for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if assert.NotNil(t, p, "%s probe", name) && assert.NotNil(t, p.HTTPGet, "%s probe", name) {
				assert.Equal(t, "/_sandbox/healthz", p.HTTPGet.Path, "%s probe", name)
				assert.Equal(t, "http", p.HTTPGet.Port.String(), "%s probe", name)
			}
		}
	})
	t.Run("restricted security context", func(t *testing.T) {
		checkRestricted(t, pod.Spec, 65532)
		assert.False(t, ptrValue(pod.Spec.AutomountServiceAccountToken, true), "no Kubernetes API token mounted")
	})

	svc := serviceFor(t, o, pod.Labels)
	require.NotNil(t, svc, "a Service in front of the sandbox")
	require.Len(t, svc.Spec.Ports, 1)

	t.Run("certops calls it with its admin client", func(t *testing.T) {
		sp := o.secret(resolve("certops-sailpoint"))
		require.NotNil(t, sp, "certops-sailpoint is generated")
		base := "http://" + svc.Name
		if p := svc.Spec.Ports[0].Port; p != 80 {
			base += ":" + strconv.Itoa(int(p))
		}
		assert.Equal(t, base, string(sp.Data["SAIL_BASE_URL"]))
		assert.Equal(t, sandbox.AdminClientID, string(sp.Data["SAIL_CLIENT_ID"]))
		assert.Equal(t, sandbox.AdminClientSecret, string(sp.Data["SAIL_CLIENT_SECRET"]))

		cfg := sailpoint.Config{BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
			APIVersion: sailpoint.APIv3, RateLimit: 100, RateWindow: 10 * time.Second, Timeout: 30 * time.Second, MaxRetries: 5, Concurrency: 8}
		assert.Error(t, cfg.Validate(), "plain http to another host needs SAIL_ALLOW_HTTP")
		allow, err := strconv.ParseBool(o.config(t).Data["SAIL_ALLOW_HTTP"])
		require.NoError(t, err, "certops-config sets SAIL_ALLOW_HTTP")
		cfg.AllowHTTP = allow
		assert.NoError(t, cfg.Validate(), "the client accepts the sandbox's URL")
	})

	t.Run("the MCP token of DEPLOY.md, for a reviewer of the tenant", func(t *testing.T) {
		s := o.secret(resolve("certops-mcp-tokens"))
		require.NotNil(t, s, "certops-mcp-tokens is generated")
		tokens, err := tools.ParseTokens(s.Data["tokens"])
		require.NoError(t, err)
		require.Len(t, tokens, 1)
		tok := tokens[0]
		assert.Equal(t, tools.HashToken(sandboxToken), tok.SHA256)
		assert.Equal(t, certs.RoleAdmin, tok.Role)

		seed, err := strconv.ParseInt(flags["seed"], 10, 64)
		require.NoError(t, err, "--seed")
		tenant := sandbox.New(sandbox.Config{Seed: seed, Certifications: sandbox.SmallCertifications, ItemsPerCertification: sandbox.SmallItemsPerCert})
		clients := tenant.Clients()
		require.Greater(t, len(clients), 1)
		assert.Equal(t, clients[1].IdentityID, tok.IdentityID,
			"the token acts for the sandbox's first reviewer, %s (%s), as mcp-server --sandbox does", clients[1].Name, clients[1].ClientID)
	})

	t.Run("network policies", func(t *testing.T) {
		iso := policiesOver(t, o, pod.Labels)
		assert.True(t, iso.in && iso.out, "the sandbox is isolated both ways")
		assert.Empty(t, iso.egressRules, "the sandbox calls nothing")
		for _, rule := range iso.ingress {
			assert.Equal(t, []string{"TCP/" + strconv.Itoa(int(port))}, policyPorts(rule.Ports))
			require.NotEmpty(t, rule.From, "only certops' pods may call the sandbox")
		}
		for name := range certopsWorkloads {
			cd := o.deployment(name)
			if cd == nil {
				continue
			}
			allowed := false
			for _, rule := range iso.ingress {
				for _, peer := range rule.From {
					allowed = allowed || (peer.PodSelector != nil && selects(t, peer.PodSelector, cd.Spec.Template.Labels))
				}
			}
			assert.True(t, allowed, "%s may call the sandbox", name)
			reaches := false
			for _, rule := range policiesOver(t, o, cd.Spec.Template.Labels).egressRules {
				for _, peer := range rule.To {
					reaches = reaches || (peer.PodSelector != nil && selects(t, peer.PodSelector, pod.Labels) &&
						slices.Contains(policyPorts(rule.Ports), "TCP/"+strconv.Itoa(int(port))))
				}
			}
			assert.True(t, reaches, "%s's egress reaches the sandbox's port", name)
		}
	})
}

// checkMigrations: base's suspended CronJob is a template for a Job that
// runs --migrate-only with the database Secret alone.
func checkMigrations(t *testing.T, o objects, resolve func(string) string) {
	cj := o.cronJob(migrateCronJob)
	require.NotNil(t, cj, "CronJob %s", migrateCronJob)
	assert.True(t, ptrValue(cj.Spec.Suspend, false), "suspended: a template for kubectl create job --from, never run on its schedule")
	assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)
	job := cj.Spec.JobTemplate.Spec
	assert.NotNil(t, job.ActiveDeadlineSeconds, "a hung migration ends")
	assert.NotNil(t, job.TTLSecondsAfterFinished, "finished Jobs are cleaned up")
	spec := job.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, spec.RestartPolicy)
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	require.Len(t, c.Command, 1)
	bin, ok := strings.CutPrefix(c.Command[0], binDir)
	require.True(t, ok, "runs a certops binary")
	assert.Contains(t, []string{"mcp-server", "slackbot"}, bin)
	assert.Equal(t, []string{"--migrate-only"}, c.Args)
	assert.Empty(t, c.EnvFrom, "--migrate-only reads the database settings only")
	require.Len(t, c.Env, 1, "--migrate-only reads the database settings only")
	assert.Equal(t, "DATABASE_URL_FILE", c.Env[0].Name)
	checkSecretFile(t, spec, c, c.Env[0].Name, c.Env[0].Value, resolve)
	checkRestricted(t, spec, 65532)

	iso := policiesOver(t, o, job.Template.Labels)
	assert.True(t, iso.in && iso.out, "the migration pod is isolated both ways")
	assert.Empty(t, iso.ingress, "the migration pod takes no connections")
	var out []string
	for _, rule := range iso.egressRules {
		require.NotEmpty(t, rule.Ports, "an egress rule without ports opens every port")
		out = append(out, policyPorts(rule.Ports)...)
	}
	assert.ElementsMatch(t, []string{"UDP/53", "TCP/53", "TCP/5432"}, out, "out to DNS and PostgreSQL only")
}

// checkAutoscaling: an HPA per certops Deployment, never below the two
// replicas the PodDisruptionBudgets assume, on resources the pods request.
func checkAutoscaling(t *testing.T, o objects) {
	for _, h := range o.hpas {
		ref := h.Spec.ScaleTargetRef
		assert.Equal(t, "apps/v1", ref.APIVersion, h.Name)
		assert.Equal(t, "Deployment", ref.Kind, h.Name)
		assert.NotNil(t, o.deployment(ref.Name), "HPA %s scales %s, which the rendering lacks", h.Name, ref.Name)
	}
	for name := range certopsWorkloads {
		d := o.deployment(name)
		if d == nil {
			continue
		}
		var hs []*autoscalingv2.HorizontalPodAutoscaler
		for _, h := range o.hpas {
			if h.Spec.ScaleTargetRef.Name == name {
				hs = append(hs, h)
			}
		}
		if !assert.Len(t, hs, 1, "HPAs over %s", name) {
			continue
		}
		h := hs[0]
		assert.GreaterOrEqual(t, ptrValue(h.Spec.MinReplicas, 1), int32(2), "%s: two replicas at least, as the PodDisruptionBudget assumes", name)
		assert.GreaterOrEqual(t, h.Spec.MaxReplicas, ptrValue(h.Spec.MinReplicas, 1), name)
		require.NotEmpty(t, h.Spec.Metrics, name)
		for _, m := range h.Spec.Metrics {
			if assert.Equal(t, autoscalingv2.ResourceMetricSourceType, m.Type, name) && assert.NotNil(t, m.Resource) {
				for _, c := range d.Spec.Template.Spec.Containers {
					_, requested := c.Resources.Requests[m.Resource.Name]
					assert.True(t, requested, "%s: utilization of %s needs a request", name, m.Resource.Name)
				}
			}
		}
	}
}

// metricNames are the metrics internal/metrics defines.
func metricNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "internal", "metrics", "*.go"))
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`Name:\s+"(certops_[a-z0-9_]+)"`).FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
	}
	require.NotEmpty(t, names)
	return names
}

// checkMonitoring: the PodMonitor scrapes what the pods serve, and the
// alerts query metrics certops has.
func checkMonitoring(t *testing.T, o objects) {
	for _, pm := range o.podMonitors {
		for _, w := range o.workloads() {
			_, app := certopsWorkloads[w.name]
			assert.Equal(t, app, selects(t, &pm.Spec.Selector, w.template.Labels),
				"PodMonitor %s selects %s: only the MCP server and the Slack bot serve /metrics", pm.Name, w.name)
			if !app {
				continue
			}
			for _, ep := range pm.Spec.PodMetricsEndpoints {
				assert.NotNil(t, containerPort(w.template.Spec.Containers[0], ep.Port), "%s has port %q", w.name, ep.Port)
				assert.Equal(t, w.template.Annotations["prometheus.io/path"], ep.Path)
			}
		}
		assert.NotEmpty(t, pm.Spec.PodMetricsEndpoints)
	}
	defined := metricNames(t)
	metric := regexp.MustCompile(`\bcertops_[a-z0-9_]+`)
	for _, pr := range o.prometheusRules {
		for _, g := range pr.Spec.Groups {
			for _, rule := range g.Rules {
				assert.NotEmpty(t, rule.Alert+rule.Record, "%s: a rule with a name", g.Name)
				used := metric.FindAllString(rule.Expr, -1)
				assert.NotEmpty(t, used, "%s queries a certops metric", rule.Alert)
				for _, m := range used {
					base := m
					for _, suffix := range []string{"_bucket", "_sum", "_count"} {
						if b, ok := strings.CutSuffix(m, suffix); ok && defined[b] {
							base = b
						}
					}
					assert.True(t, defined[base], "%s queries %s, which internal/metrics does not define", rule.Alert, m)
				}
				if rule.For != "" {
					_, err := time.ParseDuration(rule.For)
					assert.NoError(t, err, "%s: for", rule.Alert)
				}
			}
		}
	}
}

// checkIngress: only /mcp and /slack/ are published, to Services and ports
// that exist, all over TLS.
func checkIngress(t *testing.T, o objects) {
	published := map[string]struct {
		pathType networkingv1.PathType
		service  string
	}{
		"/mcp":    {networkingv1.PathTypeExact, "certops-mcp-server"},
		"/slack/": {networkingv1.PathTypePrefix, "certops-slackbot"},
	}
	for _, ing := range o.ingresses {
		var tlsHosts []string
		for _, tls := range ing.Spec.TLS {
			tlsHosts = append(tlsHosts, tls.Hosts...)
			assert.NotEmpty(t, tls.SecretName, "%s: TLS certificate Secret", ing.Name)
		}
		assert.Nil(t, ing.Spec.DefaultBackend, "%s: nothing but the paths below", ing.Name)
		for _, rule := range ing.Spec.Rules {
			assert.Contains(t, tlsHosts, rule.Host, "%s: %s is served over TLS", ing.Name, rule.Host)
			require.NotNil(t, rule.HTTP)
			for _, p := range rule.HTTP.Paths {
				want, ok := published[p.Path]
				if !assert.True(t, ok, "%s publishes %s: only /mcp and /slack/ (not /metrics, /healthz, /readyz)", ing.Name, p.Path) {
					continue
				}
				assert.Equal(t, want.pathType, ptrValue(p.PathType, ""), "%s %s", ing.Name, p.Path)
				require.NotNil(t, p.Backend.Service, "%s %s", ing.Name, p.Path)
				assert.Equal(t, want.service, p.Backend.Service.Name, "%s %s", ing.Name, p.Path)
				svc := o.service(p.Backend.Service.Name)
				if assert.NotNil(t, svc, "%s %s: Service %s", ing.Name, p.Path, p.Backend.Service.Name) {
					assert.True(t, slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
						return sp.Name == p.Backend.Service.Port.Name && sp.Name != "" || sp.Port == p.Backend.Service.Port.Number && sp.Port != 0
					}), "%s %s: Service %s has the port", ing.Name, p.Path, svc.Name)
				}
			}
		}
	}
}

// checkRestricted asserts the pod is locked down: non-root (as uid when
// checkRestricted asserts the pod is locked down: non-root (as uid when
// uid >= 0), no privilege escalation, no capabilities, the runtime's seccomp
// profile and a read-only root filesystem.
func checkRestricted(t *testing.T, spec corev1.PodSpec, uid int64) {
	t.Helper()
	psc := spec.SecurityContext
	require.NotNil(t, psc, "pod securityContext")
	assert.True(t, ptrValue(psc.RunAsNonRoot, false), "pod runAsNonRoot")
	if assert.NotNil(t, psc.SeccompProfile, "pod seccompProfile") {
		assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
	}
	assert.False(t, spec.HostNetwork || spec.HostPID || spec.HostIPC, "no host namespaces")
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		require.NotNil(t, sc, "%s: container securityContext", c.Name)
		assert.True(t, ptrValue(sc.RunAsNonRoot, false), "%s: runAsNonRoot", c.Name)
		if uid >= 0 {
			assert.Equal(t, uid, ptrValue(sc.RunAsUser, 0), "%s: runAsUser", c.Name)
			assert.Equal(t, uid, ptrValue(psc.RunAsUser, 0), "pod runAsUser")
		}
		assert.NotZero(t, ptrValue(sc.RunAsUser, ptrValue(psc.RunAsUser, 0)), "%s: a non-zero uid", c.Name)
		assert.True(t, ptrValue(sc.ReadOnlyRootFilesystem, false), "%s: readOnlyRootFilesystem", c.Name)
		assert.False(t, ptrValue(sc.AllowPrivilegeEscalation, true), "%s: allowPrivilegeEscalation false", c.Name)
		assert.False(t, ptrValue(sc.Privileged, false), "%s: not privileged", c.Name)
		if assert.NotNil(t, sc.Capabilities, "%s: capabilities", c.Name) {
			assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, "%s: drop ALL", c.Name)
			assert.Empty(t, sc.Capabilities.Add, "%s: adds no capability", c.Name)
		}
		if assert.NotNil(t, sc.SeccompProfile, "%s: seccompProfile", c.Name) {
			assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
		}
	}
}

// checkResources asserts CPU and memory requests and limits, requests <= limits.
func checkResources(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[res]
		lim, hasLim := c.Resources.Limits[res]
		assert.True(t, hasReq && !req.IsZero(), "%s: %s request", c.Name, res)
		assert.True(t, hasLim && !lim.IsZero(), "%s: %s limit", c.Name, res)
		if hasReq && hasLim {
			assert.LessOrEqual(t, req.Cmp(lim), 0, "%s: %s request above its limit", c.Name, res)
		}
	}
}

// checkSecretFile asserts that path, the value of the variable name, is a
// file of a mounted Secret volume holding the key secretFiles says, that the
// kubelet keeps up to date, and that only certops can read.
func checkSecretFile(t *testing.T, spec corev1.PodSpec, c corev1.Container, name, path string, resolve func(string) string) {
	t.Helper()
	want, known := secretFiles[name]
	if !assert.True(t, known, "%s: unknown secret file variable", name) {
		return
	}
	// The mount the path is in: the longest mount path that holds it.
	var mount *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") && (mount == nil || len(m.MountPath) > len(mount.MountPath)) {
			mount = &c.VolumeMounts[i]
		}
	}
	if !assert.NotNil(t, mount, "%s=%s is on no mounted volume", name, path) {
		return
	}
	assert.True(t, mount.ReadOnly, "%s: mounted read-only", name)
	// A subPath mount is a bind mount of one file the kubelet never
	// updates: a rotated Secret would not reach the process.
	assert.Empty(t, mount.SubPath+mount.SubPathExpr, "%s: no subPath, so that updates reach the file", name)
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == mount.Name {
			vol = &spec.Volumes[i]
		}
	}
	if !assert.NotNil(t, vol, "%s: volume %s", name, mount.Name) || !assert.NotNil(t, vol.Secret, "%s: %s is a Secret volume", name, mount.Name) {
		return
	}
	assert.Equal(t, resolve(want.secret), vol.Secret.SecretName, name)
	assert.False(t, ptrValue(vol.Secret.Optional, false), "%s: a missing Secret stops the pod", name)
	rel := strings.TrimPrefix(path, strings.TrimSuffix(mount.MountPath, "/")+"/")
	key, mode := rel, vol.Secret.DefaultMode
	if len(vol.Secret.Items) > 0 {
		i := slices.IndexFunc(vol.Secret.Items, func(item corev1.KeyToPath) bool { return item.Path == rel })
		if !assert.GreaterOrEqual(t, i, 0, "%s=%s is not an item of volume %s", name, path, vol.Name) {
			return
		}
		key = vol.Secret.Items[i].Key
		if vol.Secret.Items[i].Mode != nil {
			mode = vol.Secret.Items[i].Mode
		}
	}
	assert.Equal(t, want.key, key, "%s names key %s of %s", name, key, want.secret)
	// The kubelet writes the files as root; with fsGroup it gives them that
	// group and group read, which is how uid 65532 reads them. Nobody else
	// may, and nobody writes them.
	if assert.NotNil(t, mode, "%s: defaultMode set (the default 0644 is world-readable)", name) {
		assert.True(t, *mode == 0o400 || *mode == 0o440, "%s: mode %#o, want 0400 or 0440", name, *mode)
	}
	if psc := spec.SecurityContext; assert.NotNil(t, psc) && assert.NotNil(t, psc.FSGroup, "%s: fsGroup, so the non-root process can read the root-owned file", name) {
		assert.Equal(t, ptrValue(psc.RunAsGroup, -1), *psc.FSGroup, "fsGroup is the process's group")
	}
}

// secretRefs lists the Secrets a pod reads and the keys read from each
// (envFrom and whole-Secret volumes read no named key).
func secretRefs(spec corev1.PodSpec) map[string][]string {
	refs := map[string][]string{}
	note := func(name, key string) {
		if key == "" {
			refs[name] = append(refs[name], []string{}...)
			return
		}
		refs[name] = append(refs[name], key)
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				note(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
			}
		}
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				note(ef.SecretRef.Name, "")
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret == nil {
			continue
		}
		note(v.Secret.SecretName, "")
		for _, item := range v.Secret.Items {
			note(v.Secret.SecretName, item.Key)
		}
	}
	return refs
}

// looksSecret says whether a variable's name says it holds a secret value.
func looksSecret(name string) bool {
	if strings.HasSuffix(name, "_FILE") {
		return false
	}
	for _, word := range []string{"SECRET", "TOKEN", "PASSWORD", "DATABASE_URL"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}

func containerPort(c corev1.Container, name string) *corev1.ContainerPort {
	for i := range c.Ports {
		if c.Ports[i].Name == name {
			return &c.Ports[i]
		}
	}
	return nil
}

// mountedVolume is the volume mounted at path in c.
func mountedVolume(spec corev1.PodSpec, c corev1.Container, path string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == m.Name {
				return &spec.Volumes[i]
			}
		}
	}
	return nil
}

// serviceFor is the Service selecting pods labelled podLabels.
func serviceFor(t *testing.T, o objects, podLabels map[string]string) *corev1.Service {
	for _, svc := range o.services {
		if selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, podLabels) {
			return svc
		}
	}
	return nil
}

// policyPorts renders NetworkPolicy ports as PROTO/port.
func policyPorts(ports []networkingv1.NetworkPolicyPort) []string {
	var out []string
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		port := "*"
		if p.Port != nil {
			port = p.Port.String()
		}
		out = append(out, string(proto)+"/"+port)
	}
	return out
}
