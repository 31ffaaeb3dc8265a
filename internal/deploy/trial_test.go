package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// TestTrialRunsLocally replays overlays/trial's pods with the real binaries,
// everything but Kubernetes: the sandbox with its Deployment's arguments,
// the migration Job's command, then the MCP server with its container's
// command, the certops-config settings, its Secrets written out as the
// kubelet mounts them and its *_FILE variables pointing there. Two things
// differ, for want of a cluster: the sandbox's address (the Service name
// does not resolve here; a non-loopback address of this machine stands in
// for it, so SAIL_ALLOW_HTTP is exercised), and SQLite in place of the
// trial's PostgreSQL. An assistant then calls list_certifications with the
// token DEPLOY.md gives, and sees the certifications of the sandbox reviewer
// the token acts for.
func TestTrialRunsLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs mcp-server and sandbox; skipped in -short mode")
	}
	t.Parallel()
	o := render(t, filepath.Join(manifestsDir(t), "overlays", "trial"))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/mcp-server", "./cmd/sandbox")
	build.Dir = repoRoot(t)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	// The sandbox, as its Deployment runs it, on a free port of an address
	// that is not loopback when this machine has one.
	sb := o.deployment(sandboxWorkload)
	require.NotNil(t, sb)
	host := nonLoopbackAddress()
	args := withFlag(sb.Spec.Template.Spec.Containers[0].Args, "--"+listenFlag["sandbox"], net.JoinHostPort(host, "0"))
	sandboxOut := start(ctx, t, filepath.Join(bin, "sandbox"), args, nil)
	baseURL := waitFor(t, sandboxOut, regexp.MustCompile(`Base URL:\s+(\S+)`))

	// The MCP server's environment, as the kubelet would give it.
	d := o.deployment("certops-mcp-server")
	require.NotNil(t, d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	root := t.TempDir()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil || ef.ConfigMapRef.Name == siteConfigMap {
			continue
		}
		for _, cm := range o.configMaps {
			if cm.Name == ef.ConfigMapRef.Name {
				for k, v := range cm.Data {
					env[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			s := o.secret(e.ValueFrom.SecretKeyRef.Name)
			require.NotNil(t, s, "%s: Secret %s is generated", e.Name, e.ValueFrom.SecretKeyRef.Name)
			env[e.Name] = string(s.Data[e.ValueFrom.SecretKeyRef.Key])
		case strings.HasSuffix(e.Name, "_FILE"):
			env[e.Name] = filepath.Join(root, e.Value)
		default:
			env[e.Name] = e.Value
		}
	}
	writeSecretVolumes(t, o, pod, c, root)
	require.Equal(t, "http://certops-sandbox", env["SAIL_BASE_URL"], "the rendered URL, replaced below")
	env["SAIL_BASE_URL"] = baseURL
	// SQLite in place of PostgreSQL: the database Secret's URL names a
	// host that only exists in the cluster.
	require.Equal(t, filepath.Join(root, "/etc/certops/database/DATABASE_URL"), env["DATABASE_URL_FILE"])
	delete(env, "DATABASE_URL_FILE")
	env["CERTOPS_SQLITE_PATH"] = filepath.Join(root, "certops.db")

	// The migration Job's command first, with the same database.
	cj := o.cronJob(migrateCronJob)
	require.NotNil(t, cj)
	mc := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	migrate := exec.CommandContext(ctx, filepath.Join(bin, strings.TrimPrefix(mc.Command[0], binDir)), mc.Args...)
	migrate.Env = []string{"CERTOPS_SQLITE_PATH=" + env["CERTOPS_SQLITE_PATH"]}
	out, err = migrate.CombinedOutput()
	require.NoError(t, err, "the migration Job's command:\n%s", out)
	assert.Contains(t, string(out), "applied database migration")

	require.Equal(t, []string{binDir + "mcp-server"}, c.Command)
	args = withFlag(c.Args, "--http", "127.0.0.1:0")
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	serverOut := start(ctx, t, filepath.Join(bin, "mcp-server"), args, environ)
	mcpURL := waitFor(t, serverOut, regexp.MustCompile(`listening on (\S+)`))
	u := strings.Replace(mcpURL, "127.0.0.1", "localhost", 1) // as through kubectl port-forward

	t.Run("ready: the database answers and the sandbox gives a token", func(t *testing.T) {
		var status int
		require.Eventually(t, func() bool {
			res, err := http.Get(strings.TrimSuffix(u, "/mcp") + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			status = res.StatusCode
			return status == http.StatusOK
		}, 30*time.Second, 100*time.Millisecond, "/readyz answered %d", status)
	})

	t.Run("an assistant with the trial token sees the reviewer's certifications", func(t *testing.T) {
		session := ""
		call := func(method string, params any) map[string]any {
			body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
			require.NoError(t, err)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+sandboxToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", "2025-06-18")
			if session != "" {
				req.Header.Set("Mcp-Session-Id", session)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", method, raw)
			if s := res.Header.Get("Mcp-Session-Id"); s != "" {
				session = s
			}
			if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				for _, line := range strings.Split(string(raw), "\n") {
					if data, ok := strings.CutPrefix(line, "data: "); ok {
						raw = []byte(data)
					}
				}
			}
			var msg struct {
				Result map[string]any `json:"result"`
				Error  any            `json:"error"`
			}
			require.NoError(t, json.Unmarshal(raw, &msg), "%s", raw)
			require.Nil(t, msg.Error, "%s", raw)
			return msg.Result
		}
		call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
			"clientInfo": map[string]any{"name": "deploy-test", "version": "1"}})
		res := call("tools/call", map[string]any{"name": "list_certifications", "arguments": map[string]any{}})
		assert.NotEqual(t, true, res["isError"], "%v", res)
		text := fmt.Sprint(res["content"])
		assert.Contains(t, text, "Mateo Brown", "the sandbox reviewer the trial token acts for")
	})
}

// nonLoopbackAddress is an IPv4 address of this machine that is not
// loopback, or 127.0.0.1 when it has none.
func nonLoopbackAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// withFlag returns args with the value of flag replaced.
func withFlag(args []string, flag, value string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == flag && i+1 < len(out) {
			out[i+1] = value
			return out
		}
	}
	return append(out, flag, value)
}

// writeSecretVolumes writes the Secret volumes c mounts under root, as the
// kubelet mounts them: a file per item, or per key for a whole Secret.
func writeSecretVolumes(t *testing.T, o objects, pod corev1.PodSpec, c corev1.Container, root string) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			s := o.secret(v.Secret.SecretName)
			require.NotNil(t, s, "volume %s: Secret %s is generated", v.Name, v.Secret.SecretName)
			dir := filepath.Join(root, m.MountPath)
			require.NoError(t, os.MkdirAll(dir, 0o700))
			files := map[string]string{}
			for k := range s.Data {
				files[k] = k
			}
			if len(v.Secret.Items) > 0 {
				files = map[string]string{}
				for _, item := range v.Secret.Items {
					files[item.Path] = item.Key
				}
			}
			for path, key := range files {
				data, ok := s.Data[key]
				require.True(t, ok, "Secret %s has key %s", s.Name, key)
				require.NoError(t, os.WriteFile(filepath.Join(dir, path), data, 0o400))
			}
		}
	}
}

// start runs a binary until the test ends and returns its standard output,
// line by line.
func start(ctx context.Context, t *testing.T, path string, args, env []string) <-chan string {
	t.Helper()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			select {
			case lines <- s.Text():
			default: // nobody reads any more: keep the process from blocking
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(path), stderr.String())
		}
	})
	return lines
}

// waitFor reads lines until one matches re and returns its first group.
func waitFor(t *testing.T, lines <-chan string, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the process ended before printing %s", re)
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case <-timeout:
			require.FailNow(t, "timed out waiting for "+re.String())
		}
	}
}
