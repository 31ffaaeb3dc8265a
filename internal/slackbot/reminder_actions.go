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

// The buttons of the reminders' messages (render_reminders.go) and of the
// App Home (home.go):
//
//   - Review opens the review in the person's DM, as `/certs review` does;
//   - Reassign… asks, in a form, who should take the certification's open
//     items and why, then shows the plan with Confirm / Cancel: the
//     reassignment flow of `/certs reassign`, with an approver's OK. From an
//     escalation the manager or an admin clicks it; the Service decides
//     whether they may plan it;
//   - Snooze until tomorrow / next week holds the person's digests back
//     until working hours start again on the next working day, or on the
//     first working day of next week, in their own time zone.
//
// Every click is acknowledged at once; the work runs on the pool.

// callbackReminderReassign is the Reassign… form's callback id.
const callbackReminderReassign = "certops.reminder.reassign"

// Blocks and actions of the Reassign… form.
const (
	reassignToBlock, reassignToAction         = "to", "to"
	reassignReasonBlock, reassignReasonAction = "reason", "reason"
)

// Snooze button values.
const (
	snoozeTomorrow = "tomorrow"
	snoozeWeek     = "week"
)

type reassignFormMeta struct {
	Cert    string `json:"cert"`
	Channel string `json:"channel"`
}

// reminderAction handles the reminders' and the Home tab's buttons; it
// reports whether act was one of them.
func (b *Bot) reminderAction(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) bool {
	if !strings.HasPrefix(act.ActionID, "certops.reminder.") && !strings.HasPrefix(act.ActionID, "certops.home.") {
		return false
	}
	resp := b.newResponder(ic.ResponseURL, ic.Channel.ID, ic.User.ID)
	reply := func(name string, run func(ctx context.Context) (message, bool, error)) { b.enqueue(resp, name, run) }
	if ic.Channel.ID == "" {
		// A click on the Home tab: no channel, no response_url. The answer
		// goes to the person's DM with the app.
		reply = func(name string, run func(ctx context.Context) (message, bool, error)) {
			b.enqueueDM(ic.User.ID, name, run)
		}
	}
	switch act.ActionID {
	case actionReminderReview:
		certID := act.Value
		reply("reminder review", func(ctx context.Context) (message, bool, error) {
			if err := certs.ValidateID("certification id", certID); err != nil {
				return message{}, false, err
			}
			a, err := b.identities.actor(ctx, ic.User.ID, ic.User.Name)
			if err != nil {
				return message{}, false, err
			}
			m, err := b.openReview(ctx, a, ic.User.ID, certID, "")
			return m, false, err
		})
	case actionReminderReassign:
		b.openReassignForm(ctx, ic, act.Value, reply)
	case actionReminderSnooze:
		until := act.Value
		reply("snooze", func(ctx context.Context) (message, bool, error) {
			return b.snooze(ctx, ic.User, until)
		})
	case actionHomeRefresh: // home.go
		b.homeOpened(ic.User.ID)
	default:
		b.log.Warn("slackbot: unknown reminder action", "action_id", act.ActionID)
	}
	return true
}

// snooze holds the person's digests back until working hours start again
// tomorrow (or on the next working day) or next week, in their time zone.
func (b *Bot) snooze(ctx context.Context, u slack.User, until string) (message, bool, error) {
	svc, err := b.reminderPrefs()
	if err != nil {
		return message{}, false, err
	}
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return message{}, false, err
	}
	hours := b.cfg.ReminderHours
	if hours == (certs.WorkingHours{}) {
		hours = certs.DefaultWorkingHours
	}
	now := b.cfg.Now().In(b.userLocation(ctx, u.ID))
	var t time.Time
	switch until {
	case snoozeTomorrow:
		t = hours.NextStart(now)
	case snoozeWeek:
		t = hours.NextWeekStart(now)
	default:
		return message{}, false, certs.Errorf(certs.EINVALID, "this button is from an older certops; use `%s remind` instead", b.cfg.Command)
	}
	if _, err := svc.SetMyReminderPrefs(ctx, a, "", &t); err != nil {
		return message{}, false, err
	}
	b.log.Info("slackbot: reminders snoozed", "slack_user", u.ID, "identity", a.IdentityID, "until", t.UTC().Format(time.RFC3339))
	return b.render.snoozed(t), false, nil
}

// userLocation is the person's time zone in Slack (users.info's tz), UTC
// when Slack has none or cannot say.
func (b *Bot) userLocation(ctx context.Context, user string) *time.Location {
	u, err := b.api.GetUserInfoContext(ctx, user)
	if err != nil || u.TZ == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(u.TZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// openReassignForm opens the Reassign… form at once, beside the ack (a
// trigger_id lives 3 seconds).
func (b *Bot) openReassignForm(ctx context.Context, ic slack.InteractionCallback, certID string, reply func(string, func(context.Context) (message, bool, error))) {
	if certs.ValidateID("certification id", certID) != nil {
		reply("reassign", func(context.Context) (message, bool, error) {
			return message{}, false, certs.Errorf(certs.EINVALID, "this button does not name a certification; use `%s reassign`", b.cfg.Command)
		})
		return
	}
	channel := ic.Channel.ID // "" from the Home tab: the answer goes to the DM
	meta, _ := json.Marshal(reassignFormMeta{Cert: certID, Channel: channel})
	view := b.render.reassignForm(certID, certLineOf(ic.Message.Blocks, certID), string(meta))
	b.side.Add(1)
	go func() {
		defer b.side.Done()
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if _, err := b.api.OpenViewContext(octx, ic.TriggerID, view); err != nil {
			b.log.Warn("slackbot: views.open failed", "certification", certID, "err", err)
			reply("reassign", func(context.Context) (message, bool, error) {
				return b.render.notice(":warning: Slack could not open the form; please click Reassign… again."), false, nil
			})
		}
	}()
}

// certLineOf is the text of the section that shows certID in a reminder
// (the one before its buttons), "" when there is none.
func certLineOf(blocks slack.Blocks, certID string) string {
	var prev string
	for _, bl := range blocks.BlockSet {
		switch x := bl.(type) {
		case *slack.SectionBlock:
			if x.Text != nil {
				prev = x.Text.Text
			}
		case *slack.ActionBlock:
			if strings.HasSuffix(x.BlockID, "."+certID) {
				return prev
			}
		}
	}
	return ""
}

// reminderReassignSubmitted handles the Reassign… form: a missing or too
// long reason is answered in the form; the plan is made on the pool and
// shown to the person with Confirm / Cancel (the reassignment flow:
// Confirm files it for an approver).
func (b *Bot) reminderReassignSubmitted(ic slack.InteractionCallback) any {
	var meta reassignFormMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.Cert == "" {
		b.log.Warn("slackbot: reassign form without its certification", "metadata", ic.View.PrivateMetadata)
		return nil
	}
	var to, reason string
	if ic.View.State != nil {
		to = ic.View.State.Values[reassignToBlock][reassignToAction].SelectedUser
		reason = strings.TrimSpace(ic.View.State.Values[reassignReasonBlock][reassignReasonAction].Value)
	}
	errs := map[string]string{}
	if to == "" {
		errs[reassignToBlock] = "Choose who should take the review."
	}
	if reason == "" {
		errs[reassignReasonBlock] = "Say why: the approver and the new reviewer read it."
	} else if err := certs.ValidateReason(reason); err != nil {
		errs[reassignReasonBlock] = capitalize(certs.ErrorMessage(err))
	}
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs)
	}
	if !b.firstDelivery("view", ic.View.ID+"/"+ic.View.Hash) {
		return nil
	}
	run := func(ctx context.Context) (message, bool, error) {
		a, err := b.identities.actor(ctx, ic.User.ID, ic.User.Name)
		if err != nil {
			return message{}, false, err
		}
		p, err := b.identities.lookup(ctx, a, to, false)
		if err != nil {
			return message{}, false, err
		}
		ids, err := b.openItemIDs(ctx, a, meta.Cert)
		if err != nil {
			return message{}, false, err
		}
		if len(ids) == 0 {
			return b.render.notice(":white_check_mark: Every item of this certification is decided already: nothing to reassign."), false, nil
		}
		if len(ids) > certs.MaxPlanRefs {
			return message{}, false, certs.Errorf(certs.EINVALID, "this certification has %d open items; one request moves at most %d: use `%s reassign %s all-of @person to …` for one person's items at a time",
				len(ids), certs.MaxPlanRefs, b.cfg.Command, meta.Cert)
		}
		plan, err := b.svc.PlanReassignment(ctx, a, certs.PlanInput{CertificationID: meta.Cert, ItemIDs: ids, Target: p.Identity.ID, Reason: reason})
		if err != nil {
			return message{}, false, err
		}
		return b.render.plan(plan), false, nil
	}
	if meta.Channel == "" {
		b.enqueueDM(ic.User.ID, "reassign", run)
	} else {
		b.enqueue(b.newResponder("", meta.Channel, ic.User.ID), "reassign", run)
	}
	return nil // an empty 200 closes the form
}

// enqueueDM is enqueue for a click with no channel to answer in (the Home
// tab): the answer is posted to the person's DM with the app.
func (b *Bot) enqueueDM(user, name string, run func(ctx context.Context) (message, bool, error)) {
	err := b.pool.submit(name, func(ctx context.Context) {
		m, _, err := run(ctx)
		if err != nil {
			if certs.ErrorCode(err) == certs.EINTERNAL || certs.ErrorCode(err) == certs.EUNAVAILABLE || certs.ErrorCode(err) == certs.EUNKNOWN {
				b.log.Error("slackbot: "+name+" failed", "slack_user", user, "err", err)
			}
			m = b.render.failure(err)
		}
		if m.empty() {
			return
		}
		if _, _, err := b.api.PostMessageContext(ctx, user, msgOptions(m)...); err != nil {
			b.log.Warn("slackbot: could not answer an interaction", "action", name, "user", user, "err", err)
		}
	})
	if err != nil {
		b.log.Warn("slackbot: dropped an interaction", "action", name, "err", err)
	}
}

// openItemIDs lists a certification's undecided items.
func (b *Bot) openItemIDs(ctx context.Context, a certs.Actor, certID string) ([]string, error) {
	var ids []string
	f := certs.ReviewItemFilter{Page: certs.PageOptions{Limit: certs.MaxPageLimit}}
	for {
		page, err := b.svc.ListReviewItems(ctx, a, certID, f)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if it.Decision == "" && !it.Completed {
				ids = append(ids, it.ID)
			}
		}
		if len(page.Items) < certs.MaxPageLimit {
			return ids, nil
		}
		f.Page.Offset += len(page.Items)
	}
}

// reassignForm asks who should take a certification's open items, and why.
func (r *renderer) reassignForm(certID, line, metadata string) slack.ModalViewRequest {
	what := fmt.Sprintf("certification `%s`", esc(certID))
	if line != "" {
		what = line
	}
	to := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Choose a person"), reassignToAction)
	reason := slack.NewPlainTextInputBlockElement(plain("Why they are better placed to review it"), reassignReasonAction).
		WithMultiline(true).WithMaxLength(certs.MaxReasonLength)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackReminderReassign,
		Title:           plain("Reassign review"),
		Submit:          plain("Show the plan"),
		Close:           plain("Back"),
		PrivateMetadata: metadata,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section("Hand the open items of " + what + " to someone better placed. You see the plan and confirm it; an approver then approves or denies it."),
			slack.NewInputBlock(reassignToBlock, plain("New reviewer"), nil, to),
			slack.NewInputBlock(reassignReasonBlock, plain("Reason"), nil, reason),
		}},
	}
}

// snoozed tells a person until when their reminders wait.
func (r *renderer) snoozed(until time.Time) message {
	text := fmt.Sprintf(":zzz: Snoozed: no reminder of your open certifications before %s.", slackDate(until))
	return message{Text: text, Blocks: []slack.Block{section(text),
		contextLine(fmt.Sprintf("`%s remind default` ends the snooze; `%s remind off` turns reminders off.", r.command, r.command))}}
}
