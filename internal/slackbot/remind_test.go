package slackbot

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestRemindSetsAndShowsMyReminders(t *testing.T) {
	b := setup(t)
	ctx := context.Background()

	code, ack := b.command(t, alice, "remind weekly")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, ack.Text, "Working on `/certs remind`")
	got := b.reply(t, 1).Body
	assert.Equal(t, ":bell: Reminders are weekly: at most one reminder of your open certifications in any 7 days.", got.Text)
	p, err := b.svc.ReminderPrefsOf(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderModeWeekly, p.Mode)

	// A snooze (the digest's button) ends with `remind default`.
	snooze := t0.Add(24 * time.Hour)
	_, err = b.svc.SetMyReminderPrefs(ctx, b.actor(alice), "", &snooze)
	require.NoError(t, err)
	b.command(t, alice, "remind")
	got = b.reply(t, 2).Body
	assert.Contains(t, got.Text, "Your reminders are weekly")
	assert.Contains(t, got.Text, "Snoozed until <!date^")

	b.command(t, alice, "remind default")
	got = b.reply(t, 3).Body
	assert.Contains(t, got.Text, "Reminders follow the default schedule")
	assert.NotContains(t, got.Text, "Snoozed")
	p, err = b.svc.ReminderPrefsOf(ctx, "id-alice")
	require.NoError(t, err)
	assert.Equal(t, certs.ReminderModeDefault, p.Mode)
	assert.True(t, p.SnoozeUntil.IsZero())

	b.command(t, alice, "remind OFF")
	assert.Contains(t, b.reply(t, 4).Body.Text, "Reminders are off")

	var prefs []string
	for _, e := range b.store.Events() {
		if e.Action == certs.ActionReminderPrefs {
			assert.Equal(t, "id-alice", e.Actor.IdentityID)
			prefs = append(prefs, e.Detail)
		}
	}
	assert.Equal(t, []string{"mode weekly", "mode weekly, snoozed until 2026-11-24T14:00:00Z", "mode default", "mode off"}, prefs)
}

func TestRemindRefusesAWordItDoesNotKnow(t *testing.T) {
	b := setup(t)
	code, ack := b.command(t, alice, "remind hourly")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, ack.Text, `Reminders can be off, weekly or default, not "hourly"`)
	assert.Contains(t, ack.Text, "Usage: `/certs remind [off|weekly|default]`")
	b.assertUntouched(t)
}
