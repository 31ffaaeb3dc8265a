package sailpoint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// TestOddBodies covers answers the sandbox never gives: a proxy's HTML, a
// huge error body, a 200 that is not JSON. A tiny server stands in for the
// tenant; only the client's body handling is under test.
func TestOddBodies(t *testing.T) {
	huge := strings.Repeat("x", 5<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/oauth/token":
			assert.NoError(t, r.ParseForm())
			assert.Equal(t, "id", r.PostForm.Get("client_id"), "credentials as form fields")
			assert.Equal(t, "secret", r.PostForm.Get("client_secret"))
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":749}`))
		case strings.HasSuffix(r.URL.Path, "/html"):
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		case strings.HasSuffix(r.URL.Path, "/huge"):
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(huge))
		case strings.HasSuffix(r.URL.Path, "/notjson"):
			_, _ = w.Write([]byte("<html>login page</html>"))
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", APIVersion: APIv3, Timeout: 5 * time.Second,
		MaxRetries: 1, Concurrency: 1}, Options{})
	require.NoError(t, err)
	get := func(id string) error {
		var out any
		_, err := c.send(context.Background(), &request{op: opGetCertification, method: http.MethodGet, url: c.url(opGetCertification, nil, id)}, &out)
		return err
	}

	err = get("html")
	assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "502 Bad Gateway")

	err = get("huge")
	assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
	apiErr := AsAPIError(err)
	require.NotNil(t, apiErr)
	assert.Less(t, len(strings.Join(apiErr.Messages, "")), 300, "a huge body becomes a short message")

	err = get("notjson")
	assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "not the expected JSON")
}
