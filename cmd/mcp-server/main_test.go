package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/testkit"
)

// binary is the mcp-server built once for the stdio tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcp-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mcp-server")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building mcp-server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnv is the environment every test server runs with: a fast worker,
// debug logs, nothing from the developer's shell that could point at a
// real tenant or database.
func testEnv(t *testing.T) {
	for _, k := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "DATABASE_URL", "CERTOPS_SQLITE_PATH",
		"CERTOPS_MCP_TOKENS_FILE", "CERTOPS_MCP_IDENTITY_ID", "CERTOPS_MCP_TOOLS", "CERTOPS_MCP_DENY_TOOLS", "CERTOPS_REQUIRE_APPROVAL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("CERTOPS_WORKER_INTERVAL", "100ms")
	t.Setenv("CERTOPS_LOG_LEVEL", "debug")
}

// syncBuffer is the module's synchronised buffer (internal/testkit).
type syncBuffer = testkit.Buffer

// httpServer is run() serving HTTP in-process.
type httpServer struct {
	URL        string // the MCP endpoint
	Token      string // the sandbox token
	SandboxURL string
	Logs       *syncBuffer
}

var sandboxURLPattern = regexp.MustCompile(`msg="sandbox tenant started" url=(\S+)`)

// startHTTP runs run() with --sandbox --http 127.0.0.1:0 and extra args,
// and returns once it printed its URL and token.
func startHTTP(t testing.TB, extra ...string) *httpServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"mcp-server", "--sandbox", "--http", "127.0.0.1:0"}, extra...)
	go func() {
		err := run(ctx, args, strings.NewReader(""), pw, logs)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "run")
		case <-time.After(20 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	s := &httpServer{Logs: logs}
	sc := bufio.NewScanner(pr)
	for sc.Scan() && (s.URL == "" || s.Token == "") {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "certops MCP server listening on "); ok {
			s.URL = u
		}
		if tok, ok := strings.CutPrefix(line, "sandbox token (valid for this run): "); ok {
			s.Token = tok
		}
	}
	require.NotEmpty(t, s.URL, "no URL printed; logs:\n%s", logs.String())
	require.NotEmpty(t, s.Token)
	go io.Copy(io.Discard, pr)
	m := sandboxURLPattern.FindStringSubmatch(logs.String())
	require.NotNil(t, m, "sandbox URL not logged")
	s.SandboxURL = m[1]
	return s
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

type clientOptions struct {
	// elicit answers confirmations; nil means the client cannot elicit.
	elicit func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	// protocol is the revision to ask for ("" is the newest).
	protocol string
}

func newClient(o clientOptions) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "certops-e2e", Version: "1"}, &mcp.ClientOptions{ElicitationHandler: o.elicit})
}

func connectHTTP(t *testing.T, s *httpServer, o clientOptions) *mcp.ClientSession {
	t.Helper()
	transport := &mcp.StreamableClientTransport{
		Endpoint:   s.URL,
		HTTPClient: &http.Client{Transport: bearer{token: s.Token, next: http.DefaultTransport}, Timeout: 60 * time.Second},
		MaxRetries: -1,
	}
	cs, err := newClient(o).Connect(context.Background(), transport, &mcp.ClientSessionOptions{ProtocolVersion: o.protocol})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// stdioSession runs the built binary over stdio, its stdout teed to a file
// so that every byte it wrote can be checked afterwards.
type stdioSession struct {
	*mcp.ClientSession
	stdoutFile string
	stderr     *syncBuffer
}

func connectStdio(t *testing.T, o clientOptions, args ...string) *stdioSession {
	t.Helper()
	out := filepath.Join(t.TempDir(), "stdout.jsonl")
	script := `"$0" "$@" | tee "$MCP_STDOUT_COPY"`
	cmd := exec.Command("sh", append([]string{"-c", script, binary}, args...)...)
	cmd.Env = append(os.Environ(), "MCP_STDOUT_COPY="+out)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cs, err := newClient(o).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: o.protocol})
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	s := &stdioSession{ClientSession: cs, stdoutFile: out, stderr: stderr}
	t.Cleanup(func() { _ = cs.Close() })
	return s
}

// call calls a tool and returns its result; protocol errors fail the test.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "tools/call %s", name)
	return res
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// ok requires a successful result and returns its structured content.
func ok(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	require.False(t, r.IsError, "unexpected error result: %s", text(r))
	m, isMap := r.StructuredContent.(map[string]any)
	require.True(t, isMap, "structured content is %T", r.StructuredContent)
	return m
}

// schemas returns each tool's resolved output schema, keyed by name.
func schemas(t *testing.T, cs *mcp.ClientSession) map[string]*jsonschema.Resolved {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	out := map[string]*jsonschema.Resolved{}
	for _, tool := range res.Tools {
		require.NotNil(t, tool.OutputSchema, "%s has no output schema", tool.Name)
		raw, err := json.Marshal(tool.OutputSchema)
		require.NoError(t, err)
		var s jsonschema.Schema
		require.NoError(t, json.Unmarshal(raw, &s))
		rs, err := s.Resolve(nil)
		require.NoError(t, err, "%s output schema", tool.Name)
		out[tool.Name] = rs
	}
	return out
}

// validated calls a tool, requires success and checks the structured
// result against the tool's output schema.
func validated(t *testing.T, cs *mcp.ClientSession, rs map[string]*jsonschema.Resolved, name string, args map[string]any) map[string]any {
	t.Helper()
	m := ok(t, call(t, cs, name, args))
	require.Contains(t, rs, name)
	require.NoError(t, rs[name].Validate(m), "%s result does not match its output schema", name)
	return m
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func list(m map[string]any, key string) []map[string]any {
	var out []map[string]any
	arr, _ := m[key].([]any)
	for _, v := range arr {
		if mm, ok := v.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}
