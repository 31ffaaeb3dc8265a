package slackbot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// `/certs remind off|weekly|default`: a person turns their own reminders
// down, off or back on (certs.Service.SetMyReminderPrefs, audited as
// reminder.prefs). The digest's snooze buttons (reminder_actions.go) set
// the same preferences.

// ReminderPrefsService is what `/certs remind` and the snooze buttons need
// of certs.Service, which satisfies it. A Service given to New that lacks
// it answers that reminders are not available.
type ReminderPrefsService interface {
	MyReminderPrefs(ctx context.Context, a certs.Actor) (certs.ReminderPrefs, error)
	SetMyReminderPrefs(ctx context.Context, a certs.Actor, mode certs.ReminderMode, snoozeUntil *time.Time) (certs.ReminderPrefs, error)
}

var _ ReminderPrefsService = (*certs.Service)(nil)

// remindCommand is the command table's entry for `remind`.
func (b *Bot) remindCommand() *command {
	return &command{
		Name: "remind", Usage: "[off|weekly|default]",
		Summary:  "Change how often certops reminds you of your open certifications: off, at most weekly, or the default schedule (which also ends a snooze). Without a word, shows your setting.",
		Examples: []string{"remind weekly", "remind off", "remind default"},
		Parse:    b.parseRemind,
	}
}

func (b *Bot) parseRemind(c *command, args string) (work, error) {
	f := strings.Fields(args)
	if len(f) > 1 {
		return nil, c.usage("give one of off, weekly or default")
	}
	var mode certs.ReminderMode
	if len(f) == 1 {
		switch m := certs.ReminderMode(strings.ToLower(f[0])); m {
		case certs.ReminderModeOff, certs.ReminderModeWeekly, certs.ReminderModeDefault:
			mode = m
		default:
			return nil, c.usage(fmt.Sprintf("reminders can be off, weekly or default, not %q", f[0]))
		}
	}
	return func(ctx context.Context, in *invocation) (message, error) {
		svc, err := in.bot.reminderPrefs()
		if err != nil {
			return message{}, err
		}
		if mode == "" {
			p, err := svc.MyReminderPrefs(ctx, in.actor)
			if err != nil {
				return message{}, err
			}
			return in.bot.render.reminderPrefs(p, false), nil
		}
		var snooze *time.Time
		if mode == certs.ReminderModeDefault {
			snooze = &time.Time{} // back to the schedule: a snooze ends too
		}
		p, err := svc.SetMyReminderPrefs(ctx, in.actor, mode, snooze)
		if err != nil {
			return message{}, err
		}
		in.bot.log.Info("slackbot: reminder preferences changed", "slack_user", in.user, "identity", in.actor.IdentityID, "mode", mode)
		return in.bot.render.reminderPrefs(p, true), nil
	}, nil
}

// reminderPrefs is the Service as a ReminderPrefsService.
func (b *Bot) reminderPrefs() (ReminderPrefsService, error) {
	svc, ok := b.svc.(ReminderPrefsService)
	if !ok {
		return nil, certs.Errorf(certs.EUNAVAILABLE, "reminders are not available in this certops")
	}
	return svc, nil
}

// reminderPrefs says what a person's reminder setting is now (changed:
// they just set it).
func (r *renderer) reminderPrefs(p certs.ReminderPrefs, changed bool) message {
	var text string
	switch p.Mode {
	case certs.ReminderModeOff:
		text = ":no_bell: Reminders are off: certops will not send you reminders of your open certifications."
	case certs.ReminderModeWeekly:
		text = ":bell: Reminders are weekly: at most one reminder of your open certifications in any 7 days."
	default:
		text = ":bell: Reminders follow the default schedule: a reminder of your open certifications on working days as due dates come near, and while they are overdue."
	}
	if !changed {
		text = strings.Replace(text, "Reminders are", "Your reminders are", 1)
		text = strings.Replace(text, "Reminders follow", "Your reminders follow", 1)
	}
	if !p.SnoozeUntil.IsZero() && p.SnoozeUntil.After(r.now()) && p.Mode != certs.ReminderModeOff {
		text += " Snoozed until " + slackDate(p.SnoozeUntil) + "."
	}
	ctx := fmt.Sprintf("`%s remind off`, `%s remind weekly` or `%s remind default` changes it. Escalations to managers do not depend on it.", r.command, r.command, r.command)
	return message{Text: text, Blocks: []slack.Block{section(text), contextLine(ctx)}}
}
