package sailpoint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// TestFindIdentityMatching covers answers the sandbox's unique emails never
// give: several identities for one email.
// A tiny server stands in for the tenant; only the matching is under test.
func TestFindIdentityMatching(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":749}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", APIVersion: APIv3, Timeout: 5 * time.Second, Concurrency: 1}, Options{})
	require.NoError(t, err)
	ctx := context.Background()

	tests := []struct {
		name, body, find string
		wantID, wantCode string
	}{
		{"one match, case-insensitive", `[{"id":"a","name":"A","alias":"ada","email":"Ada@x.example"}]`, "ada@X.example", "a", ""},
		{"server's loose match is filtered", `[{"id":"a","name":"A","alias":"ada","email":"ada@x.example.org"}]`, "ada@x.example", "", certs.ENOTFOUND},
		{"two identities share an email", `[{"id":"a","email":"ada@x.example"},{"id":"b","email":"ada@x.example"}]`, "ada@x.example", "", certs.ECONFLICT},
		{"two identities share an email up to case", `[{"id":"a","email":"ada@x.example"},{"id":"b","email":"ADA@x.example"}]`, "ada@x.example", "", certs.ECONFLICT},
		{"one of two is the email", `[{"id":"a","email":"ada@x.example"},{"id":"b","email":"ada@x.example.org"}]`, "ada@x.example", "a", ""},
		{"no identity", `[]`, "ada@x.example", "", certs.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body = tt.body
			got, err := c.FindIdentityByEmail(ctx, tt.find)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, certs.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, got.ID)
		})
	}
}
