package tools

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every output schema is a JSON Schema a client can resolve, as lean as
// leanOutput makes it: two levels of properties, descriptions only on the
// result's own fields, nothing that repeats the names.
func TestOutputSchemasAreLean(t *testing.T) {
	for _, tool := range append(readTools(deps{}), writeTools(deps{})...) {
		raw := tool.Tool.RawOutputSchema
		var s jsonschema.Schema
		require.NoError(t, json.Unmarshal(raw, &s), tool.Tool.Name)
		_, err := s.Resolve(nil)
		require.NoError(t, err, "%s's output schema", tool.Tool.Name)

		var walk func(m map[string]any, depth int)
		walk = func(m map[string]any, depth int) {
			for _, k := range []string{"required", "additionalProperties", "$defs", "$ref"} {
				assert.NotContains(t, m, k, "%s: %s at depth %d", tool.Tool.Name, k, depth)
			}
			if depth > 1 {
				assert.NotContains(t, m, "description", "%s: a description at depth %d", tool.Tool.Name, depth)
			}
			if props, ok := m["properties"].(map[string]any); ok {
				assert.LessOrEqual(t, depth, outputDepth-1, "%s: properties at depth %d", tool.Tool.Name, depth+1)
				for _, p := range props {
					walk(p.(map[string]any), depth+1)
				}
			}
			if items, ok := m["items"].(map[string]any); ok {
				walk(items, depth)
			}
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		assert.Equal(t, "object", m["type"], tool.Tool.Name)
		walk(m, 0)
	}
}

// The lean schema is still enforced: mcp-go validates each result against
// the raw schema newTool sets, and refuses one that does not match (a
// schema it could not compile would be skipped silently).
func TestLeanOutputSchemaIsEnforced(t *testing.T) {
	type out struct {
		Count int `json:"count"`
		Rows  []struct {
			ID string `json:"id"`
		} `json:"rows"`
	}
	tool := newTool("probe", mcp.WithDescription("probe"), mcp.WithOutputSchema[out]())
	var answer any
	s := server.NewMCPServer("probe", "1", server.WithToolCapabilities(false), server.WithOutputSchemaValidation())
	s.AddTool(tool, func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultStructured(answer, "probe"), nil
	})
	call := func() *mcp.CallToolResult {
		return callTool(t, s, "probe", map[string]any{})
	}

	answer = map[string]any{"count": 2, "rows": []any{map[string]any{"id": "a"}}, "extra": true}
	res := call()
	assert.False(t, res.IsError, "a valid result, with a field the schema leaves out: %s", resultText(res))
	answer = map[string]any{"count": "two"}
	assert.True(t, call().IsError, "a result of the wrong type is refused")
	answer = map[string]any{"rows": []any{map[string]any{"id": 7}}}
	assert.True(t, call().IsError, "so is a row of the wrong type")
}
