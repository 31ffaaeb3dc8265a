package signin

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// A person's grant goes when ISC says their identity is gone or inactive,
// whichever way it says it:
//
//   - the refresh is refused (invalid_grant: ISC revokes the grants of a
//     person who leaves, as the sandbox's SetIdentityActive(false) does):
//     source.Token discards the grant;
//   - an API call as the person is answered 401 or 403 with a body that
//     says the identity is inactive, disabled or not found (inactiveGuard,
//     below): the grant is discarded at once, and a 403 is handed to the
//     sailpoint client as a 401 so that it asks the token source again,
//     which answers ErrSignInAgain. Either way the call fails EFORBIDDEN
//     with ErrSignInAgain's words, the grant is deleted from the store, and
//     in Slack the link goes with it on the person's next message.

// maxInactiveBody bounds how much of a 401/403 body is read to tell why.
const maxInactiveBody = 64 << 10

// inactiveGuard is a person's HTTP transport: it watches their API calls
// for ISC's word that the identity is no longer active.
type inactiveGuard struct {
	next http.RoundTripper
	src  *source
}

func (g *inactiveGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := g.next.RoundTrip(req)
	if err != nil || (res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden) ||
		req.URL.Path == tokenPath(g.src.s.cfg.TokenURL) {
		return res, err
	}
	data, rerr := io.ReadAll(io.LimitReader(res.Body, maxInactiveBody))
	rest := res.Body
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), rest), rest}
	if rerr != nil || !saysInactive(data) {
		return res, nil
	}
	ctx := context.WithoutCancel(req.Context())
	g.src.s.log.LogAttrs(ctx, slog.LevelWarn, "SailPoint says the identity is no longer active",
		slog.String("identity", g.src.identityID), slog.Int("status", res.StatusCode))
	g.src.discard(ctx)
	if res.StatusCode == http.StatusForbidden {
		// Not applied (ISC refused it), so the client may ask its token
		// source again, which now says the person must sign in again.
		res.StatusCode, res.Status = http.StatusUnauthorized, "401 Unauthorized"
	}
	return res, nil
}

// tokenPath is the path of the token URL ("" when it does not parse).
func tokenPath(tokenURL string) string {
	if i := strings.Index(tokenURL, "://"); i >= 0 {
		rest := tokenURL[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
	}
	return ""
}

// inactiveWords are what ISC's messages say of an identity that is gone
// or inactive (lower case).
var inactiveWords = []string{
	"identity is inactive", "identity is not active", "inactive identity",
	"identity is disabled", "identity has been disabled", "disabled identity",
	"identity not found", "identity was deleted", "identity is terminated",
	"user is inactive", "user is disabled", "account is disabled",
}

// saysInactive reports whether a 401/403 body says the identity is gone
// or inactive.
func saysInactive(body []byte) bool {
	s := strings.ToLower(string(body))
	for _, w := range inactiveWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// guardedClient is base (nil: a transport of its own) with src's inactiveGuard
// over its transport.
func guardedClient(base *http.Client, src *source) *http.Client {
	if base == nil {
		// As sailpoint.New's own default: enough idle connections for
		// list-all's concurrent pages.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 128
		base = &http.Client{Transport: t}
	}
	c := *base
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &inactiveGuard{next: next, src: src}
	return &c
}

// CloseIdleConnections passes on to the transport underneath.
func (g *inactiveGuard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
