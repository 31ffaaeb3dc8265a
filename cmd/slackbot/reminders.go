package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/settings"
	"github.com/certops/certops/internal/slackbot"
)

// reminderConfig is the reminder sweep's settings (see README: Reminders).
type reminderConfig struct {
	// Ladder: "7d,3d,1d,due,overdue:1d", or off.
	Ladder string `envconfig:"CERTOPS_REMINDERS" default:"7d,3d,1d,due,overdue:1d"`
	// Campaigns: "<campaign id or name>=<ladder>;…" (names: * and ? match).
	Campaigns string `envconfig:"CERTOPS_REMINDERS_CAMPAIGNS"`
	// Hours and Days: when digests go out, in each reviewer's time zone.
	Hours string `envconfig:"CERTOPS_REMINDERS_HOURS" default:"09:00-17:00"`
	Days  string `envconfig:"CERTOPS_REMINDERS_DAYS" default:"Mon-Fri"`
	// Escalation: "1d:manager,3d:manager+channel" (offsets from the due
	// date; negative before it); Channel: the admins' channel id.
	Escalation string `envconfig:"CERTOPS_ESCALATION"`
	Channel    string `envconfig:"CERTOPS_ESCALATION_CHANNEL"`
	// Interval between sweeps; PostEvery paces chat.postMessage.
	Interval  time.Duration `envconfig:"CERTOPS_REMINDERS_INTERVAL" default:"5m"`
	PostEvery time.Duration `envconfig:"CERTOPS_REMINDERS_POST_EVERY" default:"250ms"`
}

// reminderSettings are the reminder settings read: the schedule, and the
// variables as set.
type reminderSettings struct {
	Schedule certs.ReminderSchedule
	reminderConfig
}

// loadReminders reads the reminder settings, every problem at once
// (loadConfig reports them with the bot's others, at start-up).
func loadReminders() (reminderSettings, error) {
	var c reminderConfig
	var errs settings.Errors
	errs.Add(settings.Process("", &c))
	s := certs.DefaultReminderSchedule()
	var err error
	if s.Ladder, err = certs.ParseLadder(c.Ladder); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_REMINDERS", "%s", certs.ErrorMessage(err)))
	}
	if s.Campaigns, err = certs.ParseCampaignLadders(c.Campaigns); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_REMINDERS_CAMPAIGNS", "%s", certs.ErrorMessage(err)))
	}
	if s.Hours, err = certs.ParseWorkingHours(c.Hours, c.Days); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_REMINDERS_HOURS", "%s", certs.ErrorMessage(err)))
	}
	if s.Escalation, err = certs.ParseEscalation(c.Escalation); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_ESCALATION", "%s", certs.ErrorMessage(err)))
	}
	for _, st := range s.Escalation {
		if st.Channel && c.Channel == "" {
			errs.Add(settings.Missingf("CERTOPS_ESCALATION_CHANNEL", "(CERTOPS_ESCALATION tells a channel): the admins' channel id, C…"))
			break
		}
	}
	return reminderSettings{Schedule: s, reminderConfig: c}, errs.Err()
}

// runReminders sweeps until ctx ends (the worker's and notifier's sibling).
// The settings were checked at start-up (loadConfig).
func runReminders(ctx context.Context, svc slackbot.ReminderService, api slackbot.ReminderAPI, c reminderSettings, command, certURL string, logger *slog.Logger) error {
	return slackbot.NewReminders(svc, api, slackbot.RemindersConfig{
		Schedule: c.Schedule, AdminsChannel: c.Channel, Command: command, CertificationURL: certURL,
		Interval: c.Interval, PostEvery: c.PostEvery, Logger: logger.With("component", "reminders"),
	}).Run(certs.Background(ctx))
}
