package tools

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToolsetsMatchReadOnlyHints(t *testing.T) {
	for _, tool := range readTools(deps{}) {
		require.NotNil(t, tool.Tool.Annotations.ReadOnlyHint, tool.Tool.Name)
		assert.True(t, *tool.Tool.Annotations.ReadOnlyHint, "%s is listed as a read tool but its ReadOnlyHint is false", tool.Tool.Name)
		assert.False(t, *tool.Tool.Annotations.DestructiveHint, "%s is a read tool but claims to be destructive", tool.Tool.Name)
	}
	for _, tool := range writeTools(deps{}) {
		require.NotNil(t, tool.Tool.Annotations.ReadOnlyHint, tool.Tool.Name)
		assert.False(t, *tool.Tool.Annotations.ReadOnlyHint, "%s is listed as a write tool but its ReadOnlyHint is true", tool.Tool.Name)
	}
}

func TestEveryToolIsAnnotatedAndDescribed(t *testing.T) {
	for _, tool := range append(readTools(deps{}), writeTools(deps{})...) {
		a := tool.Tool.Annotations
		assert.NotEmpty(t, a.Title, tool.Tool.Name)
		assert.Equal(t, a.Title, tool.Tool.Title, tool.Tool.Name)
		for name, hint := range map[string]*bool{"readOnly": a.ReadOnlyHint, "destructive": a.DestructiveHint, "idempotent": a.IdempotentHint, "openWorld": a.OpenWorldHint} {
			assert.NotNil(t, hint, "%s has no %sHint", tool.Tool.Name, name)
		}
		assert.NotEmpty(t, tool.Tool.Description, tool.Tool.Name)
		var out struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(tool.Tool.RawOutputSchema, &out), "%s has no output schema", tool.Tool.Name)
		assert.Equal(t, "object", out.Type, tool.Tool.Name)
		assert.NotEmpty(t, out.Properties, "%s's output schema has no properties", tool.Tool.Name)
		for prop, schema := range tool.Tool.InputSchema.Properties {
			m, ok := schema.(map[string]any)
			require.True(t, ok)
			assert.NotEmpty(t, m["description"], "%s.%s has no description", tool.Tool.Name, prop)
		}
	}
}

func TestSelectTools(t *testing.T) {
	names := func(sel Selection) []string {
		tools, err := selectTools(deps{}, sel)
		require.NoError(t, err)
		var out []string
		for _, tl := range tools {
			out = append(out, tl.Tool.Name)
		}
		return out
	}
	t.Run("read-only leaves out every write tool", func(t *testing.T) {
		got := names(Selection{ReadOnly: true})
		for _, w := range writeTools(deps{}) {
			assert.NotContains(t, got, w.Tool.Name)
		}
		assert.Len(t, got, len(readTools(deps{})))
	})
	t.Run("read-only wins over allow", func(t *testing.T) {
		assert.Equal(t, []string{"list_certifications"}, names(Selection{ReadOnly: true, Allow: []string{"list_certifications", "reassign"}}))
	})
	t.Run("allow list", func(t *testing.T) {
		assert.Equal(t, []string{"get_certification", "reassign"}, names(Selection{Allow: []string{"reassign", "get_certification"}}))
	})
	t.Run("deny list", func(t *testing.T) {
		got := names(Selection{Deny: []string{"reassign"}})
		assert.NotContains(t, got, "reassign")
		assert.Contains(t, got, "plan_reassignment")
	})
	t.Run("unknown names fail", func(t *testing.T) {
		_, err := selectTools(deps{}, Selection{Allow: []string{"list_certificatons"}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "list_certificatons")
		_, err = selectTools(deps{}, Selection{Deny: []string{"drop_tables"}})
		require.Error(t, err)
	})
	t.Run("nothing left fails", func(t *testing.T) {
		_, err := selectTools(deps{}, Selection{ReadOnly: true, Allow: []string{"reassign"}})
		require.Error(t, err)
	})
}

func TestParseToolList(t *testing.T) {
	assert.Equal(t, []string{"a", "b"}, ParseToolList(" a, ,b ,"))
	assert.Nil(t, ParseToolList(""))
}
