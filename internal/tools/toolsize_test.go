package tools

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toolsListBudget bounds what tools/list costs a model's context, every
// tool offered: half of the 52,954 bytes it took for 14 tools before issue
// 14 (descriptions written as prose, every output field described to the
// bottom, input ids described three times over).
const toolsListBudget = 52_954 / 2

// TestToolsListSize measures the tools/list answer, as a client receives
// it, and each tool's share of it.
func TestToolsListSize(t *testing.T) {
	s, _ := setup(t, testConfig{})
	out := rpc(t, s, "tools/list", map[string]any{})
	raw, err := json.Marshal(out)
	require.NoError(t, err)
	res, ok := out["result"].(map[string]any)
	require.True(t, ok, "%v", out)
	tools, _ := res["tools"].([]any)
	require.Len(t, tools, len(ToolNames()))
	for _, tl := range tools {
		m := tl.(map[string]any)
		size := func(k string) int {
			b, err := json.Marshal(m[k])
			require.NoError(t, err)
			return len(b)
		}
		all, err := json.Marshal(m)
		require.NoError(t, err)
		t.Logf("%-24s %5d bytes: description %4d, input %4d, output %4d", m["name"], len(all), size("description"), size("inputSchema"), size("outputSchema"))
	}
	t.Logf("tools/list: %d bytes for %d tools", len(raw), len(tools))
	assert.LessOrEqual(t, len(raw), toolsListBudget, "tools/list grew past its budget: shorten descriptions and schemas before raising it")
}
