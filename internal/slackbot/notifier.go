package slackbot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// NotifierConfig configures RunNotifier. Zero values get the defaults noted.
type NotifierConfig struct {
	// Consumer names the bot's cursor in the Service's outbox ("slack");
	// every replica of the bot uses the same one, so each event is told
	// once.
	Consumer string
	// Owner names this replica in the lease (hostname:pid).
	Owner string
	// Lease is how long a claim lasts (30 s); a crashed replica's events
	// are taken over after it.
	Lease time.Duration
	// Batch is how many events one claim takes (50).
	Batch int
	// Interval is the wait between claims when idle (1 s); after a failure
	// the wait doubles up to MaxBackoff (1 min).
	Interval   time.Duration
	MaxBackoff time.Duration
	// MaxAttempts is how many passes an event that Slack keeps refusing
	// (channel_not_found, …) gets before it is logged and skipped, so one
	// bad message cannot block every later one (5). Rate limits and
	// outages are retried without limit.
	MaxAttempts int
}

func (c *NotifierConfig) setDefaults() {
	if c.Consumer == "" {
		c.Consumer = "slack"
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 50
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
}

// Notifier turns the Service's outbox (certs.Service.ClaimNotifications)
// into Slack messages: it posts each new request to the approvals channel,
// updates that message as the request moves (approved, task running,
// completed, failed, denied, expired) and DMs the requester the outcome.
type Notifier struct {
	bot      *Bot
	cfg      NotifierConfig
	attempts map[int64]int // failed passes per event seq

	// posted holds approval messages this replica posted whose channel and
	// ts the Service has not yet saved (SetFrontendRefs failed), by request
	// id: the next pass saves them instead of posting a second message.
	// See tell for what this does not cover. Like attempts, it is used by
	// one pass at a time.
	posted map[string]messageRef
}

// messageRef is where a Slack message is.
type messageRef struct{ channel, ts string }

// NewNotifier returns a notifier reading the outbox of the bot's Service.
func (b *Bot) NewNotifier(cfg NotifierConfig) *Notifier {
	cfg.setDefaults()
	return &Notifier{bot: b, cfg: cfg, attempts: map[int64]int{}, posted: map[string]messageRef{}}
}

// Run notifies until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	wait := n.cfg.Interval
	for {
		count, err := n.Once(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			var rl *slack.RateLimitedError
			if errors.As(err, &rl) && rl.RetryAfter > 0 {
				wait = rl.RetryAfter
			} else {
				wait = min(max(wait*2, n.cfg.Interval), n.cfg.MaxBackoff)
			}
			n.bot.log.Warn("slackbot: notifier will retry", "in", wait, "err", err)
		case count == n.cfg.Batch:
			wait = 0 // more are waiting
		default:
			wait = n.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// notified lists the actions that change what the approval message shows.
var notified = map[certs.Action]bool{
	certs.ActionRequestCreated: true, certs.ActionRequestApproved: true, certs.ActionRequestDenied: true,
	certs.ActionRequestCancelled: true, certs.ActionRequestExpired: true, certs.ActionSubmitting: true,
	certs.ActionTaskSubmitted: true, certs.ActionSubmitted: true, certs.ActionTaskProgress: true,
	certs.ActionCompleted: true, certs.ActionFailed: true, certs.ActionReconciled: true,
}

// Once claims one batch of events, tells Slack about them in order and
// acknowledges those done. It returns how many events it handled and the
// error that stopped it, if any; unacknowledged events are claimed again.
//
// A batch keeps inside its lease, since past it another replica may claim
// the same events and tell them again: no event is started after half the
// lease, and every call made for the batch (Slack's included, which would
// otherwise wait on a hung connection for ever) is cut at three quarters of
// it, which leaves the last quarter for the acknowledgement and for clock
// skew between replicas. The lease is counted from before the claim, so
// from no later than the store counts it.
func (n *Notifier) Once(ctx context.Context) (int, error) {
	ctx = certs.Background(ctx) // nobody waits on this pass: its SailPoint calls go after people's
	start := time.Now()
	stopAt := start.Add(n.cfg.Lease / 2)
	bctx, cancel := context.WithDeadline(ctx, start.Add(n.cfg.Lease*3/4))
	defer cancel()
	events, err := n.bot.svc.ClaimNotifications(bctx, n.cfg.Consumer, n.cfg.Owner, n.cfg.Lease, n.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim events: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	// Render each request's message once per batch, at its last event: the
	// message shows the request as it is now, not as each event left it.
	last := map[string]int{}
	for i, e := range events {
		if e.RequestID != "" && notified[e.Action] {
			last[e.RequestID] = i
		}
	}
	// current holds each request as this batch last saw it: as claimed, or
	// as saving its approval message's place left it.
	current := map[string]*certs.Request{}
	done := events[0].Seq - 1 // no event lies between the cursor and the first claimed
	var failure error
	handled := 0
	for i, e := range events {
		if time.Now().After(stopAt) {
			break
		}
		if e.RequestID != "" && notified[e.Action] {
			req, ok := current[e.RequestID]
			if !ok {
				req = e.Request
			}
			req, err := n.tell(bctx, e.Event, req, last[e.RequestID] == i)
			if req != nil {
				current[e.RequestID] = req
			}
			if err != nil {
				if bctx.Err() != nil && ctx.Err() == nil {
					err = fmt.Errorf("not done within %s of the %s lease on the events (is Slack answering?): %w", n.cfg.Lease*3/4, n.cfg.Lease, err)
				}
				if !n.giveUp(e.Event, err) {
					failure = err
					break
				}
			}
		}
		delete(n.attempts, e.Seq)
		done = e.Seq
		handled++
	}
	// The Home tabs of the people these requests concern (home.go,
	// throttled).
	n.bot.refreshHomes(events[:handled], current)
	// Acknowledge what is done (and release the lease, so a retry need not
	// wait for it to expire).
	if err := n.bot.svc.AckNotifications(context.WithoutCancel(ctx), n.cfg.Consumer, n.cfg.Owner, done); err != nil {
		return 0, fmt.Errorf("ack events up to %d: %w", done, err)
	}
	return handled, failure
}

// giveUp reports whether a failed event should be skipped: only errors Slack
// keeps repeating, after MaxAttempts passes.
func (n *Notifier) giveUp(e certs.Event, err error) bool {
	if transient(err) {
		return false
	}
	n.attempts[e.Seq]++
	if n.attempts[e.Seq] < n.cfg.MaxAttempts {
		return false
	}
	n.bot.log.Error("slackbot: giving up telling Slack about an event; the request itself is unaffected",
		"seq", e.Seq, "action", e.Action, "request", e.RequestID, "attempts", n.attempts[e.Seq], "err", err)
	return true
}

// transient reports whether err may pass on a later try without anyone
// changing anything: rate limits, Slack or database outages, timeouts.
func transient(err error) bool {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var ne net.Error
	switch {
	case errors.As(err, &rl), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &sc):
		return sc.Code >= 500
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err == "ratelimited" || se.Err == "internal_error" || se.Err == "fatal_error" || se.Err == "service_unavailable"
	}
	switch certs.ErrorCode(err) {
	case certs.EUNAVAILABLE, certs.ERATELIMITED:
		return true
	}
	return false
}

// tell brings Slack up to date with one event about req (the request as the
// batch last saw it; nil when it no longer exists). It returns the request
// as it last saw it, for the batch's later events.
func (n *Notifier) tell(ctx context.Context, e certs.Event, req *certs.Request, render bool) (*certs.Request, error) {
	b := n.bot
	if req == nil {
		b.log.Warn("slackbot: event for an unknown request", "seq", e.Seq, "request", e.RequestID)
		return nil, nil
	}
	if req.Plan.KindOf() != certs.KindReassign {
		// A reviewer's decisions or sign-off: nothing for the approvers
		// (review.go).
		return req, n.tellReview(ctx, e, req, render)
	}
	ch, ts := req.FrontendRefs[refChannel], req.FrontendRefs[refTS]
	if ts != "" {
		delete(n.posted, req.ID) // saved, by this replica or another
	}
	var err error
	switch {
	case ts == "" && b.cfg.ApprovalsChannel != "" && req.SelfSubmitted():
		// Submitted without approval (an MCP policy that requires none):
		// nothing for the approvers.
	case ts == "" && b.cfg.ApprovalsChannel != "":
		// First sight of the request: post it for the approvers, unless an
		// earlier pass did and only failed to save where.
		//
		// Left open: a replica that posts, fails to save and then stops (or
		// loses its lease) takes the memory of the post with it, and the
		// replica that tells the event next posts a second message. Slack
		// offers no cheap lookup of the first with our scopes; the window is
		// one failed SetFrontendRefs followed by a lost lease.
		ref, ok := n.posted[req.ID]
		if !ok {
			m := b.render.approval(req)
			ref.channel, ref.ts, err = b.api.PostMessageContext(ctx, b.cfg.ApprovalsChannel, msgOptions(m)...)
			if err != nil {
				return req, fmt.Errorf("post request %s to %s: %w", req.ID, b.cfg.ApprovalsChannel, err)
			}
			n.posted[req.ID] = ref
		}
		// The notifier is certops' own background work, not a person.
		saved, err := b.svc.SetFrontendRefs(ctx, certs.SystemActor, req.ID, map[string]string{refChannel: ref.channel, refTS: ref.ts})
		if err != nil {
			return req, fmt.Errorf("remember the approval message of %s (%s in %s; it will not be posted again): %w", req.ID, ref.ts, ref.channel, err)
		}
		delete(n.posted, req.ID)
		req = saved
		ch, ts = ref.channel, ref.ts
		if ok && render {
			// The message shows the request as it was when posted.
			if _, _, _, err := b.api.UpdateMessageContext(ctx, ch, ts, msgOptions(b.render.approval(req))...); err != nil {
				return req, fmt.Errorf("update the approval message of %s: %w", req.ID, err)
			}
		}
	case ts != "" && render:
		m := b.render.approval(req)
		if _, _, _, err := b.api.UpdateMessageContext(ctx, ch, ts, msgOptions(m)...); err != nil {
			return req, fmt.Errorf("update the approval message of %s: %w", req.ID, err)
		}
	}
	if req.Requester.Frontend != certs.FrontendSlack || req.Requester.ID == "" {
		return req, nil
	}
	if _, ok := b.render.requesterNotice(req, e, ""); !ok {
		return req, nil
	}
	link := ""
	if ch != "" && ts != "" {
		// Best effort: the DM is worth sending without the link.
		if l, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: ch, Ts: ts}); err == nil {
			link = l
		} else {
			b.log.Debug("slackbot: no permalink for the approval message", "request", req.ID, "err", err)
		}
	}
	if dm, ok := b.render.requesterNotice(req, e, link); ok {
		// Posting to a user id reaches the app's DM with them.
		if _, _, err := b.api.PostMessageContext(ctx, req.Requester.ID, msgOptions(dm)...); err != nil {
			return req, fmt.Errorf("tell requester %s about %s: %w", req.Requester.ID, req.ID, err)
		}
	}
	return req, nil
}
