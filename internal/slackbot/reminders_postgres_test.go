package slackbot_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/slackbot"
	"github.com/certops/certops/internal/slackbot/slackfake"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

// The reminders' exactly-once promise with the real store: bots sharing
// one PostgreSQL schema (each with its own connection pool, as replicas
// have), the fake tenant of newReminderEnv and the fake Slack.

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openRemindersPostgres opens the store on dbURL with the test's clock, so
// leases lapse when the test moves it.
func openRemindersPostgres(t *testing.T, dbURL string, now func() time.Time) certs.Store {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dbURL, store.Options{Now: now, Logger: discardLog()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// pgSweeper is a bot: its own store handle on the shared schema, the
// escalation step of newReminderEnv, no pacing waits.
func (e *reminderEnv) pgSweeper(st certs.Store, owner string) *slackbot.Reminders {
	sched := certs.DefaultReminderSchedule()
	sched.Escalation, _ = certs.ParseEscalation("1d:manager+channel")
	svc := certs.NewService(certs.Options{Tenant: e.tenant, Store: st, Now: e.clock.Now, Logger: discardLog()})
	return slackbot.NewReminders(svc, e.slack.Client("xoxb-test"), slackbot.RemindersConfig{
		Schedule: sched, AdminsChannel: "CADMINS", Owner: owner, Now: e.clock.Now, PostEvery: time.Millisecond,
		Logger: discardLog(), Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
}

// withFakeSlack replaces the env's fake Slack by one made with opts, with
// the same people.
func (e *reminderEnv) withFakeSlack(t *testing.T, opts ...slackfake.Option) {
	e.slack = slackfake.New(t, opts...)
	e.slack.PutUser("UALICE", slackfake.User{Email: "alice@example.com", TZ: "America/New_York"})
	e.slack.PutUser("UBOB", slackfake.User{Email: "bob@example.com", TZ: "Europe/Paris"})
	e.slack.PutUser("UMGR", slackfake.User{Email: "maria@example.com", TZ: "Europe/Paris"})
}

// reminderKeys counts the reminder keys of the successful posts made.
func reminderKeys(t *testing.T, s *slackfake.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, c := range s.Calls("chat.postMessage") {
		if c.TS == "" {
			continue // refused (a queued failure)
		}
		md := c.Form.Get("metadata")
		require.Contains(t, md, slackbot.ReminderEventType)
		out[md]++
	}
	return out
}

// wantPosts checks the posts newReminderEnv's day calls for: alice's digest,
// bob's digest, and bob's escalation to his manager and the admins'
// channel (one key, two posts).
func wantPosts(t *testing.T, e *reminderEnv) {
	t.Helper()
	assert.Len(t, e.slack.Messages("UALICE"), 1)
	assert.Len(t, e.slack.Messages("UBOB"), 1)
	assert.Len(t, e.slack.Messages("UMGR"), 1)
	assert.Len(t, e.slack.Messages("CADMINS"), 1)
	keys := reminderKeys(t, e.slack)
	assert.Len(t, keys, 3, "two digests and one escalation step")
	for md, n := range keys {
		// The escalation's key goes to two conversations, once each.
		assert.LessOrEqual(t, n, 2, md)
	}
}

func TestRemindersPostgresTwoBotsSendOnce(t *testing.T) {
	e := newReminderEnv(t)
	dbURL := storetest.SchemaURL(t)
	// Opened one after the other: the first migrates the schema.
	stA := openRemindersPostgres(t, dbURL, e.clock.Now)
	stB := openRemindersPostgres(t, dbURL, e.clock.Now)

	for round := range 3 { // the same moment swept again and again: nothing new
		var wg sync.WaitGroup
		var mu sync.Mutex
		var total slackbot.SweepStats
		for _, b := range []struct {
			owner string
			st    certs.Store
		}{{"bot-a", stA}, {"bot-b", stB}} {
			r := e.pgSweeper(b.st, b.owner)
			wg.Go(func() {
				st, err := r.Sweep(t.Context())
				assert.NoError(t, err, b.owner)
				mu.Lock()
				total.Digests += st.Digests
				total.Escalations += st.Escalations
				total.Recovered += st.Recovered
				mu.Unlock()
			})
		}
		wg.Wait()
		if round == 0 {
			assert.Equal(t, 2, total.Digests, "between them, each digest once")
			assert.Equal(t, 1, total.Escalations)
		} else {
			assert.Zero(t, total.Digests+total.Escalations+total.Recovered, "round %d", round)
		}
		e.clock.Advance(time.Hour)
	}
	wantPosts(t, e)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 4)

	// Both bots read the same record: sent once, at the one message.
	alice := e.slack.Messages("UALICE")
	require.Len(t, alice, 1)
	for _, st := range []certs.Store{stA, stB} {
		got, err := st.GetReminder(t.Context(), certs.DigestKey("id-alice", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)))
		require.NoError(t, err)
		assert.Equal(t, certs.ReminderSent, got.State)
		assert.Equal(t, 1, got.Attempt, "claimed once")
		assert.Equal(t, alice[0].TS, got.TS)
	}
}

// A bot's sweep is cut off right after it claimed a reminder and Slack got
// the post (its context ends while chat.postMessage is in flight): the
// post is in Slack, the claim is not finished. A restarted bot on the same
// schema leaves the claim alone while its lease holds, then finds the post
// by its metadata and records it, and sends every other reminder once.
func TestRemindersPostgresRestartMidSweep(t *testing.T) {
	e := newReminderEnv(t)
	var mu sync.Mutex
	var cut func()
	e.withFakeSlack(t, slackfake.OnCall(func(c slackfake.Call) {
		if c.Method != "chat.postMessage" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if cut != nil {
			cut()
			cut = nil
		}
	}))
	dbURL := storetest.SchemaURL(t)
	stDead := openRemindersPostgres(t, dbURL, e.clock.Now)

	ctx, cancel := context.WithCancel(t.Context())
	mu.Lock()
	cut = cancel
	mu.Unlock()
	_, err := e.pgSweeper(stDead, "bot-dead").Sweep(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, e.slack.Calls("chat.postMessage"), 1, "cut off at its first post")
	first := e.slack.Calls("chat.postMessage")[0].Form.Get("metadata")

	// The restart, within the lease: the interrupted reminder is left
	// alone, the rest is sent.
	stNew := openRemindersPostgres(t, dbURL, e.clock.Now)
	e.clock.Advance(30 * time.Second)
	st, err := e.pgSweeper(stNew, "bot-new").Sweep(t.Context())
	require.NoError(t, err)
	assert.Zero(t, st.Recovered)
	assert.Equal(t, 2, st.Digests+st.Escalations, "the two reminders not yet claimed")
	assert.Equal(t, 1, reminderKeys(t, e.slack)[first], "the interrupted one not posted again")

	// After the lease: found in conversations.history, recorded, not sent.
	e.clock.Advance(3 * time.Minute)
	st, err = e.pgSweeper(stNew, "bot-new").Sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Recovered)
	assert.Zero(t, st.Digests+st.Escalations)
	assert.NotEmpty(t, e.slack.Calls("conversations.history"))
	wantPosts(t, e)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 4)

	// And nothing after that, from either handle.
	e.clock.Advance(time.Hour)
	for _, s := range []certs.Store{stDead, stNew} {
		st, err = e.pgSweeper(s, "bot-later").Sweep(t.Context())
		require.NoError(t, err)
		assert.Zero(t, st.Digests+st.Escalations+st.Recovered)
	}
	assert.Len(t, e.slack.Calls("chat.postMessage"), 4)
}

// Slack refuses a bot's post with a server error after the bot claimed the
// reminder: the sweep goes on with the others; once the claim lapses,
// another bot on the schema finds no such message in the conversation and
// posts it, once.
func TestRemindersPostgresSlackFailureThenOtherBot(t *testing.T) {
	e := newReminderEnv(t)
	e.slack.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusInternalServerError, Body: `{"ok":false,"error":"internal_error"}`})
	dbURL := storetest.SchemaURL(t)
	stA := openRemindersPostgres(t, dbURL, e.clock.Now)
	stB := openRemindersPostgres(t, dbURL, e.clock.Now)

	st, err := e.pgSweeper(stA, "bot-a").Sweep(t.Context())
	require.Error(t, err, "one reminder failed")
	sent := st.Digests + st.Escalations
	assert.Positive(t, sent, "the other reviewer's work went on")
	refused := e.slack.Calls("chat.postMessage")[0].Form.Get("metadata")
	assert.Zero(t, reminderKeys(t, e.slack)[refused])

	st, err = e.pgSweeper(stB, "bot-b").Sweep(t.Context())
	require.NoError(t, err)
	assert.Zero(t, st.Recovered)
	sent += st.Digests + st.Escalations
	assert.Zero(t, reminderKeys(t, e.slack)[refused], "bot-a's claim holds")

	e.clock.Advance(3 * time.Minute)
	st, err = e.pgSweeper(stB, "bot-b").Sweep(t.Context())
	require.NoError(t, err)
	assert.Zero(t, st.Recovered, "conversations.history has no such message")
	sent += st.Digests + st.Escalations
	assert.Equal(t, 3, sent, "two digests and one escalation, once each")
	assert.Equal(t, 1, reminderKeys(t, e.slack)[refused])
	wantPosts(t, e)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 5, "the refused post and four sent")
}
