package slackbot_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/slackbot"
	"github.com/certops/certops/internal/store/storetest"
)

func (e *reminderEnv) tracker(owner string, st certs.Store) *slackbot.Tracker {
	svc := certs.NewService(certs.Options{Tenant: e.tenant, Store: st, Now: e.clock.Now, Logger: discardLog()})
	return slackbot.NewTracker(svc, e.slack.Client("xoxb-test"), slackbot.TrackerConfig{
		Campaigns: map[string]string{"camp-1": "CTRACK"}, MinInterval: 30 * time.Second,
		Owner: owner, Now: e.clock.Now, Logger: discardLog()})
}

func items(certID string, n, done int) []certs.ReviewItem {
	var out []certs.ReviewItem
	for i := range n {
		it := certs.ReviewItem{ID: certID + "-item-" + string(rune('a'+i))}
		it.IdentitySummary.ID = certID + "-subject"
		if i < done {
			it.Completed, it.Decision = true, "APPROVE"
		}
		out = append(out, it)
	}
	return out
}

// blocksText is a chat.postMessage or chat.update call's blocks, as sent.
func blocksText(t *testing.T, form map[string][]string) string {
	t.Helper()
	raw := form["blocks"]
	require.Len(t, raw, 1)
	var blocks []struct {
		Text     struct{ Text string }
		Elements []struct{ Text string }
	}
	require.NoError(t, json.Unmarshal([]byte(raw[0]), &blocks))
	var out []string
	for _, b := range blocks {
		out = append(out, b.Text.Text)
		for _, el := range b.Elements {
			out = append(out, el.Text)
		}
	}
	return strings.Join(out, "\n")
}

// The tracker posts a campaign's progress by reviewer once, most behind
// first; a second replica edits that message rather than posting its own;
// a decision refreshes it in place, no more than once per MinInterval.
func TestTrackerPostsOnceAndUpdatesInPlaceThrottled(t *testing.T) {
	e := newReminderEnv(t)
	ctx := t.Context()
	e.tenant.AddItems("cert-a", items("cert-a", 10, 0)...)
	e.tenant.AddItems("cert-b", items("cert-b", 4, 1)...)

	a := e.tracker("bot-a", e.store)
	n, err := a.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	posts := e.slack.Calls("chat.postMessage")
	require.Len(t, posts, 1)
	assert.Equal(t, "CTRACK", posts[0].Form.Get("channel"))
	assert.Contains(t, posts[0].Form.Get("metadata"), slackbot.TrackerEventType)
	assert.Contains(t, posts[0].Form.Get("text"), "Q4: 1 of 14 decisions made (7%), 0 of 2 certifications signed off, :red_circle: 1 reviewer overdue.")
	body := blocksText(t, posts[0].Form)
	assert.Less(t, strings.Index(body, "Alice — 0 of 10"), strings.Index(body, "Bob — 1 of 4"), "most behind first")
	assert.Contains(t, body, ":red_circle: Bob — 1 of 4 decisions, overdue since <!date^")

	// Another replica on the same store edits the one message.
	b := e.tracker("bot-b", e.store.Handle())
	n, err = b.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 1)
	updates := e.slack.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Equal(t, posts[0].TS, updates[0].Form.Get("ts"))
	assert.Equal(t, "CTRACK", updates[0].Form.Get("channel"))

	// Nothing changed: nothing sent.
	e.clock.Advance(time.Minute)
	n, err = a.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	// Alice decides everything and signs off; bot-a hears of it at once
	// and again 10s later: one update when MinInterval allows, not two.
	done := e.tenant.Certifications()
	for _, c := range done {
		if c.ID == "cert-a" {
			c.Phase, c.Completed = certs.PhaseSigned, true
			e.tenant.AddCertification(c)
		}
	}
	a.Changed("cert-a")
	a.Changed("cert-unknown") // not tracked: ignored
	n, err = a.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "last refresh a minute ago")
	a.Changed("cert-a")
	e.clock.Advance(10 * time.Second)
	n, err = a.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "throttled: 10s since the last update")
	e.clock.Advance(25 * time.Second)
	n, err = a.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	updates = e.slack.Calls("chat.update")
	require.Len(t, updates, 3)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 1, "edited in place, never posted again")
	last := updates[2]
	assert.Contains(t, last.Form.Get("text"), "1 of 2 certifications signed off")
	assert.Contains(t, blocksText(t, last.Form), ":white_check_mark: Alice")

	got, err := e.store.GetReminder(ctx, slackbot.TrackerKey("camp-1"))
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderSent, got.State)
	assert.Equal(t, posts[0].TS, got.TS)
}

// Two bots on one PostgreSQL schema start at once: one posts the tracker,
// the other edits that message (or, while the post is in flight, leaves
// it for its next flush); never two messages.
func TestTrackerPostgresTwoBotsOneMessage(t *testing.T) {
	e := newReminderEnv(t)
	dbURL := storetest.SchemaURL(t)
	stA := openRemindersPostgres(t, dbURL, e.clock.Now)
	stB := openRemindersPostgres(t, dbURL, e.clock.Now)
	bots := []*slackbot.Tracker{e.tracker("bot-a", stA), e.tracker("bot-b", stB)}
	var wg sync.WaitGroup
	for _, b := range bots {
		wg.Go(func() { _, err := b.Flush(t.Context()); assert.NoError(t, err) })
	}
	wg.Wait()
	for _, b := range bots { // whichever left it dirty catches up
		_, err := b.Flush(t.Context())
		require.NoError(t, err)
	}
	require.Len(t, e.slack.Calls("chat.postMessage"), 1)
	ts := e.slack.Calls("chat.postMessage")[0].TS
	for _, u := range e.slack.Calls("chat.update") {
		assert.Equal(t, ts, u.Form.Get("ts"))
	}
	got, err := stB.GetReminder(t.Context(), slackbot.TrackerKey("camp-1"))
	require.NoError(t, err)
	assert.Equal(t, ts, got.TS)
}

// What certops records about a certification (a decision, a reassignment)
// reaches the tracker through the outbox: the campaign is refreshed; an
// event about another certification is not.
func TestTrackerHearsOfChangesThroughTheOutbox(t *testing.T) {
	e := newReminderEnv(t)
	ctx := t.Context()
	tr := e.tracker("bot-a", e.store)
	_, err := tr.Flush(ctx) // the first post; it also records an event (reminder.sent)
	require.NoError(t, err)
	require.NoError(t, tr.Events(ctx))
	e.clock.Advance(time.Minute)
	n, err := tr.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the tracker's own event is about no certification")

	require.NoError(t, e.store.AppendEvents(ctx, certs.Event{Actor: certs.SystemActor, Action: certs.ActionReminderSent, CertificationID: "cert-elsewhere"}))
	require.NoError(t, tr.Events(ctx))
	n, err = tr.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	require.NoError(t, e.store.AppendEvents(ctx, certs.Event{Actor: certs.SystemActor, Action: certs.ActionReminderSent, CertificationID: "cert-b"}))
	require.NoError(t, tr.Events(ctx))
	n, err = tr.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, e.slack.Calls("chat.update"), 1)
	assert.Len(t, e.slack.Calls("chat.postMessage"), 1)
}
