package tools

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

var testActor = certs.Actor{ID: "alice-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-alice"}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestServer(t *testing.T, svc Service, opts Options) *server.MCPServer {
	t.Helper()
	opts.Service = svc
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := New(opts)
	require.NoError(t, err)
	return s
}

// rpc sends one JSON-RPC request to s as testActor and returns the raw
// response.
func rpc(t *testing.T, s *server.MCPServer, method string, params any) map[string]any {
	t.Helper()
	return rpcAs(t, s, testActor, method, params)
}

// rpcAs sends one JSON-RPC request to s as actor a.
func rpcAs(t *testing.T, s *server.MCPServer, a certs.Actor, method string, params any) map[string]any {
	t.Helper()
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	require.NoError(t, err)
	resp := s.HandleMessage(WithActor(context.Background(), a), msg)
	b, err := json.Marshal(resp)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// callTool calls a tool and returns its result; a JSON-RPC error fails the
// test (tools must answer with results).
func callTool(t *testing.T, s *server.MCPServer, name string, args any) *mcp.CallToolResult {
	t.Helper()
	return callToolParams(t, s, map[string]any{"name": name, "arguments": args})
}

func callToolParams(t *testing.T, s *server.MCPServer, params map[string]any) *mcp.CallToolResult {
	t.Helper()
	return callToolAs(t, s, testActor, params)
}

func callToolAs(t *testing.T, s *server.MCPServer, a certs.Actor, params map[string]any) *mcp.CallToolResult {
	t.Helper()
	out := rpcAs(t, s, a, "tools/call", params)
	require.Nil(t, out["error"], "tools/call %v answered with a JSON-RPC error", params["name"])
	b, err := json.Marshal(out["result"])
	require.NoError(t, err)
	var res mcp.CallToolResult
	require.NoError(t, json.Unmarshal(b, &res))
	return &res
}

func resultText(r *mcp.CallToolResult) string {
	var s string
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

// structured decodes a result's structured content into T.
func structured[T any](t *testing.T, r *mcp.CallToolResult) T {
	t.Helper()
	var v T
	var raw []byte
	if len(r.RawStructuredContent) > 0 {
		raw = r.RawStructuredContent
	} else {
		b, err := json.Marshal(r.StructuredContent)
		require.NoError(t, err)
		raw = b
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

// assertError checks that res is an error result as an assistant reads it:
// its text starts with the words of code (errorPrefixes) and contains each
// of names (the offending argument, its value, what to do).
func assertError(t *testing.T, res *mcp.CallToolResult, code string, names ...string) {
	t.Helper()
	text := resultText(res)
	require.True(t, res.IsError, "expected a %s error result, got %s", code, text)
	assert.True(t, strings.HasPrefix(text, errorPrefixes[code]+": "), "%q does not start with %q", text, errorPrefixes[code]+": ")
	for _, n := range names {
		assert.Contains(t, text, n)
	}
}
