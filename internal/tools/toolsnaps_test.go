package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToolSnapshots compares every tool's definition (what the model sees:
// description, input and output schemas, annotations) with its golden file
// in __toolsnaps__, so a change to it is reviewed on purpose. Regenerate
// with UPDATE_TOOLSNAPS=true go test ./internal/tools.
func TestToolSnapshots(t *testing.T) {
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	seen := map[string]bool{}
	for _, tool := range append(readTools(deps{}), writeTools(deps{})...) {
		name := tool.Tool.Name
		seen[name+".snap"] = true
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(tool.Tool)
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, json.Indent(&got, raw, "", "  "))
			got.WriteByte('\n')
			path := filepath.Join("__toolsnaps__", name+".snap")
			if update {
				require.NoError(t, os.MkdirAll("__toolsnaps__", 0o755))
				require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no snapshot for %s: run UPDATE_TOOLSNAPS=true go test ./internal/tools", name)
			assert.JSONEq(t, string(want), got.String(), "tool %s changed: review the diff, then run UPDATE_TOOLSNAPS=true go test ./internal/tools", name)
		})
	}
	entries, err := os.ReadDir("__toolsnaps__")
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, seen[e.Name()], "stale snapshot %s: the tool no longer exists", e.Name())
	}
}
