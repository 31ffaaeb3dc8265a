package slackbot

import (
	"context"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// hungSlack is a Slack whose chat.postMessage never answers, as over a
// blackholed connection: only the caller's context ends the call.
type hungSlack struct {
	SlackAPI
	deadline chan time.Time // the call's deadline (zero: none)
}

func (h *hungSlack) PostMessageContext(ctx context.Context, _ string, _ ...slack.MsgOption) (string, string, error) {
	dl, _ := ctx.Deadline()
	h.deadline <- dl
	<-ctx.Done()
	return "", "", ctx.Err()
}

// fileDirect files a request for Bob's two items in cert-1 through the
// Service itself (as a confirmed plan would), without Slack, approvers Dave
// and Erin.
func (b *bundle) fileDirect(t *testing.T) *certs.Request {
	t.Helper()
	ctx := context.Background()
	p, err := b.svc.PlanReassignment(ctx, b.actor(alice), certs.PlanInput{CertificationID: "cert-1", ItemIDs: []string{"item-1", "item-2"}, Target: people[carol].ID, Reason: "Carol owns payroll"})
	require.NoError(t, err)
	r, err := b.svc.RequestApproval(ctx, b.actor(alice), p.ID, p.Digest, []string{certs.ApproverKey(certs.FrontendSlack, dave), certs.ApproverKey(certs.FrontendSlack, erin)}, nil)
	require.NoError(t, err)
	return r
}

// A hung Slack call must not hold a batch past its lease: past it another
// replica claims the same events and posts the approval message again, and
// with one replica every later message waits behind it.
func TestNotifierSlackCallsEndInsideTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.fileDirect(t)
	api := &hungSlack{deadline: make(chan time.Time, 1)}
	n := New(Config{ApprovalsChannel: approvals, Approvers: []string{dave}, Logger: quiet()}, b.svc, api).
		NewNotifier(NotifierConfig{Owner: "test", Lease: time.Second})

	// The test's own deadline only keeps a regression from hanging the run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		count, err := n.Once(ctx)
		done <- result{count, err}
	}()
	dl := <-api.deadline
	require.False(t, dl.IsZero(), "chat.postMessage was called without a deadline")
	assert.True(t, dl.Before(start.Add(time.Second)), "chat.postMessage's deadline is %s after the claim, past the 1s lease", dl.Sub(start))
	res := <-done
	require.NoError(t, ctx.Err(), "Once returned only because the test's context ended")
	require.ErrorIs(t, res.err, context.DeadlineExceeded)
	assert.True(t, transient(res.err), "retried without limit: the event is not skipped")
	assert.Contains(t, res.err.Error(), "lease")

	// The event is not acknowledged, and the lease is released: the next
	// pass, of any replica, tells it at once.
	ns, err := b.svc.ClaimNotifications(ctx, "slack", "another-replica", time.Minute, 10)
	require.NoError(t, err)
	var created bool
	for _, e := range ns {
		created = created || (e.Action == certs.ActionRequestCreated && e.RequestID == r.ID)
	}
	assert.True(t, created, "request.created is claimed again: %v", ns)
}

// When the approval message is posted but saving where it is fails, the
// retry saves it and never posts a second one (a second message would stay
// with live buttons while the first shows the outcome).
func TestNotifierPostsTheApprovalMessageOnceWhenSavingItFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a database outage: the next pass saves the first message", func(t *testing.T) {
		b := setup(t)
		r := b.fileDirect(t)
		n := b.notifier()
		b.failWrites(certs.Errorf(certs.EUNAVAILABLE, "database is down"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
			assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
			assert.Contains(t, err.Error(), "it will not be posted again")
		})
		require.Len(t, b.approvalPosts(), 1)
		assert.Empty(t, b.request(t, r.ID).FrontendRefs[refTS])

		assert.Positive(t, b.tell(t, n))
		assert.Len(t, b.approvalPosts(), 1, "no second approval message")
		got := b.request(t, r.ID)
		assert.Equal(t, approvals, got.FrontendRefs[refChannel])
		require.NotEmpty(t, got.FrontendRefs[refTS])

		// Later events update that message.
		_, err := b.svc.Approve(ctx, b.actor(dave), r.ID)
		require.NoError(t, err)
		b.tell(t, n)
		updates := b.slack.Calls("chat.update")
		require.NotEmpty(t, updates)
		for _, u := range updates {
			assert.Equal(t, got.FrontendRefs[refTS], u.Form.Get("ts"))
		}
		assert.Contains(t, b.lastUpdate(t), "Approved by \\u003c@"+dave+"\\u003e")
		assert.Len(t, b.approvalPosts(), 1)
	})

	t.Run("a refusal until the event is skipped: a later event saves and updates the first message", func(t *testing.T) {
		b := setup(t)
		r := b.fileDirect(t)
		n := b.notifier() // MaxAttempts 2
		b.failWrites(certs.Errorf(certs.EINTERNAL, "constraint violated"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
			_, err = n.Once(ctx)
			require.NoError(t, err, "skipped after MaxAttempts")
		})
		require.Len(t, b.approvalPosts(), 1)

		_, err := b.svc.Approve(ctx, b.actor(dave), r.ID)
		require.NoError(t, err)
		b.tell(t, n)
		assert.Len(t, b.approvalPosts(), 1, "no second approval message")
		got := b.request(t, r.ID)
		require.NotEmpty(t, got.FrontendRefs[refTS])
		updates := b.slack.Calls("chat.update")
		require.Len(t, updates, 1, "the message, posted while pending, shows the approval")
		assert.Equal(t, got.FrontendRefs[refTS], updates[0].Form.Get("ts"))
		assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove, "no buttons once decided")
	})

	t.Run("another replica saved a message meanwhile: this one's is not saved over it", func(t *testing.T) {
		b := setup(t)
		r := b.fileDirect(t)
		n := b.notifier()
		b.failWrites(certs.Errorf(certs.EUNAVAILABLE, "database is down"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
		})
		_, err := b.svc.SetFrontendRefs(ctx, certs.SystemActor, r.ID, map[string]string{refChannel: approvals, refTS: "1700000000.000099"})
		require.NoError(t, err)

		b.tell(t, n)
		assert.Len(t, b.approvalPosts(), 1)
		assert.Equal(t, "1700000000.000099", b.request(t, r.ID).FrontendRefs[refTS])
		assert.Empty(t, n.posted, "the unsaved message is forgotten")
	})
}
