package slackbot

import (
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// TestSlackInactiveIdentityLosesLink: a person who signed in from Slack
// leaves (ISC makes their identity inactive and revokes their grants): their
// next command is answered with the words to sign in again and the button,
// and both their grant and their Slack link are deleted.
func TestSlackInactiveIdentityLosesLink(t *testing.T) {
	w := newSignInWorld(t)
	p, cert := w.reviewer(t)
	link := signInLink(t, w.command(t, alice, "list"))
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	res, page := w.browse(t, jar, link, p, "sign-in")
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	post := w.command(t, alice, "list")
	require.Contains(t, post.Raw, cert.ID)

	require.True(t, w.tn.sb.SetIdentityActive(p.IdentityID, false))
	t.Cleanup(func() { w.tn.sb.SetIdentityActive(p.IdentityID, true) })

	post = w.command(t, alice, "list")
	assert.Contains(t, post.Raw, "no longer valid", "what the person reads: %s", post.Raw)
	assert.Contains(t, post.Raw, "sign in with SailPoint again")
	signInLink(t, post)
	_, err = w.store.GetGrant(t.Context(), p.IdentityID)
	requireCode(t, certs.ENOTFOUND, err)
	_, err = w.store.GetLink(t.Context(), "slack:T012AB3C4/"+alice)
	requireCode(t, certs.ENOTFOUND, err)
	assert.Contains(t, w.logs.String(), "link deleted")

	checkSignInLogs(t, w.logs.String(), link)
}
