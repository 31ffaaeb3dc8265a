package certs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// MayDecideRequest answers what Approve would, without deciding.
func TestMayDecideRequest_answersAsApproveWouldAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		approvers []string
		actor     certs.Actor
		code, msg string
	}{
		{"an approver", nil, albert, "", ""},
		{"the requester", []string{"slack:U_BOB"}, bob, certs.EFORBIDDEN, "you filed request"},
		{"a non-approver", nil, eve, certs.EFORBIDDEN, "you are not an approver"},
		{"an approver without an ISC identity", []string{"mcp:tok-anon"}, certs.Actor{ID: "tok-anon", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}, certs.EFORBIDDEN, "needs your ISC identity"},
		{"the new reviewer", []string{"identity:id-carol"}, certs.Actor{ID: "U_CAROL", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-carol"}, certs.EFORBIDDEN, "would make you the reviewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			p := f.plan(t, bob)
			r, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, tt.approvers, nil)
			require.NoError(t, err)
			events := len(f.store.Events())

			err = f.svc.MayDecideRequest(ctx, tt.actor, r.ID)
			assert.Equal(t, r.Version, f.get(t, r.ID).Version, "nothing changed")
			assert.Len(t, f.store.Events(), events, "nothing recorded")
			assert.Zero(t, f.reassignCalls())
			_, approveErr := f.svc.Approve(ctx, tt.actor, r.ID)
			if tt.code == "" {
				require.NoError(t, err)
				require.NoError(t, approveErr)
				return
			}
			requireCode(t, tt.code, err)
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
			assert.Equal(t, certs.ErrorMessage(approveErr), certs.ErrorMessage(err), "the words Approve would use")
		})
	}

	t.Run("a decided request", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.requestIn(t, certs.StateSubmitted)
		err := f.svc.MayDecideRequest(ctx, albert, r.ID)
		requireCode(t, certs.ECONFLICT, err)
		assert.Contains(t, certs.ErrorMessage(err), "was already approved by Alice")
	})

	t.Run("a pending request past its expiry is not expired by asking", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		f.clock.Advance(certs.DefaultRequestTTL + time.Minute)
		events := len(f.store.Events())
		err := f.svc.MayDecideRequest(ctx, albert, r.ID)
		requireCode(t, certs.ECONFLICT, err)
		assert.Contains(t, certs.ErrorMessage(err), "expired at 14:00 UTC without a decision")
		assert.Equal(t, certs.StatePending, f.get(t, r.ID).State, "the worker or a decision expires it")
		assert.Len(t, f.store.Events(), events)
	})

	t.Run("an unknown or malformed id", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		requireCode(t, certs.ENOTFOUND, f.svc.MayDecideRequest(ctx, albert, "nope"))
		requireCode(t, certs.EINVALID, f.svc.MayDecideRequest(ctx, albert, "a b"))
	})
}
