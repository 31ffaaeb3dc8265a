package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// testLinks: a front-end account's link to an identity is saved, read from
// another handle, replaced (another sign-in), and deleted once.
func testLinks(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	ls, ok := e.s.(certs.LinkStore)
	if !ok {
		t.Skip("this store keeps no links")
	}
	other, ok := e.another(t).(certs.LinkStore)
	require.True(t, ok)
	const key = "slack:T1/U1"

	_, err := ls.GetLink(ctx, key)
	requireCode(t, certs.ENOTFOUND, err)
	requireCode(t, certs.ENOTFOUND, ls.DeleteLink(ctx, key))

	l := &certs.Link{Key: key, IdentityID: "id-alice"}
	require.NoError(t, ls.SaveLink(ctx, l))
	assert.False(t, l.Created.IsZero())
	got, err := other.GetLink(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, l, got)

	require.NoError(t, other.SaveLink(ctx, &certs.Link{Key: key, IdentityID: "id-bob"}))
	require.NoError(t, ls.SaveLink(ctx, &certs.Link{Key: "slack:T1/U2", IdentityID: "id-bob"}))
	got, err = ls.GetLink(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, "id-bob", got.IdentityID, "a new sign-in replaces the link")

	require.NoError(t, ls.DeleteLink(ctx, key))
	_, err = other.GetLink(ctx, key)
	requireCode(t, certs.ENOTFOUND, err)
	requireCode(t, certs.ENOTFOUND, other.DeleteLink(ctx, key))
	_, err = other.GetLink(ctx, "slack:T1/U2")
	require.NoError(t, err, "another account's link stays")

	requireCode(t, certs.EINVALID, ls.SaveLink(ctx, &certs.Link{Key: "", IdentityID: "x"}))
	requireCode(t, certs.EINVALID, ls.SaveLink(ctx, nil))
}
