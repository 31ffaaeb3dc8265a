package certs_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
)

func TestRequestConflictMessage(t *testing.T) {
	alice := &certs.Actor{ID: "U1", Name: "Alice", Frontend: certs.FrontendSlack}
	noName := &certs.Actor{ID: "U2", Frontend: certs.FrontendSlack}
	for _, tc := range []struct {
		name      string
		state     certs.RequestState
		decidedBy *certs.Actor
		want      string
	}{
		{"approved", certs.StateApproved, alice, "request r-1 is already approved by Alice"},
		{"denied", certs.StateDenied, alice, "request r-1 is already denied by Alice"},
		{"cancelled", certs.StateCancelled, alice, "request r-1 is already cancelled by Alice"},
		{"decider without a name", certs.StateApproved, noName, "request r-1 is already approved by U2"},
		{"submitting", certs.StateSubmitting, alice, "request r-1 is already submitting (approved by Alice)"},
		{"completed", certs.StateCompleted, alice, "request r-1 is already completed (approved by Alice)"},
		{"expired", certs.StateExpired, nil, "request r-1 is already expired"},
		{"still pending", certs.StatePending, nil, "request r-1 is still pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := certs.RequestConflict(&certs.Request{ID: "r-1", State: tc.state, DecidedBy: tc.decidedBy, Version: 3}, []certs.RequestState{certs.StatePending})
			assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err))
			assert.Equal(t, tc.want, certs.ErrorMessage(err))
		})
	}
}

func TestValidateStorableJSONTellsNULFromALiteralBackslashU(t *testing.T) {
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
			assert.Equal(t, tc.nul, certs.ValidateStorableJSON("reason", b) != nil, "%s", b)
		})
	}
}

// A store refuses only what it cannot hold, in ValidateStorable's words:
// the text policy's other refusals are not its.
func TestValidateStorableTextsRefusesOnlyWhatCannotBeStored(t *testing.T) {
	assert.NoError(t, certs.ValidateStorableTexts("event detail", "override \u202E, escape \x1b", "request id", "r-1"))
	err := certs.ValidateStorableTexts("request id", "r-1", "event detail", "on leave\x00")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Equal(t, "event detail contains U+0000, a NUL character, at character 9: it cannot be stored; remove it", certs.ErrorMessage(err))
	err = certs.ValidateStorableTexts("event detail", "caf\xe9")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "event detail is not valid UTF-8 text (byte 0xE9 at byte 4): it cannot be stored")
}
