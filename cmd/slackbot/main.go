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
	"syscall"
	"time"

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
		fmt.Fprintln(os.Stderr, "slackbot:", err)
		os.Exit(1)
	}
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
// environment, which config.go reads itself (tests set it with t.Setenv);
// the bot reads no standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address for Slack's request URLs and the health probes")
	useSandbox := fs.Bool("sandbox", false, "run against an in-process emulated ISC tenant instead of SAIL_BASE_URL")
	migrateOnly := fs.Bool("migrate-only", false, "apply the database migrations (DATABASE_URL, or CERTOPS_SQLITE_PATH) and exit; needs no SailPoint or Slack settings")
	consoleMode := fs.Bool("console", false, "Slack without Slack: type /certs commands and press the bot's buttons in this terminal, against the emulated tenant (implies --sandbox; needs no Slack or SailPoint settings)")
	as := fs.String("as", "", "with --sandbox: the sandbox person you are, an email, identity id or start of a name (default: the first open certification's reviewer)")
	approver := fs.String("approver", "", "with --sandbox: the sandbox person who approves requests, as for --as (default: the sandbox's admin identity)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "certops Slack bot: the /certs slash command and approval buttons, over HTTP or Socket Mode.\n\n"+
			"Usage: slackbot [flags]\n\nSettings come from the environment (SLACK_*, SAIL_*, DATABASE_URL, CERTOPS_*); see cmd/slackbot/README.md. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // asked for, and printed
		}
		return err
	}
	// CERTOPS_LOG_LEVEL, as the MCP server reads it (checked with the other
	// settings by loadConfig).
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv)}))
	if *migrateOnly {
		if *useSandbox {
			return errors.New("--migrate-only and --sandbox: the sandbox's database is a temporary file; migrate the one you use (DATABASE_URL, CERTOPS_SQLITE_PATH)")
		}
		return app.Migrate(ctx, "", logger)
	}
	if *consoleMode {
		return consoleMain(ctx, consoleOptions{As: *as, Approver: *approver}, os.Stdin, stdout, stderr)
	}

	// Every missing or malformed setting is reported at once (config.go).
	sc, cfg, err := loadConfig(*useSandbox, logger)
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
	// The approvers must be people and a group Slack knows (approvers.go).
	if err := checkApprovers(ctx, api, sc.Approvers, sc.ApproverGroup, logger); err != nil {
		return err
	}
	// A test Slack names response_urls of its own, on any host; Slack's are
	// its own hosts, and the bot posts nowhere else.
	anyResponseURL := testSlack(sc.APIURL)
	if anyResponseURL {
		logger.Warn("SLACK_API_URL is not Slack's: the bot posts to response_urls on any host, as a test Slack names them")
	}
	var botAPI slackbot.SlackAPI = api
	if *useSandbox {
		// Nobody's email is an emulated person's: each Slack user stands
		// for one (console.go).
		if botAPI, err = sandboxUsers(ctx, a, api, *as, *approver, sc.Approvers, logger); err != nil {
			return err
		}
	}
	if len(sc.Approvers) == 0 && sc.ApproverGroup == "" && len(cfg.Approvers) == 0 {
		logger.Warn("no approvers configured (SLACK_APPROVERS, SLACK_APPROVER_GROUP, CERTOPS_APPROVERS): reassignment requests cannot be filed")
	}
	signIn, err := slackSignIn(a, cfg) // signin.go: CERTOPS_IDENTITY=oauth
	if err != nil {
		return err
	}
	bot := slackbot.New(slackbot.Config{
		SignIn:           signIn,
		Command:          sc.Command,
		ApprovalsChannel: sc.ApprovalsChannel,
		Approvers:        sc.Approvers,
		ApproverGroup:    sc.ApproverGroup,
		Admins:           sc.Admins,
		CertificationURL: sc.CertificationURL,
		ReminderHours:    sc.reminders.Schedule.Hours, // the Snooze buttons
		AnyResponseURL:   anyResponseURL,
		Logger:           logger.With("component", "slackbot"),
		Metrics:          met,
	}, a.Service, botAPI)
	bot.Start(ctx)

	// The probes and /metrics are served in both modes: in Socket Mode the
	// bot still listens on --addr for them. Every path: slackbot/routes.go.
	httpOpts := slackbot.HTTPOptions{Ready: a.Ready, Logger: logger, Metrics: met, MetricsHandler: metrics.Handler(reg)}
	mode := "socket"
	var socket slackbot.SocketState
	if sc.appToken == nil {
		mode = "http"
		httpOpts.SigningSecret = sc.signingSecret
	} else {
		// Slack's requests arrive only over the socket: not ready until
		// it is connected.
		httpOpts.Ready = func(ctx context.Context) error {
			if err := socket.Ready(ctx); err != nil {
				return err
			}
			return a.Ready(ctx)
		}
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
	g.Go(func() error { return checkBotToken(gctx, api, sc.botToken, logger) })
	g.Go(func() error {
		return bot.NewNotifier(slackbot.NotifierConfig{Lease: sc.NotifierLease}).Run(gctx)
	})
	g.Go(func() error { // reminders.go: digests and escalations
		return runReminders(gctx, a.Service, api, sc.reminders, sc.Command, sc.CertificationURL, logger)
	})
	g.Go(func() error { // tracker.go: campaign trackers (CERTOPS_TRACKER)
		return runTracker(gctx, a.Service, api, sc.tracker, logger)
	})
	if sc.appToken != nil {
		g.Go(func() error {
			return runSocketMode(gctx, bot, sc.appToken, func(appToken string) *socketmode.Client {
				return socketmode.New(slack.New(sc.botToken.Value(), append(slices.Clone(apiOpts), slack.OptionAppLevelToken(appToken))...))
			}, &socket, logger)
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
//
// A token Slack refuses for good ends the bot with an error naming the
// variable it came from; state tells /readyz whether the socket is
// connected.
func runSocketMode(ctx context.Context, bot *slackbot.Bot, appToken secret.Source, newClient func(appToken string) *socketmode.Client, state *slackbot.SocketState, logger *slog.Logger) error {
	type reloader interface{ Reload() bool }
	for {
		attempt, cancel := context.WithCancel(ctx) // ends this client's event loop
		err := bot.RunSocketMode(attempt, newClient(appToken.Value()), state)
		cancel()
		if ctx.Err() != nil || err == nil {
			return nil
		}
		if f, ok := appToken.(reloader); ok && f.Reload() {
			logger.Warn("Slack refused the Socket Mode connection; reconnecting with the rotated SLACK_APP_TOKEN_FILE", "err", err)
			continue
		}
		if code, ok := slackbot.TokenRefused(err); ok {
			return fmt.Errorf("Slack refused %s (%s): use the app-level token (xapp-…) from Basic Information → App-Level Tokens, with the connections:write scope, of an app with Socket Mode enabled", appTokenVar(appToken), code)
		}
		return fmt.Errorf("socket mode: %w", err)
	}
}

// checkBotToken asks Slack whose the bot token is (auth.test), once at
// start-up, so that a wrong token stops the bot at once with the variable
// named, not at the first command. An unreachable Slack is only logged:
// Slack may come back, and calls will be retried then.
func checkBotToken(ctx context.Context, api *slackbot.RotatingAPI, token secret.Source, logger *slog.Logger) error {
	resp, err := api.Client().AuthTestContext(ctx)
	switch {
	case ctx.Err() != nil:
		return nil
	case err != nil:
		if code, ok := slackbot.TokenRefused(err); ok {
			return fmt.Errorf("Slack refused %s (%s): use the app's Bot User OAuth Token (xoxb-…) from OAuth & Permissions, after installing the app to the workspace", botTokenVar(token), code)
		}
		logger.Warn("could not reach Slack to check "+botTokenVar(token)+"; going on", "err", err)
		return nil
	}
	logger.Info("Slack accepted "+botTokenVar(token), "team", resp.Team, "bot_user", resp.User)
	return nil
}
