package grantkey_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/grantkey"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/testkit"
)

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func TestSealOpen(t *testing.T) {
	k, err := grantkey.New(secret.Static(newKey(t)), nil)
	require.NoError(t, err)
	sealed, err := k.Seal("id-alice", "refresh-token-1")
	require.NoError(t, err)
	assert.NotContains(t, sealed, "refresh-token-1")
	id, err := k.CurrentID()
	require.NoError(t, err)
	assert.Equal(t, id, grantkey.KeyID(sealed))
	assert.True(t, strings.HasPrefix(sealed, "gk1."+id+"."))

	again, err := k.Seal("id-alice", "refresh-token-1")
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "a fresh nonce each time")

	plain, err := k.Open("id-alice", sealed)
	require.NoError(t, err)
	assert.Equal(t, "refresh-token-1", plain)

	_, err = k.Open("id-bob", sealed)
	require.ErrorIs(t, err, grantkey.ErrUnopenable, "bound to its identity")
	tampered := sealed[:len(sealed)-2] + "AA"
	_, err = k.Open("id-alice", tampered)
	require.ErrorIs(t, err, grantkey.ErrUnopenable)
	for _, bad := range []string{"", "plain-token", "gk1.x", "gk2." + id + ".AAAA", "gk1." + id + ".!!"} {
		_, err = k.Open("id-alice", bad)
		require.ErrorIs(t, err, grantkey.ErrUnopenable, bad)
	}
}

func TestKeyFormats(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw), " " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		_, err := grantkey.New(secret.Static(s), nil)
		require.NoError(t, err, s)
	}
	for _, s := range []string{"short", base64.StdEncoding.EncodeToString(raw[:16]), "not a key at all, 32 characters!"} {
		_, err := grantkey.New(secret.Static(s), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "CERTOPS_GRANT_KEY")
		assert.NotContains(t, err.Error(), s, "the value is not echoed")
	}
	_, err := grantkey.New(secret.Static(newKey(t)), secret.Static("bad"))
	require.ErrorContains(t, err, "CERTOPS_GRANT_KEY_PREVIOUS")
	_, err = grantkey.New(nil, nil)
	require.ErrorContains(t, err, "CERTOPS_GRANT_KEY is required")
}

// TestRotation: the previous key still opens, new seals use the new key;
// a key file replaced while running keeps opening with the key it replaced.
func TestRotation(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	before, err := grantkey.New(secret.Static(oldKey), nil)
	require.NoError(t, err)
	sealedOld, err := before.Seal("id-alice", "rt-old")
	require.NoError(t, err)

	after, err := grantkey.New(secret.Static(newK), secret.Static(oldKey))
	require.NoError(t, err)
	plain, err := after.Open("id-alice", sealedOld)
	require.NoError(t, err)
	assert.Equal(t, "rt-old", plain)
	sealedNew, err := after.Seal("id-alice", "rt-new")
	require.NoError(t, err)
	newID, _ := after.CurrentID()
	oldID, _ := before.CurrentID()
	assert.Equal(t, newID, grantkey.KeyID(sealedNew))
	assert.NotEqual(t, oldID, newID)
	_, err = before.Open("id-alice", sealedNew)
	require.ErrorIs(t, err, grantkey.ErrUnopenable, "the old key does not open the new seal")

	done, err := grantkey.New(secret.Static(newK), nil)
	require.NoError(t, err)
	_, err = done.Open("id-alice", sealedOld)
	require.ErrorIs(t, err, grantkey.ErrUnopenable, "once the previous key is gone, its seals do not open")

	// From a file, rotated while running (FromEnv; the clock is injected).
	dir := t.TempDir()
	path := filepath.Join(dir, "grant-key")
	require.NoError(t, os.WriteFile(path, []byte(oldKey+"\n"), 0o600))
	clk := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	env := map[string]string{"CERTOPS_GRANT_KEY_FILE": path}
	fk, err := grantkey.FromEnv(func(n string) string { return env[n] }, secret.Options{Now: clk.Now})
	require.NoError(t, err)
	sealedFile, err := fk.Seal("id-bob", "rt-file")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(newK), 0o600))
	clk.Advance(secret.DefaultCheckEvery)
	id, err := fk.CurrentID()
	require.NoError(t, err)
	assert.Equal(t, newID, id, "the rotated file is read")
	plain, err = fk.Open("id-bob", sealedFile)
	require.NoError(t, err, "the key the file held before still opens")
	assert.Equal(t, "rt-file", plain)

	env["CERTOPS_GRANT_KEY"] = newK
	_, err = grantkey.FromEnv(func(n string) string { return env[n] }, secret.Options{})
	require.ErrorContains(t, err, "both set")
}
