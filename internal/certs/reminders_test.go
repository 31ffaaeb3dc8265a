package certs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	require.NoError(t, err)
	return l
}

func openCert(id string, created, due time.Time) certs.Certification {
	return certs.Certification{ID: id, Name: id, Phase: certs.PhaseActive, Created: created, Due: &due,
		Reviewer: certs.Reviewer{ID: "id-alice"}, Campaign: certs.Campaign{ID: "camp-1", Name: "Q4 access review"},
		DecisionsTotal: 10}
}

// run walks a reviewer through time hour by hour, recording each digest as
// sent when due, and returns the local days digests went out on.
func run(t *testing.T, s certs.ReminderSchedule, loc *time.Location, from, to time.Time, open func(now time.Time) []certs.Certification, prefs func(now time.Time) certs.ReminderPrefs) []string {
	t.Helper()
	var last *certs.Reminder
	var days []string
	for now := from; now.Before(to); now = now.Add(time.Hour) {
		p := certs.ReminderPrefs{}
		if prefs != nil {
			p = prefs(now)
		}
		d, ok := s.DigestDue(now, loc, "id-alice", open(now), p, last)
		if !ok {
			continue
		}
		local := now.In(loc)
		assert.Equal(t, certs.DigestKey("id-alice", local), d.Key)
		assert.True(t, s.Hours.Working(local), "sent at %s", local)
		days = append(days, local.Format("Mon 01-02 15h"))
		last = &certs.Reminder{Key: d.Key, Finished: now}
	}
	return days
}

func TestParseLadder(t *testing.T) {
	l, err := certs.ParseLadder("7d,3d,1d,due,overdue:1d")
	require.NoError(t, err)
	assert.Equal(t, certs.DefaultLadder, l)
	assert.Equal(t, "7d,3d,1d,due,overdue:1d", l.String())
	l, err = certs.ParseLadder("off")
	require.NoError(t, err)
	assert.True(t, l.Off)
	for _, bad := range []string{"", "7x", "overdue:0d", "overdue:1d,overdue:2d", "-1d"} {
		_, err := certs.ParseLadder(bad)
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), bad)
	}
	cl, err := certs.ParseCampaignLadders("Q4 *=3d,due; camp-9=off")
	require.NoError(t, err)
	s := certs.DefaultReminderSchedule()
	s.Campaigns = cl
	assert.Equal(t, "3d,due", s.LadderFor(certs.Campaign{ID: "x", Name: "q4 SOX"}).String(), "names match case-insensitively, with wildcards")
	assert.True(t, s.LadderFor(certs.Campaign{ID: "camp-9", Name: "other"}).Off, "ids match exactly")
	assert.Equal(t, certs.DefaultLadder, s.LadderFor(certs.Campaign{ID: "y", Name: "Q3"}))
	_, err = certs.ParseCampaignLadders("nomatch")
	assert.Error(t, err)

	esc, err := certs.ParseEscalation("3d:manager+channel, -12h:channel,1d:manager")
	require.NoError(t, err)
	require.Len(t, esc, 3)
	assert.Equal(t, "-12h:channel", esc[0].String(), "sorted by offset")
	assert.Equal(t, "3d:manager+channel", esc[2].String())
	_, err = certs.ParseEscalation("1d:boss")
	assert.Error(t, err)

	wh, err := certs.ParseWorkingHours("08:30-18:00", "Sun-Thu")
	require.NoError(t, err)
	assert.True(t, wh.Working(time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC)), "Sunday 08:30")
	assert.False(t, wh.Working(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)), "Friday")
	_, err = certs.ParseWorkingHours("17:00-09:00", "")
	assert.Error(t, err)
}

// The default ladder for a certification created 3 weeks before its due
// date (Tuesday 1 Dec 2026, 17:00 UTC): 7d (Tue 24 Nov), 3d (Sat 28 Nov:
// Monday instead), 1d, due, then daily overdue on working days.
func TestLadderAcrossWeekendsAndTimeZones(t *testing.T) {
	s := certs.DefaultReminderSchedule()
	due := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	c := openCert("cert-1", due.AddDate(0, 0, -21), due)
	open := func(time.Time) []certs.Certification { return []certs.Certification{c} }
	from, to := due.AddDate(0, 0, -10), due.AddDate(0, 0, 5)

	ny := run(t, s, mustLoc(t, "America/New_York"), from, to, open, nil)
	assert.Equal(t, []string{"Tue 11-24 09h", "Mon 11-30 09h", "Tue 12-01 09h", "Wed 12-02 09h", "Thu 12-03 09h", "Fri 12-04 09h"}, ny,
		"7d; 3d fell on Saturday and 1d on Monday: one digest Monday; due; overdue daily, not on the weekend")

	// In Tokyo the due time is already Wednesday 02:00: the due day is
	// Wednesday, and every step a day later than in New York.
	tokyo := run(t, s, mustLoc(t, "Asia/Tokyo"), from, to, open, nil)
	assert.Equal(t, []string{"Wed 11-25 09h", "Mon 11-30 09h", "Tue 12-01 09h", "Wed 12-02 09h", "Thu 12-03 09h", "Fri 12-04 09h"}, tokyo)
}

func TestShortCampaignSkipsStepsBeforeItStarted(t *testing.T) {
	s := certs.DefaultReminderSchedule()
	due := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC) // Friday
	c := openCert("cert-1", due.AddDate(0, 0, -4), due)  // created Monday: a 4-day campaign
	days := run(t, s, time.UTC, c.Created, due.AddDate(0, 0, 1), func(time.Time) []certs.Certification { return []certs.Certification{c} }, nil)
	assert.Equal(t, []string{"Tue 12-01 09h", "Thu 12-03 09h", "Fri 12-04 09h"}, days, "3d, 1d, due; 7d was before the campaign")
}

func TestDueDateMoving(t *testing.T) {
	s := certs.DefaultReminderSchedule()
	s.Ladder, _ = certs.ParseLadder("3d,due")
	due := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC) // Friday
	moved := due.AddDate(0, 0, 7)
	c := openCert("cert-1", due.AddDate(0, 0, -20), due)
	open := func(now time.Time) []certs.Certification {
		cc := c
		if now.After(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)) { // extended on Wednesday noon
			cc.Due = &moved
		}
		return []certs.Certification{cc}
	}
	days := run(t, s, time.UTC, due.AddDate(0, 0, -5), moved.AddDate(0, 0, 1), open, nil)
	assert.Equal(t, []string{"Tue 12-01 09h", "Tue 12-08 09h", "Fri 12-11 09h"}, days, "the old due step is gone; the new ladder applies")
}

func TestSnoozeAndOptOut(t *testing.T) {
	s := certs.DefaultReminderSchedule()
	due := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	c := openCert("cert-1", due.AddDate(0, 0, -21), due)
	open := func(time.Time) []certs.Certification { return []certs.Certification{c} }
	from, to := due.AddDate(0, 0, -10), due.AddDate(0, 0, 10)

	off := run(t, s, time.UTC, from, to, open, func(time.Time) certs.ReminderPrefs { return certs.ReminderPrefs{Mode: certs.ReminderModeOff} })
	assert.Empty(t, off)

	weekly := run(t, s, time.UTC, from, to, open, func(time.Time) certs.ReminderPrefs { return certs.ReminderPrefs{Mode: certs.ReminderModeWeekly} })
	assert.Equal(t, []string{"Tue 11-24 09h", "Tue 12-01 09h", "Tue 12-08 09h"}, weekly)

	// Snoozed on Monday 30 Nov until next week: nothing until Monday 7 Dec.
	next := s.Hours.NextWeekStart(time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), next)
	snoozed := run(t, s, time.UTC, from, to, open, func(time.Time) certs.ReminderPrefs { return certs.ReminderPrefs{SnoozeUntil: next} })
	assert.Equal(t, []string{"Mon 12-07 09h", "Tue 12-08 09h", "Wed 12-09 09h", "Thu 12-10 09h", "Fri 12-11 09h"}, snoozed)

	tomorrow := s.Hours.NextStart(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)) // Friday
	assert.Equal(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), tomorrow, "tomorrow skips the weekend")

	none := run(t, s, time.UTC, from, to, func(time.Time) []certs.Certification { return nil }, nil)
	assert.Empty(t, none, "nothing open, nothing sent")
}

func TestEscalationOncePerStep(t *testing.T) {
	s := certs.DefaultReminderSchedule()
	s.Escalation, _ = certs.ParseEscalation("-1d:channel,1d:manager,3d:manager+channel")
	due := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	c := openCert("cert-1", due.AddDate(0, 0, -21), due)
	sent := map[string]bool{}
	var order []string
	for now := due.AddDate(0, 0, -3); now.Before(due.AddDate(0, 0, 6)); now = now.Add(time.Hour) {
		e, ok := s.EscalationDue(now, time.UTC, c)
		if ok && !sent[e.Key] {
			sent[e.Key] = true
			order = append(order, now.Format("Mon 15h")+" "+e.Step.String())
		}
	}
	// -1d is Monday 17:00, +1d Wednesday 17:00, +3d Friday 17:00: each
	// outside working hours, so sent at the next start of them.
	assert.Equal(t, []string{"Tue 09h -1d:channel", "Thu 09h 1d:manager", "Mon 09h 3d:manager+channel"}, order)

	c.Completed = true
	_, ok := s.EscalationDue(due.AddDate(0, 0, 5), time.UTC, c)
	assert.False(t, ok, "nothing for a finished certification")
}

func TestDigestChanges(t *testing.T) {
	due := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	a, b := openCert("a", due, due), openCert("b", due, due)
	prev := certs.SnapshotOf([]certs.Certification{a, b})
	a.DecisionsMade = 3
	later := due.AddDate(0, 0, 7)
	a.Due = &later
	c := openCert("c", due, due)
	changes, gone := certs.DigestChanges(prev, []certs.Certification{a, c})
	assert.Equal(t, map[string]string{"a": "3 decisions made, due date moved", "c": "new"}, changes)
	require.Len(t, gone, 1)
	assert.Equal(t, "b", gone[0].ID)
}
