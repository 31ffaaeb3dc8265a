package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/settings"
	"github.com/certops/certops/internal/slackbot"
)

// trackerConfig is the campaign tracker's settings (see README: Campaign
// tracker).
type trackerConfig struct {
	// Campaigns: "<ISC campaign id>=<channel id>;…".
	Campaigns string `envconfig:"CERTOPS_TRACKER"`
	// MinInterval: the least time between two updates of one message.
	MinInterval time.Duration `envconfig:"CERTOPS_TRACKER_MIN_INTERVAL" default:"30s"`
}

// trackerSettings are the tracker settings read.
type trackerSettings struct {
	Campaigns map[string]string // campaign id → channel id
	trackerConfig
}

// loadTracker reads the tracker settings, every problem at once.
func loadTracker() (trackerSettings, error) {
	var c trackerConfig
	var errs settings.Errors
	errs.Add(settings.Process("", &c))
	s := trackerSettings{trackerConfig: c, Campaigns: map[string]string{}}
	for part := range strings.SplitSeq(c.Campaigns, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		camp, ch, ok := strings.Cut(part, "=")
		camp, ch = strings.TrimSpace(camp), strings.TrimSpace(ch)
		switch {
		case !ok || camp == "" || ch == "":
			errs.Add(settings.Invalidf("CERTOPS_TRACKER", "%q is not <ISC campaign id>=<channel id>", part))
		case certs.ValidateID("campaign id", camp) != nil:
			errs.Add(settings.Invalidf("CERTOPS_TRACKER", "%q: %s", part, certs.ErrorMessage(certs.ValidateID("campaign id", camp))))
		case !strings.HasPrefix(ch, "C") && !strings.HasPrefix(ch, "G"):
			errs.Add(settings.Invalidf("CERTOPS_TRACKER", "%q: the channel is a channel id (C…), not %q", part, ch))
		default:
			s.Campaigns[camp] = ch
		}
	}
	if c.MinInterval <= 0 && !errs.Has("CERTOPS_TRACKER_MIN_INTERVAL") {
		errs.Add(settings.Invalidf("CERTOPS_TRACKER_MIN_INTERVAL", "must be positive, got %s", c.MinInterval))
	}
	return s, errs.Err()
}

// runTracker keeps the tracked campaigns' messages up to date until ctx
// ends; with no campaign tracked it does nothing.
func runTracker(ctx context.Context, svc slackbot.TrackerService, api slackbot.TrackerAPI, c trackerSettings, logger *slog.Logger) error {
	if len(c.Campaigns) == 0 {
		return nil
	}
	return slackbot.NewTracker(svc, api, slackbot.TrackerConfig{
		Campaigns: c.Campaigns, MinInterval: c.MinInterval, Logger: logger.With("component", "tracker"),
	}).Run(certs.Background(ctx))
}
