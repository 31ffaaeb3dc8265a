package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
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

// The store refuses only what it cannot hold, in certs' words
// (certs.ValidateStorable): the text policy's other refusals are not its.
func TestCheckTextsRefusesOnlyWhatCannotBeStored(t *testing.T) {
	assert.NoError(t, checkTexts("event detail", "override \u202E, escape \x1b", "request id", "r-1"))
	err := checkTexts("request id", "r-1", "event detail", "on leave\x00")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Equal(t, "event detail contains U+0000, a NUL character, at character 9: it cannot be stored; remove it", certs.ErrorMessage(err))
	err = checkTexts("event detail", "caf\xe9")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "event detail is not valid UTF-8 text (byte 0xE9 at byte 4): it cannot be stored")
}
