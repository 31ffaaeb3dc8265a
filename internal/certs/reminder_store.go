package certs

import "time"

// What the Store keeps for reminders (reminders.go, service_reminders.go):
// one row per message certops means to send — a reviewer's digest of a day,
// one escalation step of one certification — claimed before it is sent and
// finished after, so that of any number of replicas and restarts exactly one
// sends it; and each person's reminder preferences.

// ReminderKind says what a reminder is.
type ReminderKind string

const (
	// ReminderDigest is a reviewer's daily digest of their open
	// certifications (at most one per reviewer and local day).
	ReminderDigest ReminderKind = "digest"
	// ReminderEscalation tells a reviewer's manager and/or the admins'
	// channel that a certification is late (one per certification, due
	// date and escalation step).
	ReminderEscalation ReminderKind = "escalation"
)

// ReminderState is where a reminder is in its life.
type ReminderState string

const (
	// ReminderClaimed: an owner holds it and may be sending it. After its
	// lease another owner may claim it again (Attempt grows): that owner
	// must first find out whether the message was sent (the Slack bot
	// reads the conversation for the message's metadata).
	ReminderClaimed ReminderState = "claimed"
	// ReminderSent: the message was sent (Channel and TS say where).
	ReminderSent ReminderState = "sent"
	// ReminderSkipped: nothing was sent and nothing will be (nobody to
	// send to, nothing open any more).
	ReminderSkipped ReminderState = "skipped"
)

// Reminder is one message certops sends at most once, by its Key.
type Reminder struct {
	// Key names the message: "digest/<identity>/<YYYY-MM-DD>" or
	// "escalation/<certification>/<due date>/<step>" (ReminderKey). It is
	// also what the Slack message carries in its metadata.
	Key  string       `json:"key"`
	Kind ReminderKind `json:"kind"`
	// Subject is the ISC identity id the reminder is about (the reviewer).
	Subject string        `json:"subject"`
	State   ReminderState `json:"state"`
	// Attempt counts claims: more than 1 means an earlier owner claimed it
	// and may have sent it before dying.
	Attempt    int       `json:"attempt"`
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
	// Channel and TS say where the message went (once sent).
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	// Snapshot is what the message showed (a digest's certifications), so
	// that the next digest can say what changed since.
	Snapshot []ReminderCert `json:"snapshot,omitempty"`
	Created  time.Time      `json:"created"`
	Finished time.Time      `json:"finished,omitzero"`
}

// ReminderCert is one certification as a digest showed it.
type ReminderCert struct {
	ID             string     `json:"id"`
	Name           string     `json:"name,omitempty"`
	Due            *time.Time `json:"due,omitempty"`
	DecisionsMade  int        `json:"decisionsMade"`
	DecisionsTotal int        `json:"decisionsTotal"`
}

// ReminderMode is how much a person wants to be reminded.
type ReminderMode string

const (
	// ReminderModeDefault follows the configured ladder.
	ReminderModeDefault ReminderMode = "default"
	// ReminderModeWeekly sends at most one digest in any 7 days (the
	// ladder still decides when one is due).
	ReminderModeWeekly ReminderMode = "weekly"
	// ReminderModeOff sends none (escalations to managers still happen).
	ReminderModeOff ReminderMode = "off"
)

// ReminderPrefs are one person's reminder settings. The zero value is the
// default: the ladder, no snooze.
type ReminderPrefs struct {
	Mode ReminderMode `json:"mode,omitempty"`
	// SnoozeUntil holds digests back until then (zero: not snoozed).
	SnoozeUntil time.Time `json:"snoozeUntil,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// Reminder audit actions (Event.Detail says the key and to whom).
const (
	ActionReminderSent      Action = "reminder.sent"
	ActionReminderSkipped   Action = "reminder.skipped"
	ActionEscalated         Action = "reminder.escalated"
	ActionReminderPrefs     Action = "reminder.prefs"
	ActionReminderRecovered Action = "reminder.recovered" // found sent after a crash, not sent again
)
