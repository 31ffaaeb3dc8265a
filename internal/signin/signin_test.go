package signin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/grantkey"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/signin"
)

func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, certs.ErrorCode(err), "error: %v", err)
}

// TestSignInActsAsThePerson: the whole flow over HTTP, then a reviewer's
// calls see only their certifications, through their Tenant and through a
// Service whose Tenant is a PersonRouter.
func TestSignInActsAsThePerson(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	rev := w.person(1)
	id := w.signIn(w.svc, "slack:T1/U1", rev)

	g, err := w.store.GetGrant(ctx, id)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(g.RefreshToken, "gk1."), "stored sealed")
	for _, s := range w.seen.all() {
		assert.NotContains(t, g.RefreshToken, s, "no token in clear in the store")
	}

	tn, err := w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	mine := reviews(t, ctx, tn)
	require.NotEmpty(t, mine)
	for _, c := range mine {
		assert.Equal(t, id, c.Reviewer.ID, "a reviewer's token sees their own certifications")
	}
	all := reviews(t, ctx, w.admin())
	assert.Greater(t, len(all), len(mine))
	var other string
	for _, c := range all {
		if c.Reviewer.ID != id {
			other = c.ID
			break
		}
	}
	_, err = tn.GetCertification(ctx, other)
	require.Error(t, err, "another reviewer's certification is not theirs to read")

	// Through the Service: the router sends the person's calls with their
	// token; without it a Required router refuses.
	svc := certs.NewService(certs.Options{Tenant: certs.PersonRouter{Service: w.admin(), Required: true}, Store: w.store, Now: w.clk.Now, Logger: w.logger()})
	actor := certs.Actor{ID: "U1", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: id}
	bound, err := w.svc.Bind(ctx, id)
	require.NoError(t, err)
	detail, err := svc.GetCertification(bound, actor, mine[0].ID)
	require.NoError(t, err)
	assert.Equal(t, mine[0].ID, detail.ID)
	_, err = svc.GetCertification(ctx, actor, mine[0].ID)
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), "sign in with SailPoint")

	// Decisions go to ISC as the person: the sandbox records them.
	items, err := tn.ListAllReviewItems(ctx, mine[0].ID, certs.ReviewItemFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, items)
	_, err = tn.Decide(ctx, mine[0].ID, []certs.ItemDecision{{ItemID: items[0].ID, Decision: certs.DecisionApprove}})
	require.NoError(t, err)
	recs := w.sb.Decisions(mine[0].ID)
	require.NotEmpty(t, recs)
	assert.Equal(t, id, recs[len(recs)-1].IdentityID, "ISC's record names the person")

	signedIn, err := w.svc.SignedIn(ctx, id)
	require.NoError(t, err)
	assert.True(t, signedIn)
	was, err := w.svc.SignOut(ctx, id)
	require.NoError(t, err)
	assert.True(t, was)
	_, err = w.store.GetGrant(ctx, id)
	requireCode(t, certs.ENOTFOUND, err)
	_, err = w.svc.Tenant(ctx, id)
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), signin.ErrNotSignedIn)
	was, err = w.svc.SignOut(ctx, id)
	require.NoError(t, err)
	assert.False(t, was)
}

// TestStateRules: a state works once, for whoever started it, before it
// expires; a refused code says so. Failures log no secret (the world's
// cleanup scans the logs).
func TestStateRules(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	rev := w.person(1)

	start := func(binding string) url.Values {
		authURL, err := w.svc.Start(ctx, binding)
		require.NoError(t, err)
		return w.browse(authURL, rev)
	}

	q := start("slack:T1/U1")
	_, err := w.svc.Complete(ctx, "slack:T1/U2", q.Get("state"), q.Get("code"))
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), "someone else")
	_, err = w.svc.Complete(ctx, "slack:T1/U1", q.Get("state"), q.Get("code"))
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), "already used", "a state is used up by its first attempt")

	q = start("slack:T1/U1")
	w.clk.Advance(signin.DefaultStateTTL)
	_, err = w.svc.Complete(ctx, "slack:T1/U1", q.Get("state"), q.Get("code"))
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), "expired")

	q = start("slack:T1/U1")
	_, err = w.svc.Complete(ctx, "slack:T1/U1", q.Get("state"), "not-"+q.Get("code"))
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), "start again")
	for _, s := range w.seen.all() {
		assert.NotContains(t, err.Error(), s)
	}

	_, err = w.svc.Start(ctx, "")
	requireCode(t, certs.EINVALID, err)
	_, err = w.store.GetGrant(ctx, rev.IdentityID)
	requireCode(t, certs.ENOTFOUND, err)
}

// TestRefreshBeforeExpiry: shortly before the access token expires the
// next call refreshes it; ISC's rotated refresh token is sealed and saved.
func TestRefreshBeforeExpiry(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	id := w.signIn(w.svc, "mcp:alice", w.person(1))
	before, err := w.store.GetGrant(ctx, id)
	require.NoError(t, err)
	issued := w.sb.Stats().TokensIssued

	tn, err := w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	reviews(t, ctx, tn)
	assert.Equal(t, issued, w.sb.Stats().TokensIssued, "the code exchange's access token is used first")

	w.clk.Advance(700 * time.Second) // of 749: not yet within 30 s of expiry
	reviews(t, ctx, tn)
	assert.Equal(t, issued, w.sb.Stats().TokensIssued)

	w.clk.Advance(25 * time.Second) // 24 s before expiry
	reviews(t, ctx, tn)
	assert.Equal(t, issued+1, w.sb.Stats().TokensIssued, "refreshed before it expired")
	after, err := w.store.GetGrant(ctx, id)
	require.NoError(t, err)
	assert.NotEqual(t, before.RefreshToken, after.RefreshToken, "the rotated refresh token is saved")
	assert.Equal(t, before.Created, after.Created)
	assert.Equal(t, w.clk.Now().UTC().Truncate(time.Microsecond), after.Updated)

	// Another replica (a new service on the same store) picks up the
	// rotated token: the old one would be refused as reused.
	other := w.newService(w.keys)
	tn2, err := other.Tenant(ctx, id)
	require.NoError(t, err)
	reviews(t, ctx, tn2)
	_, err = w.store.GetGrant(ctx, id)
	require.NoError(t, err, "still signed in")
}

// TestRefusedRefreshDeletesGrant: a refresh token ISC refuses (here: the
// grant was revoked because an old refresh token was presented again)
// deletes the grant and tells the person to sign in again.
func TestRefusedRefreshDeletesGrant(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	id := w.signIn(w.svc, "mcp:alice", w.person(1))
	first, err := w.store.GetGrant(ctx, id)
	require.NoError(t, err)
	tn, err := w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	w.clk.Advance(730 * time.Second)
	reviews(t, ctx, tn) // refreshes: the first refresh token is spent

	// Someone presents the spent token again (a stolen copy): ISC revokes
	// the grant, and with it the access token certops holds.
	old, err := w.keys.Open(id, first.RefreshToken)
	require.NoError(t, err)
	conf := oauth2.Config{ClientID: sandbox.CertopsClientID, ClientSecret: sandbox.CertopsClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: w.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token()
	require.ErrorContains(t, err, "invalid_grant")

	_, err = tn.ListCertifications(ctx, certs.CertificationFilter{})
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), signin.ErrSignInAgain)
	_, err = w.store.GetGrant(ctx, id)
	requireCode(t, certs.ENOTFOUND, err)
	_, err = w.svc.Tenant(ctx, id)
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, w.logs.String(), "must sign in again")

	// Signing in again works.
	id = w.signIn(w.svc, "mcp:alice", w.person(1))
	tn, err = w.svc.Tenant(ctx, id)
	require.NoError(t, err)
	reviews(t, ctx, tn)
}

// TestKeyRotation: after the key is rotated, the grant sealed with the old
// key still opens, and its next save uses the new key; once the old key
// is gone, a grant nobody refreshed cannot be opened and is discarded.
func TestKeyRotation(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	oldKey := newKey(t)
	oldRing, err := grantkey.New(secret.Static(oldKey), nil)
	require.NoError(t, err)
	svc := w.newService(oldRing)
	alice := w.signIn(svc, "mcp:alice", w.person(1))
	bob := w.signIn(svc, "mcp:bob", w.person(2))
	oldID, _ := oldRing.CurrentID()

	newK := newKey(t)
	rotated, err := grantkey.New(secret.Static(newK), secret.Static(oldKey))
	require.NoError(t, err)
	newID, _ := rotated.CurrentID()
	svc = w.newService(rotated) // the restarted process
	tn, err := svc.Tenant(ctx, alice)
	require.NoError(t, err)
	reviews(t, ctx, tn) // refreshes: the old key opens the stored token
	g, err := w.store.GetGrant(ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, newID, grantkey.KeyID(g.RefreshToken), "saved with the new key")
	g, err = w.store.GetGrant(ctx, bob)
	require.NoError(t, err)
	assert.Equal(t, oldID, grantkey.KeyID(g.RefreshToken), "not refreshed yet")

	done, err := grantkey.New(secret.Static(newK), nil)
	require.NoError(t, err)
	svc = w.newService(done)
	tn, err = svc.Tenant(ctx, alice)
	require.NoError(t, err)
	reviews(t, ctx, tn)
	tn, err = svc.Tenant(ctx, bob)
	require.NoError(t, err)
	_, err = tn.ListCertifications(ctx, certs.CertificationFilter{})
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, err.Error(), signin.ErrSignInAgain)
	_, err = w.store.GetGrant(ctx, bob)
	requireCode(t, certs.ENOTFOUND, err)
}

// TestPerPersonPacer: each person's client paces their own budget: one
// person at their limit does not hold another back.
func TestPerPersonPacer(t *testing.T) {
	w := newWorld(t, func(c *sailpoint.Config) { c.RateLimit, c.RateWindow = 2, time.Hour })
	ctx := t.Context()
	alice := w.signIn(w.svc, "mcp:alice", w.person(1))
	bob := w.signIn(w.svc, "mcp:bob", w.person(2))
	ta, err := w.svc.Tenant(ctx, alice)
	require.NoError(t, err)
	tb, err := w.svc.Tenant(ctx, bob)
	require.NoError(t, err)

	page := certs.CertificationFilter{Page: certs.PageOptions{Limit: 5}}
	for range 2 {
		_, err := ta.ListCertifications(ctx, page)
		require.NoError(t, err)
	}
	// Alice's window is full for an hour: a call that cannot wait that
	// long is refused at once, without being sent.
	short, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = ta.ListCertifications(short, page)
	requireCode(t, certs.EUNAVAILABLE, err)

	for range 2 {
		_, err := tb.ListCertifications(short, page)
		require.NoError(t, err, "bob has a budget of his own")
	}
	again, err := w.svc.Tenant(ctx, alice)
	require.NoError(t, err)
	assert.Same(t, ta, again, "one client per person")
}
