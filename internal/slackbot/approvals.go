package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// Action and callback ids of the bot's buttons and modal.
const (
	actionConfirm = "certops.plan.confirm"
	actionCancel  = "certops.plan.cancel"
	actionApprove = "certops.request.approve"
	actionDeny    = "certops.request.deny"
	callbackDeny  = "certops.request.deny"

	denyBlock  = "reason"
	denyAction = "reason"
)

// Keys of the bot's references in certs.Request.Refs.
const (
	refChannel     = "slack.channel"      // approvals channel of the approval message
	refTS          = "slack.ts"           // its ts
	refRequestedIn = "slack.requested_in" // channel where the requester typed /certs
)

// planButtonValue carries the plan id and the digest of what the requester
// saw, so the request covers exactly that.
func planButtonValue(p *certs.Plan) string { return p.ID + "|" + p.Digest }

func parsePlanButtonValue(v string) (planID, digest string, ok bool) {
	planID, digest, ok = strings.Cut(v, "|")
	return planID, digest, ok && planID != "" && digest != ""
}

type denyMetadata struct {
	RequestID string `json:"request"`
	Channel   string `json:"channel"`
}

// Interaction handles a block_actions or view_submission payload and returns
// the acknowledgement payload (nil for an empty 200). Like Command it never
// waits on SailPoint.
func (b *Bot) Interaction(ctx context.Context, ic slack.InteractionCallback) any {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range ic.ActionCallback.BlockActions {
			b.blockAction(ctx, ic, act)
		}
		return nil
	case slack.InteractionTypeViewSubmission:
		switch ic.View.CallbackID {
		case callbackDeny:
			b.denySubmitted(ic)
		case callbackReviewDecide:
			return b.reviewSubmitted(ic) // errors in the modal, or nil
		case callbackReminderReassign:
			return b.reminderReassignSubmitted(ic) // reminder_actions.go
		}
		return nil // an empty 200 closes the modal
	}
	return nil
}

func (b *Bot) blockAction(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	// One click is one action_ts; a redelivered payload carries the same.
	if !b.firstDelivery("action", ic.User.ID+"/"+act.ActionID+"/"+act.ActionTs+"/"+ic.TriggerID) {
		return
	}
	resp := b.newResponder(ic.ResponseURL, ic.Channel.ID, ic.User.ID)
	switch act.ActionID {
	case actionConfirm:
		b.enqueue(resp, "confirm", func(ctx context.Context) (message, bool, error) {
			return b.confirm(ctx, ic, act.Value)
		})
	case actionCancel:
		b.enqueue(resp, "cancel", func(context.Context) (message, bool, error) {
			return b.render.planCancelled(), true, nil
		})
	case actionApprove:
		b.enqueue(resp, "approve", func(ctx context.Context) (message, bool, error) {
			return b.approve(ctx, ic.User, act.Value)
		})
	case actionDeny:
		b.denyClicked(ctx, ic, act.Value, resp)
	default:
		if !b.reviewAction(ctx, ic, act) && !b.reminderAction(ctx, ic, act) {
			b.log.Warn("slackbot: unknown action", "action_id", act.ActionID)
		}
	}
}

// enqueue runs an interaction's work on the pool and answers the clicking
// user ephemerally: a refusal or failure never changes the shared message.
func (b *Bot) enqueue(resp *responder, name string, run func(ctx context.Context) (m message, replace bool, err error)) {
	err := b.pool.submit(name, func(ctx context.Context) {
		m, replace, err := run(ctx)
		if err != nil {
			m, replace = b.failureFor(name, resp.user, err), false
		}
		if m.empty() {
			return
		}
		if err := resp.send(ctx, m, replace); err != nil {
			b.log.Warn("slackbot: could not answer an interaction", "action", name, "user", resp.user, "err", err)
		}
	})
	if err != nil {
		b.log.Warn("slackbot: dropped an interaction", "action", name, "err", err)
	}
}

// confirm files the request for a plan the requester confirmed. The
// notifier posts it to the approvals channel (from the outbox, so a crash
// here loses nothing). A plan is filed at most once: a second click, here or
// through another replica, is told the request the first one filed.
func (b *Bot) confirm(ctx context.Context, ic slack.InteractionCallback, value string) (message, bool, error) {
	planID, digest, ok := parsePlanButtonValue(value)
	if !ok {
		return message{}, false, certs.Errorf(certs.EINVALID, "this button does not name a plan; run the reassign command again")
	}
	a, err := b.identities.actor(ctx, ic.User.ID, ic.User.Name)
	if err != nil {
		return message{}, false, err
	}
	approvers, err := b.approverKeys(ctx)
	if err != nil {
		return message{}, false, err
	}
	req, err := b.svc.RequestApproval(ctx, a, planID, digest, approvers, map[string]string{refRequestedIn: ic.Channel.ID})
	if err != nil {
		if certs.ErrorCode(err) == certs.ECONFLICT && req != nil {
			// Filed already. The answer to the first click stays.
			return b.render.notice(fmt.Sprintf("This plan is already filed as request `%s`.", req.ID)), false, nil
		}
		return message{}, false, err
	}
	// Filing escalates the plan to the approvers.
	b.log.Info("slackbot: request filed for approval", append(actorAttrs(a, req.ID),
		"certification", req.Plan.CertificationID, "items", req.Plan.ItemCount, "approvers", len(req.Approvers))...)
	return b.render.requestFiled(req, b.cfg.ApprovalsChannel), true, nil
}

// actorAttrs are the log attributes of a person acting on a request: their
// Slack user id, their ISC identity id and the request.
func actorAttrs(a certs.Actor, requestID string) []any {
	return []any{"slack_user", a.ID, "identity", a.IdentityID, "request", requestID}
}

// approve approves a request and tells the approver, ephemerally, what
// their click did. The approval message itself is updated by the notifier
// from the outbox, so that exactly one replica writes it, in order.
func (b *Bot) approve(ctx context.Context, u slack.User, id string) (message, bool, error) {
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return b.decisionRefused(ctx, "approve", certs.Actor{ID: u.ID}, id, nil, err)
	}
	q, err := b.svc.Approve(ctx, a, id)
	if err != nil {
		if q != nil && q.State != certs.StatePending && q.DecidedBy != nil && q.DecidedBy.Same(a) && certs.ErrorCode(err) != certs.ECONFLICT {
			// Approved by this click; the submission failed after it.
			b.log.Info("slackbot: request approved", append(actorAttrs(a, id), "state", q.State, "err", certs.ErrorMessage(err))...)
			return message{}, false, err
		}
		return b.decisionRefused(ctx, "approve", a, id, q, err)
	}
	b.log.Info("slackbot: request approved", append(actorAttrs(a, id), "state", q.State)...)
	return b.render.approvedByYou(q), false, nil
}

// decisionRefused answers an approve or deny the Service refused. A
// request decided before (ECONFLICT) is told with who decided it, as a
// mention, and when; a person whose own earlier click decided it is told
// so. Every refusal is logged at INFO; what is not the person's doing
// (Slack or SailPoint unreachable, an internal error) is returned for
// failureFor to log and render.
func (b *Bot) decisionRefused(ctx context.Context, action string, a certs.Actor, id string, q *certs.Request, err error) (message, bool, error) {
	switch certs.ErrorCode(err) {
	case certs.EFORBIDDEN, certs.ECONFLICT, certs.EINVALID, certs.ENOTFOUND:
	default:
		return message{}, false, err
	}
	b.log.Info("slackbot: request "+action+" refused", append(actorAttrs(a, id), "code", certs.ErrorCode(err), "why", certs.ErrorMessage(err))...)
	if certs.ErrorCode(err) == certs.ECONFLICT && a.IdentityID != "" {
		if q == nil {
			q, _ = b.svc.GetRequest(ctx, a, id) // MayDecideRequest returns none; without one, the Service's words
		}
		if q != nil {
			if m, ok := b.render.decidedAlready(q, a, b.decidedAt(ctx, a, q)); ok {
				return m, false, nil
			}
		}
	}
	return b.render.failure(err), false, nil
}

// decidedAt is when q was decided, from its audit trail (zero when it
// cannot be read: the answer then says who, not when).
func (b *Bot) decidedAt(ctx context.Context, a certs.Actor, q *certs.Request) time.Time {
	want := map[certs.RequestState]certs.Action{certs.StateDenied: certs.ActionRequestDenied, certs.StateCancelled: certs.ActionRequestCancelled}[q.State]
	if want == "" {
		want = certs.ActionRequestApproved
	}
	evs, err := b.svc.ListAudit(ctx, a, certs.EventFilter{RequestID: q.ID})
	if err != nil {
		return time.Time{}
	}
	for _, ev := range evs {
		if ev.Action == want {
			return ev.Time
		}
	}
	return time.Time{}
}

// denyCheckBudget bounds the check made before the deny form opens: Slack
// takes views.open only within 3 seconds of the click.
const denyCheckBudget = 2 * time.Second

// denyClicked opens the form asking for a reason, once the Service says
// this person may deny the request (MayDecideRequest): someone who may not
// is told so at once, before typing anything. A trigger_id lives 3
// seconds, so the check and views.open run beside the ack rather than
// after it or on the (possibly busy) pool. A check that does not finish
// within denyCheckBudget opens the form anyway: the Service checks again
// when the form is sent.
func (b *Bot) denyClicked(ctx context.Context, ic slack.InteractionCallback, id string, resp *responder) {
	meta, _ := json.Marshal(denyMetadata{RequestID: id, Channel: ic.Channel.ID})
	view := b.render.denyModal(id, string(meta))
	b.side.Add(1)
	go func() {
		defer b.side.Done()
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		cctx, stop := context.WithTimeout(octx, denyCheckBudget)
		a, err := b.identities.actor(cctx, ic.User.ID, ic.User.Name)
		if err != nil {
			a = certs.Actor{ID: ic.User.ID}
		} else {
			err = b.svc.MayDecideRequest(cctx, a, id)
		}
		late := cctx.Err() != nil
		stop()
		switch {
		case err != nil && late:
			b.log.Warn("slackbot: could not check who may deny in time; opening the deny form", "slack_user", ic.User.ID, "request", id, "err", err)
		case err != nil:
			b.enqueue(resp, "deny", func(ctx context.Context) (message, bool, error) {
				return b.decisionRefused(ctx, "deny", a, id, nil, err)
			})
			return
		}
		if _, err := b.api.OpenViewContext(octx, ic.TriggerID, view); err != nil {
			b.log.Warn("slackbot: views.open failed", "request", id, "err", err)
			b.enqueue(resp, "deny", func(context.Context) (message, bool, error) {
				return b.render.notice(":warning: Slack could not open the deny form; please click Deny again."), false, nil
			})
		}
	}()
}

// approverKeys lists who may decide a request filed now: the configured
// approvers and the members of the approver group.
func (b *Bot) approverKeys(ctx context.Context) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, certs.ApproverKey(certs.FrontendSlack, id))
		}
	}
	for _, id := range b.cfg.Approvers {
		add(id)
	}
	if b.cfg.ApproverGroup != "" {
		members, err := b.api.GetUserGroupMembersContext(ctx, b.cfg.ApproverGroup)
		if err != nil {
			return nil, &certs.Error{Code: certs.EUNAVAILABLE, Message: "Slack did not list the approver group's members; try again", Err: err}
		}
		for _, id := range members {
			add(id)
		}
	}
	return keys, nil
}

// denySubmitted handles the deny modal: the work (who is this, may they
// deny) runs on the pool; a refusal is posted to the approver ephemerally.
func (b *Bot) denySubmitted(ic slack.InteractionCallback) {
	if !b.firstDelivery("view", ic.View.ID+"/"+ic.View.Hash) {
		return
	}
	var meta denyMetadata
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.RequestID == "" {
		b.log.Warn("slackbot: deny modal without a request", "err", err)
		return
	}
	reason := ""
	if ic.View.State != nil {
		reason = strings.TrimSpace(ic.View.State.Values[denyBlock][denyAction].Value)
	}
	resp := b.newResponder("", meta.Channel, ic.User.ID)
	b.enqueue(resp, "deny", func(ctx context.Context) (message, bool, error) {
		a, err := b.identities.actor(ctx, ic.User.ID, ic.User.Name)
		if err != nil {
			return b.decisionRefused(ctx, "deny", certs.Actor{ID: ic.User.ID}, meta.RequestID, nil, err)
		}
		q, err := b.svc.Deny(ctx, a, meta.RequestID, reason)
		if err != nil {
			return b.decisionRefused(ctx, "deny", a, meta.RequestID, q, err)
		}
		b.log.Info("slackbot: request denied", append(actorAttrs(a, q.ID), "with_reason", reason != "")...)
		return b.render.deniedByYou(q), false, nil
	})
}
