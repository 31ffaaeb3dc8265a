package main

import (
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/settings"
)

// slackConfig is the bot's environment; SailPoint and database settings are
// app.Config's. Each secret comes from its variable or, re-read when the
// file changes, from the file its _FILE variable names (internal/secret:
// setting both is an error).
type slackConfig struct {
	BotToken          string   `envconfig:"SLACK_BOT_TOKEN"`
	BotTokenFile      string   `envconfig:"SLACK_BOT_TOKEN_FILE"`
	SigningSecret     string   `envconfig:"SLACK_SIGNING_SECRET"`
	SigningSecretFile string   `envconfig:"SLACK_SIGNING_SECRET_FILE"`
	AppToken          string   `envconfig:"SLACK_APP_TOKEN"`
	AppTokenFile      string   `envconfig:"SLACK_APP_TOKEN_FILE"`
	ApprovalsChannel  string   `envconfig:"SLACK_APPROVALS_CHANNEL"`
	Approvers         []string `envconfig:"SLACK_APPROVERS"`
	ApproverGroup     string   `envconfig:"SLACK_APPROVER_GROUP"`
	Admins            []string `envconfig:"SLACK_ADMINS"`
	Command           string   `envconfig:"SLACK_COMMAND" default:"/certs"`
	APIURL            string   `envconfig:"SLACK_API_URL"`
	CertificationURL  string   `envconfig:"SLACK_CERTIFICATION_URL"`
	// NotifierLease bounds how long Slack updates pause when a replica dies
	// in the middle of telling Slack about events; another replica then
	// takes over its claim.
	NotifierLease time.Duration `envconfig:"SLACK_NOTIFIER_LEASE" default:"30s"`
	// LogLevel is the least level logged, as for the MCP server.
	LogLevel string `envconfig:"CERTOPS_LOG_LEVEL" default:"info"`

	// The reminder sweep's settings (reminders.go), read and checked with
	// the others.
	reminders reminderSettings
	// The campaign tracker's (tracker.go).
	tracker trackerSettings

	// The secrets, from the variables above.
	botToken, signingSecret, appToken secret.Source
	// level is LogLevel's.
	level slog.Level
}

// loadConfig reads the bot's settings and app.Config's, and reports every
// missing or malformed one of both at once (settings.Error), each naming
// its variable.
func loadConfig(sandbox bool, logger *slog.Logger) (slackConfig, app.Config, error) {
	var c slackConfig
	var errs settings.Errors
	errs.Add(settings.Process("", &c))
	opts := secret.Options{Logger: logger}
	for _, s := range []struct {
		name string
		dst  *secret.Source
	}{{"SLACK_BOT_TOKEN", &c.botToken}, {"SLACK_SIGNING_SECRET", &c.signingSecret}, {"SLACK_APP_TOKEN", &c.appToken}} {
		src, err := secret.FromEnv(s.name, os.Getenv, opts)
		errs.Add(settings.Named(err))
		*s.dst = src
	}
	if c.botToken == nil && !errs.Has("SLACK_BOT_TOKEN") && !errs.Has("SLACK_BOT_TOKEN_FILE") {
		errs.Add(settings.Missingf("SLACK_BOT_TOKEN", "(or SLACK_BOT_TOKEN_FILE): the Bot User OAuth Token, xoxb-…, from the app's OAuth & Permissions page"))
	}
	if strings.TrimSpace(c.ApprovalsChannel) == "" {
		errs.Add(settings.Missingf("SLACK_APPROVALS_CHANNEL", "(the id of the channel where requests are posted for approval, e.g. C0123APPROV: channel details → bottom)"))
	}
	if c.appToken == nil && c.signingSecret == nil && !errs.Has("SLACK_APP_TOKEN") && !errs.Has("SLACK_APP_TOKEN_FILE") && !errs.Has("SLACK_SIGNING_SECRET") && !errs.Has("SLACK_SIGNING_SECRET_FILE") {
		errs.Add(settings.Missingf("SLACK_SIGNING_SECRET", "(or SLACK_SIGNING_SECRET_FILE) in HTTP mode; or set SLACK_APP_TOKEN (xapp-…) for Socket Mode"))
	}
	if c.appToken != nil && !strings.HasPrefix(c.appToken.Value(), "xapp-") {
		errs.Add(settings.Invalidf(appTokenVar(c.appToken), "must hold an app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write)"))
	}
	if c.CertificationURL != "" && (!strings.Contains(c.CertificationURL, "{id}") || !strings.HasPrefix(c.CertificationURL, "https://")) {
		errs.Add(settings.Invalidf("SLACK_CERTIFICATION_URL", "must be an https URL with {id} where the certification id goes"))
	}
	if err := c.level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.NotifierLease <= 0 && !errs.Has("SLACK_NOTIFIER_LEASE") {
		errs.Add(settings.Invalidf("SLACK_NOTIFIER_LEASE", "must be positive, got %s", c.NotifierLease))
	}
	var err error
	c.reminders, err = loadReminders()
	errs.Add(err) // CERTOPS_REMINDERS*, CERTOPS_ESCALATION*: at start-up, not when the sweep starts
	c.tracker, err = loadTracker()
	errs.Add(err) // CERTOPS_TRACKER*
	if c.APIURL != "" && !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/" // slack-go joins method names onto it
	}
	if errs.Missing("SLACK_") {
		errs.Hint(consoleHint)
	}
	cfg, err := app.LoadConfig(sandbox)
	errs.Add(err)
	return c, cfg, errs.Err()
}

// consoleHint is said after missing Slack settings: how to try the bot
// without a workspace.
const consoleHint = "No Slack workspace at hand? Run with --sandbox --console: Slack in this terminal, against the emulated tenant, no SLACK_* setting needed."

// logLevel is CERTOPS_LOG_LEVEL's level for the logger made before the
// settings are read; info when it is unset or wrong (loadConfig reports a
// wrong one).
func logLevel(getenv func(string) string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(getenv("CERTOPS_LOG_LEVEL")))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// appTokenVar is the variable the app-level token came from.
func appTokenVar(src secret.Source) string {
	if f, ok := src.(*secret.File); ok {
		return f.Name()
	}
	return "SLACK_APP_TOKEN"
}

// botTokenVar is the variable the bot token came from.
func botTokenVar(src secret.Source) string {
	if f, ok := src.(*secret.File); ok {
		return f.Name()
	}
	return "SLACK_BOT_TOKEN"
}
