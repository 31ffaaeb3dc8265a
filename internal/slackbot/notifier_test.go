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

// A hung Slack call must not hold a batch past its lease: past it another
// replica claims the same events and posts the approval message again, and
// with one replica every later message waits behind it.
func TestNotifierSlackCallsEndInsideTheLease(t *testing.T) {
	t.Parallel()
	svc := newFakeService(time.Now)
	r := &certs.Request{ID: "req-1", State: certs.StatePending, Plan: certs.Plan{ID: "req-1", ItemCount: 1, CertificationID: "cert-1"},
		Requester: certs.Actor{ID: alice, Frontend: certs.FrontendSlack, Role: certs.RoleReviewer}}
	svc.requests[r.ID] = r
	svc.emit(certs.ActionRequestCreated, r, r.Requester)
	api := &hungSlack{deadline: make(chan time.Time, 1)}
	n := New(Config{ApprovalsChannel: approvals, Approvers: []string{dave}}, svc, api).
		NewNotifier(svc, NotifierConfig{Owner: "test", Lease: time.Second})

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
	assert.Zero(t, res.n)
	require.ErrorIs(t, res.err, context.DeadlineExceeded)
	assert.True(t, transient(res.err), "retried without limit: the event is not skipped")
	assert.Contains(t, res.err.Error(), "lease")
	assert.Zero(t, svc.cursor, "the event is not acknowledged: the next pass tells it")
}

// failing makes the fake's method fail with err while passes run.
func (f *fakeService) failing(method string, err error, passes func()) {
	f.mu.Lock()
	f.failWith[method] = err
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.failWith, method)
		f.mu.Unlock()
	}()
	passes()
}

// When the approval message is posted but saving where it is fails, the
// retry saves it and never posts a second one (a second message would stay
// with live buttons while the first shows the outcome).
func TestNotifierPostsTheApprovalMessageOnceWhenSavingItFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := func(b *bundle) *certs.Request {
		r := &certs.Request{ID: "req-1", State: certs.StatePending, Plan: certs.Plan{ID: "req-1", ItemCount: 1, CertificationID: "cert-1", Reason: "Carol owns payroll"},
			Requester: certs.Actor{ID: alice, Frontend: certs.FrontendSlack, Role: certs.RoleReviewer}, Approvers: []string{"slack:" + dave}}
		b.svc.mu.Lock()
		defer b.svc.mu.Unlock()
		b.svc.requests[r.ID] = r
		b.svc.emit(certs.ActionRequestCreated, r, r.Requester)
		return r
	}
	approvalPosts := func(b *bundle) []slackCall {
		var out []slackCall
		for _, c := range b.slack.Calls("chat.postMessage") {
			if c.Form.Get("channel") == approvals {
				out = append(out, c)
			}
		}
		return out
	}

	t.Run("a database outage: the next pass saves the first message", func(t *testing.T) {
		b := setup(t)
		r := file(b)
		n := b.notifier()
		b.svc.failing("SetFrontendRefs", certs.Errorf(certs.EUNAVAILABLE, "database is down"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
			assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
		})
		posts := approvalPosts(b)
		require.Len(t, posts, 1)

		count, err := n.Once(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, count)
		assert.Len(t, approvalPosts(b), 1, "no second approval message")
		got, err := b.svc.GetRequest(ctx, notifierActor, r.ID)
		require.NoError(t, err)
		assert.Equal(t, approvals, got.FrontendRefs[refChannel])
		require.NotEmpty(t, got.FrontendRefs[refTS])
		assert.Equal(t, 2, countCalls(b.svc.Calls(), "SetFrontendRefs(req-1)"))

		// Later events update that message.
		b.svc.setState(r.ID, certs.StateApproved, certs.ActionRequestApproved, nil, "")
		_, err = n.Once(ctx)
		require.NoError(t, err)
		updates := b.slack.Calls("chat.update")
		require.NotEmpty(t, updates)
		for _, u := range updates {
			assert.Equal(t, got.FrontendRefs[refTS], u.Form.Get("ts"))
		}
		assert.Contains(t, updates[len(updates)-1].Form.Get("text"), "approved")
		assert.Len(t, approvalPosts(b), 1)
	})

	t.Run("a refusal until the event is skipped: a later event saves and updates the first message", func(t *testing.T) {
		b := setup(t)
		r := file(b)
		n := b.notifier() // MaxAttempts 2
		b.svc.failing("SetFrontendRefs", certs.Errorf(certs.EINTERNAL, "constraint violated"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
			_, err = n.Once(ctx)
			require.NoError(t, err, "skipped after MaxAttempts")
		})
		require.Len(t, approvalPosts(b), 1)

		b.svc.setState(r.ID, certs.StateApproved, certs.ActionRequestApproved, nil, "")
		_, err := n.Once(ctx)
		require.NoError(t, err)
		assert.Len(t, approvalPosts(b), 1, "no second approval message")
		got, err := b.svc.GetRequest(ctx, notifierActor, r.ID)
		require.NoError(t, err)
		require.NotEmpty(t, got.FrontendRefs[refTS])
		updates := b.slack.Calls("chat.update")
		require.Len(t, updates, 1, "the message, posted while pending, shows the approval")
		assert.Equal(t, got.FrontendRefs[refTS], updates[0].Form.Get("ts"))
		assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove, "no buttons once decided")
	})

	t.Run("another replica saved a message meanwhile: this one's is not saved over it", func(t *testing.T) {
		b := setup(t)
		r := file(b)
		n := b.notifier()
		b.svc.failing("SetFrontendRefs", certs.Errorf(certs.EUNAVAILABLE, "database is down"), func() {
			_, err := n.Once(ctx)
			require.Error(t, err)
		})
		_, err := b.svc.SetFrontendRefs(ctx, notifierActor, r.ID, map[string]string{refChannel: approvals, refTS: "1700000000.000099"})
		require.NoError(t, err)

		_, err = n.Once(ctx)
		require.NoError(t, err)
		assert.Len(t, approvalPosts(b), 1)
		got, err := b.svc.GetRequest(ctx, notifierActor, r.ID)
		require.NoError(t, err)
		assert.Equal(t, "1700000000.000099", got.FrontendRefs[refTS])
		assert.Empty(t, n.posted, "the unsaved message is forgotten")
	})
}
