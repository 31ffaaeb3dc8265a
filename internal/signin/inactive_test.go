package signin_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/signin"
)

// TestInactiveIdentityLosesGrant: when the person leaves (the sandbox makes
// their identity inactive and, as ISC does, revokes their grants), their
// next call through certops fails with the words that tell them to sign in
// again, their grant is deleted from the store, and signing in is refused
// by ISC until they are active again.
func TestInactiveIdentityLosesGrant(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	p := w.person(1)
	id := w.signIn(w.svc, "slack:T1/U1", p)
	tn, err := w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	reviews(t, ctx, tn)

	require.True(t, w.sb.SetIdentityActive(id, false))
	t.Cleanup(func() { w.sb.SetIdentityActive(id, true) })

	_, err = tn.ListCertifications(ctx, certs.CertificationFilter{})
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Equal(t, signin.ErrSignInAgain, certs.ErrorMessage(err), "what the person reads")
	_, err = w.store.GetGrant(ctx, id)
	requireCode(t, certs.ENOTFOUND, err)
	ok, err := w.svc.SignedIn(ctx, id)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = w.svc.Tenant(ctx, id)
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Equal(t, signin.ErrNotSignedIn, certs.ErrorMessage(err))
	assert.Contains(t, w.logs.String(), "must sign in again")

	// Back at work: they sign in again and act as themselves.
	require.True(t, w.sb.SetIdentityActive(id, true))
	id = w.signIn(w.svc, "slack:T1/U1", p)
	tn, err = w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	reviews(t, ctx, tn)
}

// TestInactiveAnswerDeletesGrant: when ISC answers a person's call 403 (or
// 401) saying the identity is inactive, before any refresh is refused, the
// grant goes at once and the call fails with the sign-in-again words; a
// 403 that says something else (a missing right) leaves the grant alone.
func TestInactiveAnswerDeletesGrant(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		text    string
		removed bool
	}{
		{"403 inactive", http.StatusForbidden, "The identity is inactive.", true},
		{"401 disabled", http.StatusUnauthorized, "User is disabled", true},
		{"403 other", http.StatusForbidden, "The operation requires the CERT_ADMIN user level.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := t.Context()
			var refuse atomic.Bool
			hc := &http.Client{Transport: &refuser{next: w.httpClient().Transport, on: &refuse, status: tc.status, text: tc.text}}
			svc, err := signin.New(signin.Config{
				ClientID: sandbox.CertopsClientID, ClientSecret: secret.Static(sandbox.CertopsClientSecret),
				AuthURL: w.base + "/oauth/authorize", TokenURL: w.base + "/oauth/token", RedirectURL: redirectURI,
			}, signin.Options{
				Store: w.store, Keys: w.keys, SailPoint: w.spCfg,
				Client:     sailpoint.Options{HTTPClient: hc, Logger: w.logger(), Now: w.clk.Now},
				HTTPClient: w.httpClient(), Logger: w.logger(), Now: w.clk.Now,
			})
			require.NoError(t, err)
			id := w.signIn(svc, "mcp:alice", w.person(1))
			tn, err := svc.Tenant(ctx, id)
			require.NoError(t, err)
			reviews(t, ctx, tn)

			refuse.Store(true)
			_, err = tn.ListCertifications(ctx, certs.CertificationFilter{})
			requireCode(t, certs.EFORBIDDEN, err)
			ok, gerr := svc.SignedIn(ctx, id)
			require.NoError(t, gerr)
			if !tc.removed {
				assert.NotEqual(t, signin.ErrSignInAgain, certs.ErrorMessage(err))
				assert.True(t, ok, "a missing right is not a departure")
				return
			}
			assert.Equal(t, signin.ErrSignInAgain, certs.ErrorMessage(err), "what the person reads")
			assert.False(t, ok, "the grant is deleted")
			assert.Contains(t, w.logs.String(), "no longer active")
		})
	}
}

// refuser answers every API call (not the token endpoint) with status and
// an ISC error body saying text, once on is set.
type refuser struct {
	next   http.RoundTripper
	on     *atomic.Bool
	status int
	text   string
}

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	if !r.on.Load() || strings.HasPrefix(req.URL.Path, "/oauth/") {
		return r.next.RoundTrip(req)
	}
	body := `{"detailCode":"403 Forbidden","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"` + r.text + `"}]}`
	return &http.Response{StatusCode: r.status, Status: http.StatusText(r.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}
