package certs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// Each operation that needs the actor's ISC identity says, through
// ErrNoIdentity, that it was missing, so a front end can tell its people how
// to link one.
func TestOperationsThatNeedAnIdentityWrapErrNoIdentity(t *testing.T) {
	ctx := context.Background()
	anonymous := certs.Actor{ID: "tok-anon", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}

	f := setup(t, approvalPolicy)
	_, err := f.svc.ListCertifications(ctx, unlinked, certs.CertificationQuery{})
	require.ErrorIs(t, err, certs.ErrNoIdentity, "my certifications")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))

	p := f.plan(t, admin)
	_, err = f.svc.RequestApproval(ctx, anonymous, p.ID, p.Digest, nil, nil)
	require.ErrorIs(t, err, certs.ErrNoIdentity, "filing a request")

	p = f.plan(t, bob)
	r, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, []string{"mcp:tok-anon"}, nil)
	require.NoError(t, err)
	_, err = f.svc.Approve(ctx, anonymous, r.ID)
	require.ErrorIs(t, err, certs.ErrNoIdentity, "deciding a request")
	assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err))

	_, err = f.svc.ListCertifications(ctx, bob, certs.CertificationQuery{Reviewer: "id-dan"})
	assert.NotErrorIs(t, err, certs.ErrNoIdentity, "other refusals are not about the identity")
}
