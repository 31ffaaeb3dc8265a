package sailpoint_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// sourceFunc is an oauth2.TokenSource from a function.
type sourceFunc func() (*oauth2.Token, error)

func (f sourceFunc) Token() (*oauth2.Token, error) { return f() }

// TestNewPerson: a person's client calls with the tokens its source gives,
// asks it again when ISC refuses one, and returns the source's own
// certs.Error as it is.
func TestNewPerson(t *testing.T) {
	h := start(t, sandbox.Config{}, sailpoint.APIv3)
	reviewer := h.sb.Clients()[1]
	cc := clientcredentials.Config{ClientID: reviewer.ClientID, ClientSecret: reviewer.ClientSecret, TokenURL: h.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}
	var calls atomic.Int32
	src := sourceFunc(func() (*oauth2.Token, error) {
		if calls.Add(1) == 1 {
			return &oauth2.Token{AccessToken: "refused", ExpiresIn: 600}, nil
		}
		return cc.Token(context.Background())
	})
	cfg := h.cfg
	c, err := sailpoint.NewPerson(cfg, "person:"+reviewer.IdentityID, src, sailpoint.Options{})
	require.NoError(t, err)
	assert.Equal(t, "person:"+reviewer.IdentityID, c.Config().ClientID)
	assert.Empty(t, c.Config().ClientSecret)

	page, err := c.ListCertifications(t.Context(), certs.CertificationFilter{Page: certs.PageOptions{Limit: 50}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load(), "the refused token made the client ask its source again")
	require.NotEmpty(t, page.Items)
	for _, cert := range page.Items {
		assert.Equal(t, reviewer.IdentityID, cert.Reviewer.ID, "the reviewer's token sees their own certifications only")
	}

	gone := sourceFunc(func() (*oauth2.Token, error) {
		return nil, certs.Errorf(certs.EFORBIDDEN, "sign in with SailPoint again")
	})
	c, err = sailpoint.NewPerson(cfg, "person:someone", gone, sailpoint.Options{})
	require.NoError(t, err)
	_, err = c.ListCertifications(t.Context(), certs.CertificationFilter{})
	require.Error(t, err)
	assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err))
	assert.Contains(t, err.Error(), "sign in with SailPoint again")

	_, err = sailpoint.NewPerson(cfg, "", gone, sailpoint.Options{})
	require.Error(t, err)
}
