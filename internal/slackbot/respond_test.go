package slackbot

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// Slack lets a response_url be used 5 times within 30 minutes; after that
// the bot answers with chat.postEphemeral.
func TestResponderFallsBackAfterFiveUsesOr30Minutes(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	fs, hk, b := tb.slack, tb.hooks, tb.bot
	ctx := context.Background()

	r := b.newResponder(hk.URL+"/r", here, alice)
	for i := range 6 {
		require.NoError(t, r.send(ctx, b.render.notice("hello"), false), i)
	}
	assert.Len(t, hk.Posts(), 5)
	eph := fs.Calls("chat.postEphemeral")
	require.Len(t, eph, 1)
	assert.Equal(t, here, eph[0].Form.Get("channel"))
	assert.Equal(t, alice, eph[0].Form.Get("user"))

	r2 := b.newResponder(hk.URL+"/r2", here, alice)
	tb.clock.Advance(30 * time.Minute)
	require.NoError(t, r2.send(ctx, b.render.notice("late"), false))
	assert.Len(t, hk.Posts(), 5, "an expired response_url is not used")
	assert.Len(t, fs.Calls("chat.postEphemeral"), 2)
}

// blockingService holds GetCertification until released, as a slow
// SailPoint would.
type blockingService struct {
	Service
	release chan struct{}
}

func (s *blockingService) GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error) {
	<-s.release
	return s.Service.GetCertification(ctx, a, id)
}

func TestAckDoesNotWaitForSailPoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := &blockingService{Service: b.svc, release: make(chan struct{})}
	b.bot.svc = slow
	b.bot.identities.svc = slow
	code, a := b.command(t, alice, "show cert-1")
	// The ack came back while the Service call is still blocked.
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, a.Text, "Working on")
	assert.Empty(t, b.hooks.Posts())
	close(slow.release)
	assert.Contains(t, b.reply(t, 1).Raw, "3/10 decisions")
}

func TestDocumentedBlockActionsPayloadIsAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The documented example's button (action_id "WaXA") is not one of ours.
	code, a := b.post(t, "/slack/interactions", testdata(t, "block-actions.form"))
	assert.Equal(t, http.StatusOK, code)
	assert.Empty(t, a.Text)
	require.NoError(t, b.bot.Shutdown(context.Background()))
	b.assertUntouched(t)
	assert.Empty(t, b.hooks.Posts())
}
