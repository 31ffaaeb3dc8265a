package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// An independent MCP client (the official go-sdk, not mcp-go, which the
// server is built on) over streamable HTTP with a bearer token.

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connectMCP opens a session with the MCP server at endpoint. The client
// declares no elicitation support, so reassign is confirmed with the plan's
// digest, as an assistant that cannot ask the person itself does.
func connectMCP(t *testing.T, endpoint, token string) *mcp.ClientSession {
	t.Helper()
	transport := &mcp.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}},
		MaxRetries: -1,
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "certops-e2e", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, transport, nil)
	require.NoError(t, err, "connect to %s", endpoint)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// callTool calls a tool and requires a successful result; it returns the
// structured content.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "tools/call %s", name)
	require.False(t, res.IsError, "%s failed: %s", name, resultText(res))
	m, ok := res.StructuredContent.(map[string]any)
	require.True(t, ok, "%s: structured content is %T", name, res.StructuredContent)
	return m
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// str reads a string at a path of keys in decoded JSON.
func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

// list reads an array of objects in decoded JSON.
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
