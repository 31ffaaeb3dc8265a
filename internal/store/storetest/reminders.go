package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func digest(key, subject string) certs.Reminder {
	return certs.Reminder{Key: key, Kind: certs.ReminderDigest, Subject: subject}
}

// testReminders: a reminder is claimed by one owner, finished with its
// events, and then never claimed again; a lapsed claim is claimed again with
// the attempt counted.
func testReminders(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	key := "digest/id-alice/2026-11-23"

	r, ok, err := e.s.ClaimReminder(ctx, digest(key, "id-alice"), "bot-a", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, certs.ReminderClaimed, r.State)
	assert.Equal(t, 1, r.Attempt)
	assert.Equal(t, "bot-a", r.Owner)
	assert.Equal(t, e.clock.Now().Add(time.Minute).UTC().Truncate(time.Microsecond), r.LeaseUntil)

	other := e.another(t)
	r, ok, err = other.ClaimReminder(ctx, digest(key, "id-alice"), "bot-b", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held by bot-a")
	assert.Equal(t, "bot-a", r.Owner)

	_, err = other.FinishReminder(ctx, key, "bot-b", certs.ReminderSent, "D1", "1.2", nil)
	requireCode(t, certs.ECONFLICT, err)

	e.clock.Advance(time.Minute)
	r, ok, err = other.ClaimReminder(ctx, digest(key, "id-alice"), "bot-b", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "bot-a's lease ended")
	assert.Equal(t, 2, r.Attempt, "a second claim says an earlier owner may have sent it")

	_, err = e.s.FinishReminder(ctx, key, "bot-a", certs.ReminderSent, "D1", "1.2", nil)
	requireCode(t, certs.ECONFLICT, err)

	due := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	snap := []certs.ReminderCert{{ID: "cert-1", Name: "Q4 review", Due: &due, DecisionsMade: 2, DecisionsTotal: 10}}
	ev := certs.Event{Actor: certs.SystemActor, Action: certs.ActionReminderSent, Detail: key}
	r, err = other.FinishReminder(ctx, key, "bot-b", certs.ReminderSent, "D1", "1700000000.000001", snap, ev)
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderSent, r.State)
	assert.Equal(t, "D1", r.Channel)
	assert.Equal(t, "1700000000.000001", r.TS)
	assert.Empty(t, r.Owner)
	assert.Equal(t, snap, r.Snapshot)
	assert.False(t, r.Finished.IsZero())

	got, err := e.s.GetReminder(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, r, got)

	evs, err := e.s.ListEvents(ctx, certs.EventFilter{})
	require.NoError(t, err)
	require.Len(t, evs, 1, "the event is written with the finish")
	assert.Equal(t, certs.ActionReminderSent, evs[0].Action)

	for _, owner := range []string{"bot-a", "bot-b", "bot-c"} {
		e.clock.Advance(time.Hour)
		_, ok, err = e.s.ClaimReminder(ctx, digest(key, "id-alice"), owner, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "a sent reminder is never claimed again (%s)", owner)
	}
	_, err = other.FinishReminder(ctx, key, "bot-b", certs.ReminderSent, "D1", "1.3", nil)
	requireCode(t, certs.ECONFLICT, err)

	t.Run("last sent", func(t *testing.T) {
		_, err := e.s.LastReminder(ctx, certs.ReminderDigest, "id-bob")
		requireCode(t, certs.ENOTFOUND, err)

		e.clock.Advance(24 * time.Hour)
		key2 := "digest/id-alice/2026-11-24"
		_, ok, err := e.s.ClaimReminder(ctx, digest(key2, "id-alice"), "bot-a", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		last, err := e.s.LastReminder(ctx, certs.ReminderDigest, "id-alice")
		require.NoError(t, err)
		assert.Equal(t, key, last.Key, "a claimed reminder is not yet sent")

		e.clock.Advance(time.Second)
		_, err = e.s.FinishReminder(ctx, key2, "bot-a", certs.ReminderSkipped, "", "", nil)
		require.NoError(t, err)
		last, err = e.s.LastReminder(ctx, certs.ReminderDigest, "id-alice")
		require.NoError(t, err)
		assert.Equal(t, key, last.Key, "a skipped reminder was not sent")
		_, err = e.s.LastReminder(ctx, certs.ReminderEscalation, "id-alice")
		requireCode(t, certs.ENOTFOUND, err)
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, _, err := e.s.ClaimReminder(ctx, digest("", "id-alice"), "bot-a", time.Minute)
		requireCode(t, certs.EINVALID, err)
		_, _, err = e.s.ClaimReminder(ctx, digest("k", "id-alice"), "", time.Minute)
		requireCode(t, certs.EINVALID, err)
		_, _, err = e.s.ClaimReminder(ctx, digest("k", "id-alice"), "bot-a", 0)
		requireCode(t, certs.EINVALID, err)
		_, err = e.s.FinishReminder(ctx, "unknown", "bot-a", certs.ReminderSent, "", "", nil)
		requireCode(t, certs.ENOTFOUND, err)
		_, err = e.s.FinishReminder(ctx, key, "bot-a", certs.ReminderClaimed, "", "", nil)
		requireCode(t, certs.EINVALID, err)
		_, err = e.s.GetReminder(ctx, "unknown")
		requireCode(t, certs.ENOTFOUND, err)
	})
}

// testReminderClaimRace: owners on two handles race for the same reminders;
// each is claimed by exactly one.
func testReminderClaimRace(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	stores := []certs.Store{e.s, e.another(t)}
	const reminders, owners = 20, 6
	var wins [reminders]atomic.Int32
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for w := range owners {
		wg.Go(func() {
			<-ready
			for i := range reminders {
				key := fmt.Sprintf("digest/id-%02d/2026-11-23", i)
				_, ok, err := stores[w%2].ClaimReminder(ctx, digest(key, fmt.Sprintf("id-%02d", i)), fmt.Sprintf("bot-%d", w), time.Hour)
				if assert.NoError(t, err) && ok {
					wins[i].Add(1)
				}
			}
		})
	}
	close(ready)
	wg.Wait()
	for i := range reminders {
		assert.Equal(t, int32(1), wins[i].Load(), "reminder %d", i)
	}
}

// testReminderPrefs: preferences are kept per person, replaced whole, with
// their events.
func testReminderPrefs(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	p, err := e.s.GetReminderPrefs(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderPrefs{}, p, "none set: the default")

	until := e.clock.Now().Add(24 * time.Hour)
	ev := certs.Event{Actor: alice, Action: certs.ActionReminderPrefs, Detail: "snooze"}
	require.NoError(t, e.s.PutReminderPrefs(ctx, "id-alice", certs.ReminderPrefs{Mode: certs.ReminderModeWeekly, SnoozeUntil: until}, ev))
	p, err = e.another(t).GetReminderPrefs(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderModeWeekly, p.Mode)
	assert.Equal(t, until.UTC().Truncate(time.Microsecond), p.SnoozeUntil)
	assert.Equal(t, e.clock.Now().UTC().Truncate(time.Microsecond), p.Updated)

	require.NoError(t, e.s.PutReminderPrefs(ctx, "id-alice", certs.ReminderPrefs{Mode: certs.ReminderModeOff}))
	p, err = e.s.GetReminderPrefs(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderModeOff, p.Mode)
	assert.True(t, p.SnoozeUntil.IsZero(), "replaced whole")

	other, err := e.s.GetReminderPrefs(ctx, "id-bob")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderPrefs{}, other)

	evs, err := e.s.ListEvents(ctx, certs.EventFilter{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, certs.ActionReminderPrefs, evs[0].Action)
	requireCode(t, certs.EINVALID, e.s.PutReminderPrefs(ctx, "", certs.ReminderPrefs{}))
}
