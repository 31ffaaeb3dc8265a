package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad reminder settings stop the bot at start-up, reported with every
// other problem, not minutes later when the sweep starts.
func TestStartUpReportsBadReminderSettingsWithTheOthers(t *testing.T) {
	for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("SLACK_APPROVALS_CHANNEL", "CAPPROVALS")
	t.Setenv("CERTOPS_REMINDERS", "7d,soon")
	t.Setenv("CERTOPS_REMINDERS_CAMPAIGNS", "Q4 SOX*")
	t.Setenv("CERTOPS_REMINDERS_HOURS", "17:00-09:00")
	t.Setenv("CERTOPS_ESCALATION", "1d:channel")
	t.Setenv("CERTOPS_ESCALATION_CHANNEL", "")
	t.Setenv("CERTOPS_REMINDERS_INTERVAL", "often")
	err := run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "configuration: 7 settings to fix:\n"), msg)
	for _, line := range []string{
		"\n  - SLACK_BOT_TOKEN ",
		"\n  - SLACK_SIGNING_SECRET ",
		"\n  - CERTOPS_REMINDERS_INTERVAL must be a duration",
		"\n  - CERTOPS_REMINDERS reminder step \"soon\" is not a number of days before the due date (7d), due or overdue:<days>",
		"\n  - CERTOPS_REMINDERS_CAMPAIGNS ",
		"\n  - CERTOPS_REMINDERS_HOURS working hours \"17:00-09:00\": write HH:MM-HH:MM, e.g. 09:00-17:00",
		"\n  - CERTOPS_ESCALATION_CHANNEL ",
	} {
		assert.Contains(t, msg, line)
	}
}

func TestReminderSettingsDefaults(t *testing.T) {
	for _, k := range []string{"CERTOPS_REMINDERS", "CERTOPS_REMINDERS_CAMPAIGNS", "CERTOPS_REMINDERS_HOURS", "CERTOPS_REMINDERS_DAYS", "CERTOPS_ESCALATION", "CERTOPS_ESCALATION_CHANNEL", "CERTOPS_REMINDERS_INTERVAL", "CERTOPS_REMINDERS_POST_EVERY"} {
		t.Setenv(k, "")
	}
	s, err := loadReminders()
	require.NoError(t, err)
	assert.Equal(t, "7d,3d,1d,due,overdue:1d", s.Schedule.Ladder.String())
	assert.Equal(t, 9*60, s.Schedule.Hours.Start)
	assert.Empty(t, s.Schedule.Escalation)
}
