package sailpoint

import (
	"fmt"

	"golang.org/x/oauth2"
)

// NewPerson returns a client that calls ISC as one person, with the access
// tokens ts gives (internal/signin: the person's refresh token, exchanged
// at ISC's token endpoint) instead of the client credentials of cfg.
//
// cfg is the service's configuration (base URL, API version, pacing,
// timeouts, retries); its client id and secret are not used. The client has
// its own pacer, so each person has their own budget, as ISC counts user
// tokens per OAuth client and person. credential names the person in the
// keys of a shared ReadCache (e.g. "person:<identity id>"), so that no read
// of one person's answers another's; it must differ from every other
// client's id.
//
// ts is asked for a token when the client has none, shortly before the one
// it has expires, and once when ISC refuses it (401): every call of Token
// must fetch a new access token, not return a cached one. An error that is
// a *certs.Error is returned to the caller as it is (EFORBIDDEN "sign in
// with SailPoint again"); any other is reported as the token endpoint's.
func NewPerson(cfg Config, credential string, ts oauth2.TokenSource, opts Options) (*Client, error) {
	if credential == "" || ts == nil {
		return nil, fmt.Errorf("sailpoint.NewPerson: a credential name and a token source are required")
	}
	cfg.ClientID = credential
	cfg.ClientSecret, cfg.ClientSecretFile = "unused", "" // Validate wants one; never sent
	c, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	c.cfg.ClientSecret = ""
	c.tokens.source = ts
	return c, nil
}
