package sailpoint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// TestReassignOddAnswers covers answers to a mutation that the sandbox
// never gives: SailPoint accepted it (2xx) but its answer is not JSON or is
// cut short. The change was made and its result is lost: EUNKNOWN, sent
// once, SailPoint's status kept. A tiny server stands in for the tenant.
func TestReassignOddAnswers(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":749}`))
			return
		}
		posts.Add(1)
		switch {
		case strings.HasPrefix(r.URL.Path, "/v3/certifications/notjson/"):
			_, _ = w.Write([]byte("<html>login page</html>"))
		case strings.HasPrefix(r.URL.Path, "/v3/certifications/cut/"):
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte(`{"id":"task-`))
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", APIVersion: APIv3, Timeout: 5 * time.Second,
		MaxRetries: 3, Concurrency: 1}, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	r := func(cert string) certs.Reassignment {
		return certs.Reassignment{CertificationID: cert, Refs: []certs.Ref{{ID: "item-1", Type: certs.RefItem}}, To: "id-carol", Reason: "leave"}
	}

	tests := []struct {
		name, cert, why string
		call            func(certs.Reassignment) error
	}{
		{"async, not JSON", "notjson", "its answer (200 OK) is not the expected JSON", func(r certs.Reassignment) error { _, err := c.ReassignAsync(ctx, r); return err }},
		{"async, cut short", "cut", "its answer (200 OK) was cut short", func(r certs.Reassignment) error { _, err := c.ReassignAsync(ctx, r); return err }},
		{"sync, not JSON", "notjson", "its answer (200 OK) is not the expected JSON", func(r certs.Reassignment) error { _, err := c.Reassign(ctx, r); return err }},
		{"sync, cut short", "cut", "its answer (200 OK) was cut short", func(r certs.Reassignment) error { _, err := c.Reassign(ctx, r); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts.Store(0)
			err := tt.call(r(tt.cert))
			require.Error(t, err)
			assert.Equal(t, certs.EUNKNOWN, certs.ErrorCode(err))
			assert.Equal(t, "outcome unknown: the reassignment of 1 reference of certification "+tt.cert+" to identity id-carol was sent to SailPoint, but "+tt.why+", so it may or may not have been applied; it was not sent again",
				certs.ErrorMessage(err))
			up := certs.UpstreamOf(err)
			require.NotNil(t, up)
			assert.Equal(t, 200, up.Status)
			assert.Equal(t, int32(1), posts.Load(), "sent once, nothing read after it")
		})
	}
}
