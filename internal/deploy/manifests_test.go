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
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
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
// signing secret) or Socket Mode (overlays/socket-mode: the app token).
// Exactly one of the two files is configured, since the bot refuses to
// start on a _FILE variable naming a missing file.
type slackMode string

const (
	slackHTTP   slackMode = "SLACK_SIGNING_SECRET_FILE"
	slackSocket slackMode = "SLACK_APP_TOKEN_FILE"
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

// newObject returns an empty Kubernetes object of the type apiVersion and
// kind name, or false for a kind certops' manifests have no business holding.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, true
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
	}
	return nil, false
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
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	serviceAccounts []*corev1.ServiceAccount
	namespaces      []*corev1.Namespace
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
}

func (o *objects) add(obj any) {
	o.all = append(o.all, obj.(metav1.Object))
	switch v := obj.(type) {
	case *appsv1.Deployment:
		o.deployments = append(o.deployments, v)
	case *appsv1.StatefulSet:
		o.statefulSets = append(o.statefulSets, v)
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
	}
}

// workload is a Deployment's or StatefulSet's pods, for checks that hold for both.
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
	return ws
}

func (o objects) deployment(name string) *appsv1.Deployment {
	for _, d := range o.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func (o objects) secret(name string) *corev1.Secret {
	for _, s := range o.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
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

func manifestsDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "manifests")
}

// TestManifestFilesDecodeStrictly reads every YAML file under manifests/base
// and manifests/overlays: kustomization files into kustomize's own type, every
// other document into its Kubernetes API type, all refusing unknown fields.
func TestManifestFilesDecodeStrictly(t *testing.T) {
	t.Parallel()
	var files []string
	for _, sub := range []string{"base", "overlays"} {
		err := filepath.WalkDir(filepath.Join(manifestsDir(t), sub), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return err
		})
		require.NoError(t, err)
	}
	require.NotEmpty(t, files)
	for _, path := range files {
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
				// others (overlays/socket-mode).
				assert.Contains(t, []string{"Kustomization", "Component"}, k.Kind)
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
		{"unknown kind", "apiVersion: batch/v1\nkind: CronJob\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict([]byte(tc.doc))
			assert.Error(t, err)
		})
	}
}

func TestBaseManifests(t *testing.T) {
	t.Parallel()
	o := render(t, filepath.Join(manifestsDir(t), "base"))

	t.Run("no secret values", func(t *testing.T) {
		assert.Empty(t, o.secrets, "the base must only reference Secrets, never carry them")
	})
	t.Run("secrets referenced by name", func(t *testing.T) {
		for _, w := range o.workloads() {
			for name, keys := range secretRefs(w.template.Spec) {
				want, known := externalSecrets[name]
				if assert.True(t, known, "%s references unknown Secret %q", w.name, name) {
					assert.Subset(t, want, keys, "%s reads keys of %s", w.name, name)
				}
			}
		}
	})
	checkCertops(t, o, func(name string) string { return name }, slackHTTP)
}

// renderTrial renders overlays/trial from a copy of manifests/ with a
// database.env written the way DEPLOY.md says, as an operator would.
func renderTrial(t *testing.T) objects {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(manifestsDir(t))))
	const password = "0123456789abcdef0123456789abcdef0123456789abcdef"
	env := fmt.Sprintf("POSTGRES_PASSWORD=%s\nDATABASE_URL=postgres://certops:%s@certops-postgres:5432/certops?sslmode=disable\n", password, password)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "overlays", "trial", "database.env"), []byte(env), 0o600))
	return render(t, filepath.Join(dir, "overlays", "trial"))
}

// TestTrialOverlay renders overlays/trial from a copy of manifests/ with a
// database.env written the way DEPLOY.md says, as an operator would.
func TestTrialOverlay(t *testing.T) {
	t.Parallel()
	o := renderTrial(t)

	var db *corev1.Secret
	for _, s := range o.secrets {
		if strings.HasPrefix(s.Name, "certops-database-") {
			db = s
		}
	}
	require.NotNil(t, db, "the overlay generates certops-database")
	require.Len(t, o.secrets, 1, "the trial generates the database Secret only")
	// Generated names carry a content hash, so a new password rolls the pods.
	resolve := func(name string) string {
		if name == "certops-database" {
			return db.Name
		}
		return name
	}
	checkCertops(t, o, resolve, slackSocket)

	t.Run("everything in the certops namespace", func(t *testing.T) {
		for _, obj := range o.all {
			if _, isNS := obj.(*corev1.Namespace); isNS {
				continue
			}
			assert.Equal(t, "certops", obj.GetNamespace(), "%T %s", obj, obj.GetName())
		}
		require.Len(t, o.namespaces, 1)
		assert.Equal(t, "certops", o.namespaces[0].Name)
		assert.Equal(t, "restricted", o.namespaces[0].Labels["pod-security.kubernetes.io/enforce"])
	})

	t.Run("secret references resolve", func(t *testing.T) {
		for _, w := range o.workloads() {
			for name, keys := range secretRefs(w.template.Spec) {
				if name == db.Name {
					for _, k := range keys {
						assert.Contains(t, db.Data, k, "%s reads %s from %s", w.name, k, name)
					}
					continue
				}
				want, known := externalSecrets[name]
				if assert.True(t, known, "%s references Secret %q, neither generated nor documented", w.name, name) {
					assert.Subset(t, want, keys)
				}
			}
		}
	})

	t.Run("port-forward reaches the MCP server", func(t *testing.T) {
		require.Len(t, o.configMaps, 1)
		hosts := strings.Split(o.configMaps[0].Data["CERTOPS_MCP_ALLOWED_HOSTS"], ",")
		assert.Contains(t, hosts, "localhost")
		assert.Contains(t, hosts, "certops-mcp-server")
		assert.Equal(t, "true", o.configMaps[0].Data["CERTOPS_REQUIRE_APPROVAL"], "base settings kept by the merge")
	})

	t.Run("single PostgreSQL", func(t *testing.T) {
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
		assert.Equal(t, string(db.Data["POSTGRES_PASSWORD"]), pw)
		assert.Equal(t, "/"+env["POSTGRES_DB"].Value, u.Path)
	})

	t.Run("only certops reaches PostgreSQL", func(t *testing.T) {
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
		for _, d := range o.deployments {
			allowed := false
			for _, peer := range rule.From {
				allowed = allowed || (peer.PodSelector != nil && selects(t, peer.PodSelector, d.Spec.Template.Labels))
			}
			assert.True(t, allowed, "%s may connect to PostgreSQL", d.Name)
		}
	})
}

// checkCertops asserts what must hold wherever certops is deployed: base
// and every overlay. resolve maps a Secret name as base writes it to the
// name in this rendering (generators add a hash); mode is how the rendering
// runs the Slack bot.
func checkCertops(t *testing.T, o objects, resolve func(string) string, mode slackMode) {
	t.Run("mcp-server and slackbot, two replicas each", func(t *testing.T) {
		for name := range certopsWorkloads {
			d := o.deployment(name)
			if assert.NotNil(t, d, "Deployment %s", name) {
				assert.Equal(t, int32(2), ptrValue(d.Spec.Replicas, 1), name)
			}
		}
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

	t.Run("a PodDisruptionBudget per Deployment", func(t *testing.T) {
		for _, d := range o.deployments {
			var matching []*policyv1.PodDisruptionBudget
			for _, pdb := range o.pdbs {
				if selects(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
					matching = append(matching, pdb)
				}
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
			assert.ElementsMatch(t, []string{"UDP/53", "TCP/53", "TCP/443", "TCP/5432"}, egress,
				"%s: out to DNS, HTTPS and PostgreSQL only", name)
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
}

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
