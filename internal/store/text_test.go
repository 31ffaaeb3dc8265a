package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckJSONTellsNULFromALiteralBackslashU(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		nul  bool
	}{
		{"plain", "on leave", false},
		{"NUL", "on\x00leave", true},
		{`literal \u0000`, `on \u0000 leave`, false},
		{`literal \\u0000`, `on \\u0000 leave`, false},
		{"backslash then NUL", "on \\\x00 leave", true},
		{"two backslashes then NUL", "on \\\\\x00 leave", true},
		{`literal \u0000 then NUL`, "on \\u0000 \x00", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(map[string]string{"reason": tc.text})
			if !assert.NoError(t, err) {
				return
			}
			assert.Equal(t, tc.nul, checkJSON("reason", b) != nil, "%s", b)
		})
	}
}
