package store

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
)

func TestStateConflictMessage(t *testing.T) {
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
			err := stateConflict(&certs.Request{ID: "r-1", State: tc.state, DecidedBy: tc.decidedBy, Version: 3}, []certs.RequestState{certs.StatePending})
			assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err))
			assert.Equal(t, tc.want, certs.ErrorMessage(err))
		})
	}
}
