package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/tools"
)

// gate is a tenant whose next API call (once armed) waits until released,
// so a test can act while a call is certainly in flight.
type gate struct {
	next    http.Handler
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newGate(next http.Handler) *gate {
	return &gate{next: next, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/oauth/") && g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	g.next.ServeHTTP(w, r)
}

func TestShutdownFinishesInFlightToolCalls(t *testing.T) {
	testEnv(t)
	g := newGate(sandbox.New(sandbox.Config{}))
	tenant := httptest.NewServer(g)
	t.Cleanup(tenant.Close)
	t.Setenv("SAIL_BASE_URL", tenant.URL)
	t.Setenv("SAIL_CLIENT_ID", sandbox.AdminClientID)
	t.Setenv("SAIL_CLIENT_SECRET", sandbox.AdminClientSecret)
	t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "certops.db"))
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("tokens:\n  - name: ops\n    sha256: "+tools.HashToken("ops-token")+"\n    role: admin\n"), 0o600))
	t.Setenv("CERTOPS_MCP_TOKENS_FILE", tokens)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"mcp-server", "--http", "127.0.0.1:0"}, strings.NewReader(""), pw, logs)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var endpoint string
	for endpoint == "" && sc.Scan() {
		endpoint, _ = strings.CutPrefix(sc.Text(), "certops MCP server listening on ")
	}
	require.NotEmpty(t, endpoint, "logs:\n%s", logs.String())
	go io.Copy(io.Discard, pr)
	base := strings.TrimSuffix(endpoint, tools.MCPPath)

	// An older revision keeps a GET stream open, which shutdown must end.
	cs := connectHTTP(t, &httpServer{URL: endpoint, Token: "ops-token"}, clientOptions{protocol: "2025-06-18"})
	g.armed.Store(true)
	result := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_certifications", Arguments: map[string]any{"reviewer": "all"}})
		if err != nil {
			res = &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "protocol error: " + err.Error()}}}
		}
		result <- res
	}()
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the tool call never reached SailPoint; logs:\n%s", logs.String())
	}

	start := time.Now()
	cancel() // as SIGTERM does
	// New connections are refused once shutdown began.
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "still accepting connections after shutdown began")

	close(g.release)
	select {
	case res := <-result:
		require.False(t, res.IsError, "the in-flight call finished normally: %s", text(res))
		assert.Contains(t, text(res), "certifications")
	case <-time.After(30 * time.Second):
		t.Fatalf("the in-flight call never finished; logs:\n%s", logs.String())
	}
	select {
	case err := <-done:
		require.NoError(t, err, "a clean shutdown; logs:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return; logs:\n%s", logs.String())
	}
	t.Logf("shutdown took %s after the call was released", time.Since(start).Round(time.Millisecond))
	assert.Contains(t, logs.String(), "shut down")
	assert.NotContains(t, logs.String(), "level=ERROR")
}
