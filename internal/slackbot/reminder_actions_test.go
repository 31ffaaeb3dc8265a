package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/slackbot/slackfake"
)

// sweepReminders runs one reminder sweep of the bundle's tenant, at 10:00
// in Los Angeles (Alice's time zone, users.info's fixture) on Monday
// 23 November: cert-1 and cert-2, due Thursday, are at their 3d step.
// escalation, if not empty, is CERTOPS_ESCALATION, to the admins'
// channel CADMINS.
func (b *bundle) sweepReminders(t *testing.T, escalation string) {
	t.Helper()
	b.slack.PutUser(alice, slackfake.User{Email: people[alice].Email, TZ: "America/Los_Angeles"})
	if now := b.clock.Now(); now.Before(t0.Add(4 * time.Hour)) {
		b.clock.Advance(t0.Add(4 * time.Hour).Sub(now))
	}
	sched := certs.DefaultReminderSchedule()
	var err error
	sched.Escalation, err = certs.ParseEscalation(escalation)
	require.NoError(t, err)
	_, err = NewReminders(b.svc, b.slack.api(), RemindersConfig{Schedule: sched, AdminsChannel: "CADMINS", Owner: "test", Now: b.clock.Now,
		PostEvery: time.Millisecond, Sleep: func(context.Context, time.Duration) error { return nil }, Logger: quiet()}).Sweep(context.Background())
	require.NoError(t, err)
}

// lastMessageIn is the last message the bot posted to channel.
func lastMessageIn(t *testing.T, fs *fakeSlack, channel string) slackMsg {
	t.Helper()
	ms := messagesIn(fs, channel)
	require.NotEmpty(t, ms, "no message in %s", channel)
	return ms[len(ms)-1]
}

// ephemerals are the texts and blocks of the ephemeral messages posted to
// user.
func (b *bundle) ephemerals(user string) []slackMsg {
	var out []slackMsg
	for _, c := range b.slack.Calls("chat.postEphemeral") {
		if c.Form.Get("user") == user {
			out = append(out, slackMsg{Channel: c.Form.Get("channel"), Text: c.Form.Get("text"), Blocks: c.Form.Get("blocks")})
		}
	}
	return out
}

// submitReassign submits the Reassign… form v as user, choosing to and
// giving reason.
func (b *bundle) submitReassign(t *testing.T, user string, v slack.ModalViewRequest, to, reason string) viewAnswer {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "view-submission.json")), &p))
	p["user"].(map[string]any)["id"] = user
	view := p["view"].(map[string]any)
	view["id"], view["hash"] = "V"+b.trigger(), b.trigger()
	view["callback_id"], view["private_metadata"] = v.CallbackID, v.PrivateMetadata
	view["state"] = map[string]any{"values": map[string]any{
		reassignToBlock:     map[string]any{reassignToAction: map[string]any{"type": "users_select", "selected_user": to}},
		reassignReasonBlock: map[string]any{reassignReasonAction: map[string]any{"type": "plain_text_input", "value": reason}},
	}}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(signedRequest(t, b.server.URL+"/slack/interactions", url.Values{"payload": {string(raw)}}.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var a viewAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return a
}

func TestDigestSnoozeWaitsForWorkingHoursInTheReadersTimeZone(t *testing.T) {
	b := setup(t)
	b.sweepReminders(t, "")
	digest := lastMessageIn(t, b.slack, alice)
	assert.Contains(t, digest.Text, "You have 2 open certifications to review")

	b.press(t, alice, digest, "certops.reminder.snooze", actionReminderSnooze) // the first: tomorrow
	// Monday 10:00 in Los Angeles: tomorrow's working hours start on
	// Tuesday at 09:00 there, 17:00 UTC.
	tomorrow := time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
	got := b.reply(t, 1).Body
	assert.Equal(t, ":zzz: Snoozed: no reminder of your open certifications before "+slackDate(tomorrow)+".", got.Text)
	p, err := b.svc.ReminderPrefsOf(context.Background(), people[alice].ID)
	require.NoError(t, err)
	assert.True(t, p.SnoozeUntil.Equal(tomorrow), p.SnoozeUntil)

	b.pressValue(t, alice, digest, actionReminderSnooze, snoozeWeek)
	nextWeek := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // Monday 09:00 in Los Angeles
	assert.Contains(t, b.reply(t, 2).Body.Text, slackDate(nextWeek))
	p, err = b.svc.ReminderPrefsOf(context.Background(), people[alice].ID)
	require.NoError(t, err)
	assert.True(t, p.SnoozeUntil.Equal(nextWeek), p.SnoozeUntil)

	// The next working day, no digest: snoozed.
	b.clock.Advance(24 * time.Hour)
	before := len(messagesIn(b.slack, alice))
	b.sweepReminders(t, "")
	assert.Len(t, messagesIn(b.slack, alice), before)
}

func TestDigestReviewOpensTheReview(t *testing.T) {
	b := setup(t)
	b.sweepReminders(t, "")
	digest := lastMessageIn(t, b.slack, alice)
	before := len(messagesIn(b.slack, alice))
	b.press(t, alice, digest, "certops.reminder.cert-1", actionReminderReview)
	assert.Contains(t, b.reply(t, 1).Body.Text, "Alice's Q4 review")
	waitFor(t, "the review in Alice's DM", func() bool { return len(messagesIn(b.slack, alice)) > before+1 })
	assert.Contains(t, messagesIn(b.slack, alice)[before].Text, "Alice's Q4 review")
}

func TestDigestReassignFilesARequestForApproval(t *testing.T) {
	b := setup(t)
	b.sweepReminders(t, "")
	digest := lastMessageIn(t, b.slack, alice)
	b.press(t, alice, digest, "certops.reminder.cert-1", actionReminderReassign)
	form := openedView(t, b.slack, 1)
	assert.Equal(t, callbackReminderReassign, form.CallbackID)
	raw, _ := json.Marshal(form.Blocks)
	assert.Contains(t, string(raw), "Alice's Q4 review", "the form says which certification")

	a := b.submitReassign(t, alice, form, "", "  ")
	assert.Equal(t, "errors", a.ResponseAction)
	assert.Equal(t, map[string]string{reassignToBlock: "Choose who should take the review.", reassignReasonBlock: "Say why: the approver and the new reviewer read it."}, a.Errors)

	a = b.submitReassign(t, alice, form, carol, "Carol owns payroll now")
	assert.Empty(t, a.Errors)
	waitFor(t, "the plan", func() bool { return len(b.ephemerals(alice)) > 0 })
	plan := b.ephemerals(alice)[0]
	assert.Equal(t, alice, plan.Channel, "shown in the DM the digest is in")
	assert.Contains(t, plan.Blocks, "Reassignment plan")
	assert.Contains(t, plan.Blocks, "Carol Owner")

	v, ok := findButton(plan.Blocks, "", actionConfirm)
	require.True(t, ok, plan.Blocks)
	b.pressValue(t, alice, plan, actionConfirm, v)
	filed := b.reply(t, 1).Body.Text
	assert.Contains(t, filed, "is waiting for approval")
	assert.Contains(t, filed, "7 review items of Alice's Q4 review to Carol Owner")
}

func TestEscalationReassignByAnAdminNeedsApproval(t *testing.T) {
	b := setup(t)
	b.sweepReminders(t, "-3d:channel") // three days before Thursday's due date
	var esc slackMsg
	for _, m := range messagesIn(b.slack, "CADMINS") {
		if strings.Contains(m.Text, "Alice's Q4 review") {
			esc = m
		}
	}
	assert.Equal(t, ":rotating_light: <@"+alice+">'s certification Alice's Q4 review is due soon.", esc.Text)

	// Someone in the channel who may not reassign it is told so.
	b.press(t, mallory, esc, "certops.reminder.escalation.cert-1", actionReminderReassign)
	b.submitReassign(t, mallory, openedView(t, b.slack, 1), carol, "Alice is away")
	waitFor(t, "Mallory's answer", func() bool { return len(b.ephemerals(mallory)) > 0 })
	assert.True(t, strings.HasPrefix(b.ephemerals(mallory)[0].Text, ":"), b.ephemerals(mallory)[0].Text)
	assert.NotContains(t, b.ephemerals(mallory)[0].Blocks, actionConfirm)

	b.press(t, admin, esc, "certops.reminder.escalation.cert-1", actionReminderReassign)
	b.submitReassign(t, admin, openedView(t, b.slack, 2), carol, "Alice is away until January")
	waitFor(t, "the admin's plan", func() bool { return len(b.ephemerals(admin)) > 0 })
	plan := b.ephemerals(admin)[0]
	assert.Equal(t, "CADMINS", plan.Channel)
	v, ok := findButton(plan.Blocks, "", actionConfirm)
	require.True(t, ok, plan.Blocks)
	b.pressValue(t, admin, plan, actionConfirm, v)
	waitFor(t, "the request filed", func() bool {
		for _, p := range b.hooks.Posts() {
			if strings.Contains(p.Body.Text, "is waiting for approval") {
				return true
			}
		}
		return false
	})
}
