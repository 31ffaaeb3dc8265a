package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/slackbot"
	"github.com/certops/certops/internal/slackbot/console"
)

// consoleOptions are the console's flags: whom it plays first (--as) and
// who approves (--approver), each an email, an identity id or the start of
// a name; empty for the defaults (the first open certification's reviewer,
// and the sandbox's admin identity).
type consoleOptions struct {
	As, Approver string
	Command      string
}

// consoleActor is whom the console asks the Service about people as.
var consoleActor = certs.Actor{ID: "console", Name: "certops console", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin}

// runConsole runs the bot, unchanged, with the console as its Slack: the
// bot serves its request URLs on a loopback port with a signing secret made
// for this run, calls the console's fake Web API, and the console sends it
// what a person types and clicks (internal/slackbot/console). a is the app
// over the emulated tenant; the console reads stdin until its end or quit.
func runConsole(ctx context.Context, a *app.App, o consoleOptions, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir := directory{svc: a.Service}
	you, approver, err := sandboxCast(ctx, a, o.As, o.Approver)
	if err != nil {
		return err
	}

	con, err := console.New(console.Config{Command: o.Command, People: dir, You: you, Approver: approver, Echo: !isTerminal(stdin)})
	if err != nil {
		return err
	}
	defer con.Close()
	bot := slackbot.New(slackbot.Config{
		Command:          o.Command,
		ApprovalsChannel: console.ApprovalsChannel,
		Approvers:        []string{approver.SlackID},
		// The response_urls are the console's, on loopback.
		AnyResponseURL: true,
		Logger:         logger.With("component", "slackbot"),
	}, a.Service, con.API())
	bot.Start(ctx)

	var raw [24]byte
	_, _ = rand.Read(raw[:])
	signing := hex.EncodeToString(raw[:]) // this run's; the console signs with it
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("console: listen: %w", err)
	}
	srv := &http.Server{Handler: bot.HTTPHandler(slackbot.HTTPOptions{SigningSecret: secret.Static(signing), Ready: a.Ready, Logger: logger}), ReadHeaderTimeout: 5 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error { return a.RunWorker(gctx) })
	g.Go(func() error {
		// Quicker than a deployment's: a person is watching.
		return bot.NewNotifier(slackbot.NotifierConfig{Interval: 200 * time.Millisecond}).Run(gctx)
	})
	runErr := con.Run(gctx, "http://"+ln.Addr().String(), signing, stdin, stdout)

	// The end of input: finish what was asked (the pool's jobs answer
	// through the console), then stop.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	err = errors.Join(srv.Shutdown(sctx), bot.Shutdown(sctx))
	cancel()
	err = errors.Join(runErr, err, g.Wait())
	con.Close()
	fmt.Fprintln(stdout)
	return err
}

// sandboxCast is whom --as and --approver name, or their defaults: the
// reviewer of the first open certification, and the sandbox's admin
// identity. They must be two people.
func sandboxCast(ctx context.Context, a *app.App, as, approver string) (you, them console.Person, err error) {
	dir := directory{svc: a.Service}
	you, err = pickPerson(ctx, dir, as, func() (string, error) { return firstReviewer(ctx, a) })
	if err != nil {
		return you, them, fmt.Errorf("--as: %w", err)
	}
	them, err = pickPerson(ctx, dir, approver, func() (string, error) {
		if a.Sandbox == nil || len(a.Sandbox.Clients()) == 0 {
			return "", errors.New("no sandbox admin identity")
		}
		return a.Sandbox.Clients()[0].IdentityID, nil // the admin client's identity
	})
	if err != nil {
		return you, them, fmt.Errorf("--approver: %w", err)
	}
	if you.IdentityID == them.IdentityID {
		return you, them, fmt.Errorf("--as and --approver are both %s: no one approves their own request; choose two people", you.Email)
	}
	return you, them, nil
}

// firstReviewer is the reviewer of the first open certification (as
// mcp-server --sandbox acts), so that "your certifications" lists some.
func firstReviewer(ctx context.Context, a *app.App) (string, error) {
	open := false
	page, err := a.Tenant.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 1}})
	if err != nil {
		return "", fmt.Errorf("finding a reviewer: %w", err)
	}
	if len(page.Items) == 0 {
		return "", errors.New("no open certification in the sandbox")
	}
	return page.Items[0].Reviewer.ID, nil
}

// pickPerson finds the one person q names, or the default's.
func pickPerson(ctx context.Context, dir directory, q string, def func() (string, error)) (console.Person, error) {
	if strings.TrimSpace(q) == "" {
		id, err := def()
		if err != nil {
			return console.Person{}, err
		}
		q = id
	}
	found, err := dir.Find(ctx, q)
	if err != nil {
		return console.Person{}, err
	}
	switch len(found) {
	case 0:
		return console.Person{}, fmt.Errorf("no one in the sandbox is %q (an email, an identity id or the start of a name)", q)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, p := range found {
		names = append(names, p.Name+" <"+p.Email+">")
	}
	return console.Person{}, fmt.Errorf("%q could be %s", q, strings.Join(names, ", "))
}

// directory finds the sandbox's people for the console, through the
// Service as the bot would.
type directory struct{ svc *certs.Service }

var identityIDRE = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

func (d directory) Find(ctx context.Context, q string) ([]console.Person, error) {
	q = strings.TrimSpace(q)
	if strings.Contains(q, "@") || identityIDRE.MatchString(q) {
		id, err := d.svc.ResolveIdentity(ctx, consoleActor, q)
		if certs.ErrorCode(err) == certs.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, errors.New(certs.ErrorMessage(err))
		}
		return []console.Person{person(*id)}, nil
	}
	page, err := d.svc.FindPeople(ctx, consoleActor, q, 10)
	if err != nil {
		return nil, errors.New(certs.ErrorMessage(err))
	}
	var out []console.Person
	for _, id := range page.Items {
		if strings.EqualFold(id.Name, q) {
			return []console.Person{person(id)}, nil
		}
		out = append(out, person(id))
	}
	return out, nil
}

func person(id certs.Identity) console.Person {
	return console.Person{SlackID: console.SlackID(id.ID), Name: id.Name, Email: id.Email, IdentityID: id.ID}
}

// consoleMain is `slackbot --console`: the app over the emulated tenant
// (only the non-Slack, non-SailPoint settings are read), then runConsole.
// Logs go to stderr from WARN up, so that the terminal shows the
// conversation.
func consoleMain(ctx context.Context, o consoleOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := app.LoadConfig(true)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Starting the emulated tenant and the bot…")
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, Logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()
	return runConsole(ctx, a, o, stdin, stdout, logger)
}

// isTerminal reports whether r is a terminal (a person typing, whose
// terminal shows what they type).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// sandboxUsers is `slackbot --sandbox` in a real workspace: users.info
// answers the approvers (SLACK_APPROVERS) with --approver's email and
// everyone else with --as's, so that people can try the bot against the
// emulated tenant, whose people are @acme.example.
func sandboxUsers(ctx context.Context, a *app.App, api slackbot.SlackAPI, as, approver string, approvers []string, logger *slog.Logger) (slackbot.SlackAPI, error) {
	you, them, err := sandboxCast(ctx, a, as, approver)
	if err != nil {
		return nil, err
	}
	logger.Info("sandbox: every Slack user acts as "+you.Name+", the approvers (SLACK_APPROVERS) as "+them.Name+" (--as, --approver)",
		"as", you.Email, "approver", them.Email)
	return slackbot.SandboxUsers(api, func(id string) string {
		if slices.Contains(approvers, id) {
			return them.Email
		}
		return you.Email
	}), nil
}
