package slackbot_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/slackbot"
	"github.com/certops/certops/internal/slackbot/slackfake"
	"github.com/certops/certops/internal/testkit"
)

type reminderEnv struct {
	clock  *testkit.Clock
	tenant *certstest.Tenant
	store  *certstest.Store
	slack  *slackfake.Server
	svc    *certs.Service
}

// Tuesday 24 Nov 2026, 15:00 UTC = 10:00 in New York: alice's cert is due
// in 7 days (the 7d step), bob's (in Paris, 16:00) was due on Sunday:
// his digest is overdue and his manager hears (1d:manager+channel).
func newReminderEnv(t *testing.T) *reminderEnv {
	e := &reminderEnv{clock: testkit.NewClock(time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)),
		tenant: certstest.NewTenant(), store: certstest.NewStore(), slack: slackfake.New(t)}
	e.store.Now = e.clock.Now
	e.tenant.AddIdentity("id-alice", "Alice", "alice@example.com")
	bob := e.tenant.AddIdentity("id-bob", "Bob", "bob@example.com")
	bob.ManagerID = "id-mgr"
	e.tenant.AddIdentity("id-mgr", "Maria Manager", "maria@example.com")
	e.slack.PutUser("UALICE", slackfake.User{Email: "alice@example.com", TZ: "America/New_York"})
	e.slack.PutUser("UBOB", slackfake.User{Email: "bob@example.com", TZ: "Europe/Paris"})
	e.slack.PutUser("UMGR", slackfake.User{Email: "maria@example.com", TZ: "Europe/Paris"})
	aliceDue := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	bobDue := time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)
	for _, c := range []certs.Certification{
		{ID: "cert-a", Name: "Q4 review: Alice", Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice", Email: "alice@example.com", Type: certs.ReviewerIdentity},
			Phase: certs.PhaseActive, Due: &aliceDue, Created: aliceDue.AddDate(0, 0, -21), DecisionsTotal: 10, Campaign: certs.Campaign{ID: "camp-1", Name: "Q4"}},
		{ID: "cert-b", Name: "Q4 review: Bob", Reviewer: certs.Reviewer{ID: "id-bob", Name: "Bob", Email: "bob@example.com", Type: certs.ReviewerIdentity},
			Phase: certs.PhaseActive, Due: &bobDue, Created: bobDue.AddDate(0, 0, -21), DecisionsTotal: 4, DecisionsMade: 1, Campaign: certs.Campaign{ID: "camp-1", Name: "Q4"}},
	} {
		e.tenant.AddCertification(c)
	}
	e.svc = certs.NewService(certs.Options{Tenant: e.tenant, Store: e.store, Now: e.clock.Now})
	return e
}

func (e *reminderEnv) sweeper(t *testing.T, owner string, store *certstest.Store) *slackbot.Reminders {
	sched := certs.DefaultReminderSchedule()
	sched.Escalation, _ = certs.ParseEscalation("1d:manager+channel")
	svc := certs.NewService(certs.Options{Tenant: e.tenant, Store: store, Now: e.clock.Now})
	return slackbot.NewReminders(svc, e.slack.Client("xoxb-test"), slackbot.RemindersConfig{
		Schedule: sched, AdminsChannel: "CADMINS", Owner: owner, Now: e.clock.Now, PostEvery: time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
}

func metadataKeys(msgs []slackfake.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Metadata)
	}
	return out
}

func TestRemindersDigestAndEscalationOnce(t *testing.T) {
	e := newReminderEnv(t)
	ctx := t.Context()
	r := e.sweeper(t, "bot-a", e.store)
	st, err := r.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Reviewers)
	assert.Equal(t, 2, st.Digests, "alice's 7d step, bob's overdue step")
	assert.Equal(t, 1, st.Escalations, "bob is a day late: his manager and the admins' channel")
	assert.Equal(t, 1, e.tenant.Calls("ListAllCertifications"), "ISC read once per sweep")

	alice := e.slack.Messages("UALICE")
	require.Len(t, alice, 1)
	assert.Contains(t, alice[0].Text, "1 open certification")
	assert.Contains(t, alice[0].Metadata, `"event_type":"certops_reminder"`)
	assert.Contains(t, alice[0].Metadata, certs.DigestKey("id-alice", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)))
	assert.Contains(t, alice[0].Blocks, "certops.reminder.snooze")
	assert.Contains(t, alice[0].Blocks, "certops.reminder.review")
	require.Len(t, e.slack.Messages("UMGR"), 1)
	assert.Contains(t, e.slack.Messages("UMGR")[0].Text, "<@UBOB>")
	require.Len(t, e.slack.Messages("CADMINS"), 1)

	// A second sweep, and a restart later in the day: nothing again.
	for _, owner := range []string{"bot-a", "bot-restarted"} {
		e.clock.Advance(2 * time.Hour)
		st, err = e.sweeper(t, owner, e.store.Handle()).Sweep(ctx)
		require.NoError(t, err)
		assert.Zero(t, st.Digests+st.Escalations, owner)
	}
	assert.Len(t, e.slack.Calls("chat.postMessage"), 4)

	var actions []certs.Action
	for _, ev := range e.store.Events() {
		actions = append(actions, ev.Action)
	}
	assert.ElementsMatch(t, []certs.Action{certs.ActionReminderSent, certs.ActionReminderSent, certs.ActionEscalated}, actions)
}

// Two bots on one store sweep at once: each message is sent once.
func TestRemindersTwoReplicasSendOnce(t *testing.T) {
	e := newReminderEnv(t)
	var wg sync.WaitGroup
	for _, owner := range []string{"bot-a", "bot-b"} {
		r := e.sweeper(t, owner, e.store.Handle())
		wg.Go(func() { _, err := r.Sweep(t.Context()); assert.NoError(t, err) })
	}
	wg.Wait()
	assert.Len(t, e.slack.Calls("chat.postMessage"), 4)
}

// A bot posts alice's digest and dies before recording it: after the
// lease, the next bot finds the message by its metadata and does not post
// it again.
func TestRemindersCrashBetweenSendAndRecord(t *testing.T) {
	e := newReminderEnv(t)
	ctx := t.Context()
	key := certs.DigestKey("id-alice", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	_, ok, err := e.svc.ClaimReminder(ctx, certs.Reminder{Key: key, Kind: certs.ReminderDigest, Subject: "id-alice"}, "bot-dead", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, _, err = e.slack.Client("xoxb-test").PostMessageContext(ctx, "UALICE", slack.MsgOptionText("digest", false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: slackbot.ReminderEventType, EventPayload: map[string]any{"key": key}}))
	require.NoError(t, err)

	st, err := e.sweeper(t, "bot-b", e.store.Handle()).Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Recovered, "bot-dead's claim still holds: not touched")
	assert.Len(t, e.slack.Messages("UALICE"), 1)

	e.clock.Advance(2 * time.Minute)
	st, err = e.sweeper(t, "bot-b", e.store.Handle()).Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Recovered)
	assert.Len(t, e.slack.Messages("UALICE"), 1, "found in conversations.history, not sent again")
	assert.NotEmpty(t, e.slack.Calls("conversations.history"))
	got, err := e.store.GetReminder(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderSent, got.State)
	assert.Equal(t, "DUALICE", got.Channel)
}

// Slack answers ratelimited with Retry-After: the sweep waits that long
// and posts again.
func TestRemindersRateLimited(t *testing.T) {
	e := newReminderEnv(t)
	e.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests,
		Body: `{"ok":false,"error":"ratelimited"}`, Header: map[string]string{"Retry-After": "7"}})
	var waits []time.Duration
	sched := certs.DefaultReminderSchedule()
	r := slackbot.NewReminders(e.svc, e.slack.Client("xoxb-test"), slackbot.RemindersConfig{Schedule: sched, Owner: "bot-a", Now: e.clock.Now,
		PostEvery: time.Millisecond, Sleep: func(ctx context.Context, d time.Duration) error {
			if d >= time.Second {
				waits = append(waits, d)
			}
			return nil
		}})
	st, err := r.Sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, st.Digests)
	assert.Contains(t, waits, 7*time.Second, "Retry-After honoured")
	assert.Len(t, e.slack.Calls("chat.postMessage"), 3, "the refused post and two digests")
}

// Opted out and snoozed reviewers get nothing; escalation still happens.
func TestRemindersOptOut(t *testing.T) {
	e := newReminderEnv(t)
	ctx := t.Context()
	require.NoError(t, e.store.PutReminderPrefs(ctx, "id-alice", certs.ReminderPrefs{Mode: certs.ReminderModeOff}))
	require.NoError(t, e.store.PutReminderPrefs(ctx, "id-bob", certs.ReminderPrefs{SnoozeUntil: e.clock.Now().Add(24 * time.Hour)}))
	st, err := e.sweeper(t, "bot-a", e.store).Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Digests)
	assert.Equal(t, 1, st.Escalations)
	assert.Empty(t, e.slack.Messages("UALICE"))
	assert.Empty(t, e.slack.Messages("UBOB"))
}
