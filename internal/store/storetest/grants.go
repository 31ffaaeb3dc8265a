package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// testGrants: a grant is saved, read back by its identity from another
// handle, replaced keeping its Created, and deleted once; what a store
// cannot hold is refused without echoing the token.
func testGrants(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)

	_, err := e.s.GetGrant(ctx, "id-alice")
	requireCode(t, certs.ENOTFOUND, err)
	requireCode(t, certs.ENOTFOUND, e.s.DeleteGrant(ctx, "id-alice"))

	expiry := e.clock.Now().Add(24 * time.Hour)
	g := &certs.Grant{IdentityID: "id-alice", RefreshToken: "k1:ciphertext-1", Expiry: expiry}
	require.NoError(t, e.s.SaveGrant(ctx, g))
	created := e.clock.Now().UTC().Truncate(time.Microsecond)
	assert.Equal(t, created, g.Created, "Created set as stored")
	assert.Equal(t, created, g.Updated)
	assert.Equal(t, expiry.UTC().Truncate(time.Microsecond), g.Expiry)

	other := e.another(t)
	got, err := other.GetGrant(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, g, got)

	e.clock.Advance(time.Minute)
	g2 := &certs.Grant{IdentityID: "id-alice", RefreshToken: "k2:ciphertext-2"}
	require.NoError(t, other.SaveGrant(ctx, g2))
	assert.Equal(t, created, g2.Created, "a save replacing a grant keeps Created")
	assert.Equal(t, e.clock.Now().UTC().Truncate(time.Microsecond), g2.Updated)
	assert.True(t, g2.Expiry.IsZero(), "no expiry: zero")
	got, err = e.s.GetGrant(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, g2, got)

	// Another person's grant is theirs alone.
	require.NoError(t, e.s.SaveGrant(ctx, &certs.Grant{IdentityID: "id-bob", RefreshToken: "k1:bob"}))
	require.NoError(t, e.s.DeleteGrant(ctx, "id-alice"))
	_, err = other.GetGrant(ctx, "id-alice")
	requireCode(t, certs.ENOTFOUND, err)
	requireCode(t, certs.ENOTFOUND, other.DeleteGrant(ctx, "id-alice")) // deleting twice says there was none
	bob, err := other.GetGrant(ctx, "id-bob")
	require.NoError(t, err)
	assert.Equal(t, "k1:bob", bob.RefreshToken)

	for _, bad := range []*certs.Grant{
		nil,
		{IdentityID: "", RefreshToken: "x"},
		{IdentityID: "id-carol", RefreshToken: ""},
		{IdentityID: "id-carol", RefreshToken: "secret\x00token"},
		{IdentityID: "id-carol", RefreshToken: "secret\xfftoken"},
	} {
		err := e.s.SaveGrant(ctx, bad)
		requireCode(t, certs.EINVALID, err)
		assert.NotContains(t, err.Error(), "secret", "the token is not echoed")
	}
	_, err = e.s.GetGrant(ctx, "id-carol")
	requireCode(t, certs.ENOTFOUND, err)
}
