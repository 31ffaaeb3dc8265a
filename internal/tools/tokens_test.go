package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestParseTokens(t *testing.T) {
	alice, bob := HashToken("alice-secret"), HashToken("bob-secret")
	t.Run("JSON list", func(t *testing.T) {
		got, err := ParseTokens([]byte(`[{"name":"alice","sha256":"` + alice + `","identityId":"id-alice","role":"admin"}]`))
		require.NoError(t, err)
		assert.Equal(t, []Token{{Name: "alice", SHA256: alice, IdentityID: "id-alice", Role: certs.RoleAdmin}}, got)
	})
	t.Run("YAML with tokens key", func(t *testing.T) {
		got, err := ParseTokens([]byte("tokens:\n  - name: bob\n    sha256: " + bob + "\n    identityId: id-bob\n    role: reviewer\n"))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, certs.RoleReviewer, got[0].Role)
	})
	t.Run("a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tokens.yaml")
		require.NoError(t, os.WriteFile(path, []byte("- name: alice\n  sha256: "+alice+"\n  role: admin\n"), 0o600))
		got, err := LoadTokens(path)
		require.NoError(t, err)
		assert.Len(t, got, 1)
	})
	bad := map[string]string{
		"empty":                     ``,
		"bad hash":                  `[{"name":"a","sha256":"abc","role":"admin"}]`,
		"unknown role":              `[{"name":"a","sha256":"` + alice + `","role":"root"}]`,
		"reviewer without identity": `[{"name":"a","sha256":"` + alice + `","role":"reviewer"}]`,
		"duplicate name":            `[{"name":"a","sha256":"` + alice + `","role":"admin"},{"name":"a","sha256":"` + bob + `","role":"admin"}]`,
		"duplicate hash":            `[{"name":"a","sha256":"` + alice + `","role":"admin"},{"name":"b","sha256":"` + strings.ToUpper(alice) + `","role":"admin"}]`,
		"unknown field":             `[{"name":"a","token":"plaintext","sha256":"` + alice + `","role":"admin"}]`,
		"bad name":                  `[{"name":"a b","sha256":"` + alice + `","role":"admin"}]`,
	}
	for name, raw := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTokens([]byte(raw))
			assert.Error(t, err)
		})
	}
}

func TestAuthenticator(t *testing.T) {
	a, err := NewAuthenticator([]Token{
		{Name: "alice", SHA256: HashToken("alice-secret"), IdentityID: "id-alice", Role: certs.RoleAdmin},
		{Name: "bob", SHA256: HashToken("bob-secret"), IdentityID: "id-bob", Role: certs.RoleReviewer},
	})
	require.NoError(t, err)
	actor, ok := a.Authenticate("bob-secret")
	require.True(t, ok)
	assert.Equal(t, certs.Actor{ID: "bob", Name: "bob", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-bob"}, actor)
	for _, wrong := range []string{"", "bob-secre", "bob-secret ", HashToken("bob-secret")} {
		_, ok := a.Authenticate(wrong)
		assert.False(t, ok, "%q must not authenticate", wrong)
	}
}
