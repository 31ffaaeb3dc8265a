// Command slackbot serves certops in Slack: the /certs slash command and
// the approval buttons, over HTTP (Slack's request URLs) or Socket Mode
// (when SLACK_APP_TOKEN is set). See README.md beside this file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/slackbot"
)

func main() {
	if err := run(context.Background(), os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2) // usage already printed
		}
		fmt.Fprintln(os.Stderr, "slackbot:", err)
		os.Exit(1)
	}
}

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
	ApprovalsChannel  string   `envconfig:"SLACK_APPROVALS_CHANNEL" required:"true"`
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

	// The secrets, from the variables above.
	botToken, signingSecret, appToken secret.Source
}

func loadSlackConfig(logger *slog.Logger) (slackConfig, error) {
	var c slackConfig
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	opts := secret.Options{Logger: logger}
	var err error
	for _, s := range []struct {
		name string
		dst  *secret.Source
	}{{"SLACK_BOT_TOKEN", &c.botToken}, {"SLACK_SIGNING_SECRET", &c.signingSecret}, {"SLACK_APP_TOKEN", &c.appToken}} {
		if *s.dst, err = secret.FromEnv(s.name, os.Getenv, opts); err != nil {
			return c, fmt.Errorf("configuration: %w", err)
		}
	}
	// envconfig's required accepts a variable set to "", which is as good as
	// missing here.
	if c.botToken == nil {
		return c, errors.New("configuration: SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) is required")
	}
	if strings.TrimSpace(c.ApprovalsChannel) == "" {
		return c, errors.New("configuration: SLACK_APPROVALS_CHANNEL is required")
	}
	if c.appToken == nil && c.signingSecret == nil {
		return c, errors.New("configuration: SLACK_SIGNING_SECRET (or SLACK_SIGNING_SECRET_FILE) is required in HTTP mode (set SLACK_APP_TOKEN for Socket Mode)")
	}
	if c.appToken != nil && !strings.HasPrefix(c.appToken.Value(), "xapp-") {
		return c, errors.New("configuration: SLACK_APP_TOKEN must be an app-level token (xapp-…)")
	}
	if c.CertificationURL != "" && (!strings.Contains(c.CertificationURL, "{id}") || !strings.HasPrefix(c.CertificationURL, "https://")) {
		return c, errors.New("configuration: SLACK_CERTIFICATION_URL must be an https URL with {id} where the certification id goes")
	}
	if c.APIURL != "" && !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/" // slack-go joins method names onto it
	}
	return c, nil
}

// slackCallTimeout bounds each Slack Web API call. slack-go's default
// http.Client has no timeout, and a call hung on a dead connection would
// hold the notifier's batch, and the lease on its events, for ever. Slack
// answers within a few seconds or not at all.
const slackCallTimeout = 10 * time.Second

// slackAPIOptions are the options every Slack Web API client is built with:
// the bot token's (rebuilt when it rotates) and Socket Mode's. Socket Mode's
// websocket has its own dialer; timeout applies to the Web API calls only.
func slackAPIOptions(apiURL string, timeout time.Duration) []slack.Option {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: timeout})}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return opts
}

// run is the whole program. Configuration comes from args and the process
// environment, which envconfig reads itself (tests set it with t.Setenv);
// the bot reads no standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address for Slack's request URLs and the health probes")
	useSandbox := fs.Bool("sandbox", false, "run against an in-process emulated ISC tenant instead of SAIL_BASE_URL")
	migrateOnly := fs.Bool("migrate-only", false, "apply the database migrations (DATABASE_URL, or CERTOPS_SQLITE_PATH) and exit; needs no SailPoint or Slack settings")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *migrateOnly {
		if *useSandbox {
			return errors.New("--migrate-only and --sandbox: the sandbox's database is a temporary file; migrate the one you use (DATABASE_URL, CERTOPS_SQLITE_PATH)")
		}
		return app.Migrate(ctx, "", logger)
	}

	sc, err := loadSlackConfig(logger)
	if err != nil {
		return err
	}
	cfg, err := app.LoadConfig(*useSandbox)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	met := metrics.New(reg)
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: *useSandbox, Logger: logger, Metrics: met})
	if err != nil {
		return err
	}
	defer a.Close()

	apiOpts := slackAPIOptions(sc.APIURL, slackCallTimeout)
	// The bot token is read at each call, so a rotated SLACK_BOT_TOKEN_FILE
	// is used without a restart; every client rebuilt for a new token gets
	// apiOpts, the timeout included.
	api := slackbot.NewRotatingAPI(sc.botToken, func(token string) *slack.Client { return slack.New(token, apiOpts...) })
	if len(sc.Approvers) == 0 && sc.ApproverGroup == "" && len(cfg.Approvers) == 0 {
		logger.Warn("no approvers configured (SLACK_APPROVERS, SLACK_APPROVER_GROUP, CERTOPS_APPROVERS): reassignment requests cannot be filed")
	}
	bot := slackbot.New(slackbot.Config{
		Command:          sc.Command,
		ApprovalsChannel: sc.ApprovalsChannel,
		Approvers:        sc.Approvers,
		ApproverGroup:    sc.ApproverGroup,
		Admins:           sc.Admins,
		CertificationURL: sc.CertificationURL,
		Logger:           logger.With("component", "slackbot"),
		Metrics:          met,
	}, a.Service, api)
	bot.Start(ctx)

	// The probes and /metrics are served in both modes: in Socket Mode the
	// bot still listens on --addr for them. Every path: slackbot/routes.go.
	httpOpts := slackbot.HTTPOptions{Ready: a.Ready, Logger: logger, Metrics: met, MetricsHandler: metrics.Handler(reg)}
	mode := "socket"
	if sc.appToken == nil {
		mode = "http"
		httpOpts.SigningSecret = sc.signingSecret
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: bot.HTTPHandler(httpOpts), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "slackbot listening on http://%s (%s mode)\n", ln.Addr(), mode)
	logger.Info("slackbot started", "addr", ln.Addr().String(), "mode", mode, "command", sc.Command, "sandbox", *useSandbox)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error { return a.RunWorker(gctx) })
	g.Go(func() error {
		return bot.NewNotifier(slackbot.NotifierConfig{Lease: sc.NotifierLease}).Run(gctx)
	})
	if sc.appToken != nil {
		g.Go(func() error {
			return runSocketMode(gctx, bot, sc.appToken, func(appToken string) *socketmode.Client {
				return socketmode.New(slack.New(sc.botToken.Value(), append(slices.Clone(apiOpts), slack.OptionAppLevelToken(appToken))...))
			}, logger)
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		// SIGTERM (or a part failed): the worker and the notifier are
		// stopping, releasing their claims and event leases. Stop accepting,
		// let in-flight acks finish, then the queued and running work, all
		// within the grace period; the store closes after (deferred above).
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		err = errors.Join(err, bot.Shutdown(sctx))
		if err != nil {
			logger.Error("work still running at the end of the grace period", "grace", cfg.ShutdownGrace, "err", err)
		}
		return err
	})
	err = app.AwaitShutdown(ctx, g.Wait, cfg.ShutdownGrace, logger)
	logger.Info("slackbot stopped")
	return err
}

// runSocketMode serves Socket Mode until ctx ends. The app-level token only
// opens connections, and slack-go reconnects with the token it was built
// with; when Slack refuses it (revoked after a rotation: slack-go then
// gives up), the token's file is read again and, if it changed, the bot
// connects anew with the rotated token.
func runSocketMode(ctx context.Context, bot *slackbot.Bot, appToken secret.Source, newClient func(appToken string) *socketmode.Client, logger *slog.Logger) error {
	type reloader interface{ Reload() bool }
	for {
		attempt, cancel := context.WithCancel(ctx) // ends this client's event loop
		err := bot.RunSocketMode(attempt, newClient(appToken.Value()))
		cancel()
		if ctx.Err() != nil || err == nil {
			return nil
		}
		if f, ok := appToken.(reloader); ok && f.Reload() {
			logger.Warn("Slack refused the Socket Mode connection; reconnecting with the rotated SLACK_APP_TOKEN_FILE", "err", err)
			continue
		}
		return fmt.Errorf("socket mode: %w", err)
	}
}
