package slackbot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// Block Kit of reminders: a reviewer's digest and an escalation. Dates use
// slackDate (render.go) so each reader sees their own time zone and a
// live relative date.

// Action ids of the reminders' buttons (reminder_actions.go).
const (
	actionReminderReview   = "certops.reminder.review"
	actionReminderReassign = "certops.reminder.reassign"
	actionReminderSnooze   = "certops.reminder.snooze"
)

func certLine(cfg RemindersConfig, c certs.Certification, now time.Time, note string) string {
	name := (&renderer{certURL: cfg.CertificationURL}).certName(c.ID, c.Name)
	var due string
	switch {
	case c.Due == nil:
		due = "no due date"
	case now.After(*c.Due):
		due = ":red_circle: *overdue* since " + slackDate(*c.Due)
	default:
		due = "due " + slackDate(*c.Due)
	}
	line := fmt.Sprintf("*%s* — %s — %d of %d decisions made", name, due, c.DecisionsMade, c.DecisionsTotal)
	if note != "" {
		line += " _(" + esc(note) + ")_"
	}
	return line
}

func reviewButtons(cfg RemindersConfig, certID string) slack.Block {
	return slack.NewActionBlock("certops.reminder."+certID,
		slack.NewButtonBlockElement(actionReminderReview, certID, plain("Review")).WithStyle(slack.StylePrimary),
		slack.NewButtonBlockElement(actionReminderReassign, certID, plain("Reassign…")),
	)
}

// renderDigest is a reviewer's digest: every open certification, due
// soonest first, what changed since the last digest, and buttons.
func renderDigest(cfg RemindersConfig, rc certs.ReviewerCerts, due certs.DigestDue, prev []certs.ReminderCert, now time.Time, loc *time.Location) message {
	changes, gone := certs.DigestChanges(prev, rc.Certifications)
	n := len(rc.Certifications)
	overdue := 0
	for _, c := range rc.Certifications {
		if c.Due != nil && now.After(*c.Due) {
			overdue++
		}
	}
	head := fmt.Sprintf(":alarm_clock: You have %s to review", pluralize(n, "open certification", "open certifications"))
	if overdue > 0 {
		head += fmt.Sprintf(", %d overdue", overdue)
	}
	m := message{Text: head + "."}
	m.Blocks = append(m.Blocks, section(head+"."))
	const maxCerts = 15 // 50 blocks a message: 2 per certification, and room around them
	for i, c := range rc.Certifications {
		if i == maxCerts {
			m.Blocks = append(m.Blocks, section(fmt.Sprintf("…and %d more: `%s list`", n-maxCerts, cfg.Command)))
			break
		}
		m.Blocks = append(m.Blocks, section(certLine(cfg, c, now, changes[c.ID])), reviewButtons(cfg, c.ID))
	}
	if len(gone) > 0 {
		var names []string
		for _, g := range gone {
			names = append(names, esc(g.Name))
		}
		m.Blocks = append(m.Blocks, section(":white_check_mark: Since the last reminder, done or no longer yours: "+strings.Join(names, ", ")))
	}
	m.Blocks = append(m.Blocks,
		slack.NewActionBlock("certops.reminder.snooze",
			slack.NewButtonBlockElement(actionReminderSnooze, "tomorrow", plain("Snooze until tomorrow")),
			slack.NewButtonBlockElement(actionReminderSnooze, "week", plain("Snooze until next week")),
		),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Reminders on working days; `%s remind off|weekly|default` changes how often.", cfg.Command))),
	)
	return m
}

// renderEscalation tells a manager or the admins' channel that a
// certification is late.
func renderEscalation(cfg RemindersConfig, rev certs.Reviewer, slackID string, c certs.Certification, e certs.EscalationDue, now time.Time) message {
	who := esc(rev.Name)
	if slackID != "" {
		who = "<@" + slackID + ">"
	}
	late := "is due soon"
	if c.Due != nil && now.After(*c.Due) {
		late = "is overdue"
	}
	head := fmt.Sprintf(":rotating_light: %s's certification %s %s.", who, esc(c.Name), late)
	m := message{Text: head}
	m.Blocks = []slack.Block{
		section(head),
		section(certLine(cfg, c, now, "")),
		slack.NewActionBlock("certops.reminder.escalation."+c.ID,
			slack.NewButtonBlockElement(actionReminderReassign, c.ID, plain("Reassign…")),
		),
		slack.NewContextBlock("", mrkdwn("Escalation step "+e.Step.String()+" of certops' reminders.")),
	}
	return m
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
