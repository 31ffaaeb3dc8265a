// Command sandbox runs an emulated SailPoint Identity Security Cloud tenant
// (internal/sandbox) on a local port, for certops, SailPoint's SDKs and CLI,
// or any ISC client: point SAIL_BASE_URL, SAIL_CLIENT_ID and
// SAIL_CLIENT_SECRET at it. It prints the URL and credentials on start: the
// API clients', the people's who sign in on its login page (ISC's
// authorization-code flow), and the OAuth clients with their redirect URIs.
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
	"strings"
	"syscall"
	"time"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/settings"
)

func main() {
	if err := run(context.Background(), os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

// config is the environment (SANDBOX_*); flags override it.
type config struct {
	Addr           string        `envconfig:"ADDR" default:"127.0.0.1:7100"`
	Seed           int64         `envconfig:"SEED" default:"1"`
	Size           string        `envconfig:"SIZE" default:"small"`
	Certifications int           `envconfig:"CERTIFICATIONS"`
	ItemsPerCert   int           `envconfig:"ITEMS_PER_CERT"`
	Latency        time.Duration `envconfig:"LATENCY"`
	Jitter         time.Duration `envconfig:"JITTER"`
	RateLimit      int           `envconfig:"RATE_LIMIT" default:"100"`
	TaskTime       time.Duration `envconfig:"TASK_TIME" default:"500ms"`
	ErrorRate      float64       `envconfig:"ERROR_RATE"`
	RedirectURIs   string        `envconfig:"REDIRECT_URIS"`
	LogLevel       string        `envconfig:"LOG_LEVEL" default:"info"`
}

// run is the whole program. Configuration comes from args and, through
// envconfig, from the process environment (SANDBOX_*).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Every problem with the settings is reported at once, flags' included.
	var c config
	var errs settings.Errors
	errs.Add(envconfigProcess(&c))
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "certops sandbox: an emulated SailPoint ISC tenant on a local port, for certops or any ISC client.\n\n"+
			"Usage: sandbox [flags]\n\nEach flag can be set in the environment too (SANDBOX_*); flags win. Flags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (SANDBOX_ADDR); port 0 picks a free one")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed of the generated data (SANDBOX_SEED); the same seed and size give the same tenant")
	fs.StringVar(&c.Size, "size", c.Size, "small (12 certifications × 8 items) or large (10,000 × 10) (SANDBOX_SIZE)")
	fs.IntVar(&c.Certifications, "certifications", c.Certifications, "number of certifications, overriding --size (SANDBOX_CERTIFICATIONS)")
	fs.IntVar(&c.ItemsPerCert, "items-per-cert", c.ItemsPerCert, "review items per certification, overriding --size (SANDBOX_ITEMS_PER_CERT)")
	fs.DurationVar(&c.Latency, "latency", c.Latency, "latency added to every API response (SANDBOX_LATENCY)")
	fs.DurationVar(&c.Jitter, "jitter", c.Jitter, "up to this much more latency, at random (SANDBOX_JITTER)")
	fs.IntVar(&c.RateLimit, "rate-limit", c.RateLimit, "requests per 10 s per client and API version; -1 for none (SANDBOX_RATE_LIMIT)")
	fs.DurationVar(&c.TaskTime, "task-time", c.TaskTime, "how long an async reassignment task takes: 40% QUEUED, then IN_PROGRESS (SANDBOX_TASK_TIME)")
	fs.Float64Var(&c.ErrorRate, "error-rate", c.ErrorRate, "fraction of API calls answered 500 (SANDBOX_ERROR_RATE)")
	fs.StringVar(&c.RedirectURIs, "redirect-uris", c.RedirectURIs, "comma-separated redirect URIs of the OAuth clients sandbox-certops and sandbox-public, matched exactly (SANDBOX_REDIRECT_URIS; default certops's http://127.0.0.1:8080/oauth/callback, :3000, and the same on localhost)")
	if len(args) == 0 {
		args = []string{"sandbox"}
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // asked for, and printed
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs.Add(settings.Invalidf("SANDBOX_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel))
	}
	cfg, err := sandboxConfig(c)
	errs.Add(err)
	if err := errs.Err(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = logger.With("component", "sandbox")
	sb := sandbox.New(cfg)

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: sb,
		// Requests see the run's context, so on shutdown a "hang" fault or
		// a latency wait ends instead of holding the server open.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	printBanner(stdout, base, cfg, sb.Clients(), sb.People(), sb.OAuthClients())
	logger.Info("sandbox tenant listening", "url", base, "seed", cfg.Seed, "certifications", cfg.Certifications, "items_per_cert", cfg.ItemsPerCertification)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sandboxConfig turns the settings into a sandbox.Config, or returns every
// problem with them (an errors.Join of *settings.Problem), each naming the
// variable and its flag.
func sandboxConfig(c config) (sandbox.Config, error) {
	cfg := sandbox.Config{Seed: c.Seed, RateLimit: c.RateLimit, Latency: c.Latency, Jitter: c.Jitter, ErrorRate: c.ErrorRate}
	var errs []error
	bad := func(name, flag, format string, args ...any) {
		errs = append(errs, settings.Invalidf(name, "(--"+flag+") "+format, args...))
	}
	switch c.Size {
	case "small", "":
		cfg.Certifications, cfg.ItemsPerCertification = sandbox.SmallCertifications, sandbox.SmallItemsPerCert
	case "large":
		cfg.Certifications, cfg.ItemsPerCertification = sandbox.LargeCertifications, sandbox.LargeItemsPerCert
	default:
		bad("SANDBOX_SIZE", "size", "must be small or large, got %q", c.Size)
	}
	if c.Certifications < 0 {
		bad("SANDBOX_CERTIFICATIONS", "certifications", "must not be negative, got %d", c.Certifications)
	}
	if c.ItemsPerCert < 0 {
		bad("SANDBOX_ITEMS_PER_CERT", "items-per-cert", "must not be negative, got %d", c.ItemsPerCert)
	}
	if c.Certifications > 0 {
		cfg.Certifications = c.Certifications
	}
	if c.ItemsPerCert > 0 {
		cfg.ItemsPerCertification = c.ItemsPerCert
	}
	if c.RateLimit == 0 || c.RateLimit < -1 {
		bad("SANDBOX_RATE_LIMIT", "rate-limit", "must be positive, or -1 for none, got %d", c.RateLimit)
	}
	if c.Latency < 0 {
		bad("SANDBOX_LATENCY", "latency", "must not be negative, got %s", c.Latency)
	}
	if c.Jitter < 0 {
		bad("SANDBOX_JITTER", "jitter", "must not be negative, got %s", c.Jitter)
	}
	if c.TaskTime <= 0 {
		bad("SANDBOX_TASK_TIME", "task-time", "must be positive, got %s", c.TaskTime)
	}
	if c.ErrorRate < 0 || c.ErrorRate > 1 {
		bad("SANDBOX_ERROR_RATE", "error-rate", "must be between 0 and 1, got %v", c.ErrorRate)
	}
	for _, u := range strings.Split(c.RedirectURIs, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if err := sandbox.ValidRedirectURI(u); err != nil {
			bad("SANDBOX_REDIRECT_URIS", "redirect-uris", "%v", err)
			continue
		}
		cfg.RedirectURIs = append(cfg.RedirectURIs, u)
	}
	cfg.TaskQueuedFor = c.TaskTime * 2 / 5
	cfg.TaskRunningFor = c.TaskTime - cfg.TaskQueuedFor
	return cfg, errors.Join(errs...)
}

// printBanner tells a person how to use the tenant. The credentials and
// passwords are the sandbox's fixed, public test credentials, not secrets.
func printBanner(w io.Writer, base string, cfg sandbox.Config, clients []sandbox.Credential, people []sandbox.Person, oauthClients []sandbox.OAuthClient) {
	admin := clients[0]
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("certops sandbox: an emulated SailPoint ISC tenant (seed %d, %d certifications × %d items)", cfg.Seed, cfg.Certifications, cfg.ItemsPerCertification)
	p("")
	p("Base URL:  %s", base)
	p("Token URL: %s/oauth/token", base)
	p("")
	p("API clients (client id / client secret):")
	for _, c := range clients {
		who := fmt.Sprintf("%s <%s>", c.Name, c.Email)
		if c.Role == sandbox.RoleAdmin {
			who += ", sees every certification"
		} else {
			who += ", sees the certifications they review"
		}
		p("  %-8s  %s / %s  (%s)", c.Role, c.ClientID, c.ClientSecret, who)
	}
	p("")
	p("People who sign in on the login page (username / password):")
	for _, person := range people {
		what := "acts as an admin"
		if person.Role != sandbox.RoleAdmin {
			what = "acts as a reviewer of their own certifications"
		}
		p("  %-8s  %s / %s  (%s <%s>, %s)", person.Role, person.Username, person.Password, person.Name, person.Email, what)
	}
	p("  Every other active person: username their alias or email, password the alias followed by -password.")
	p("")
	p("OAuth clients (authorization code with PKCE S256 required; refresh tokens rotate, a reused one revokes the sign-in):")
	for _, oc := range oauthClients {
		if oc.Secret != "" {
			p("  %s / %s  (%s, %s)", oc.ID, oc.Secret, strings.ToLower(oc.Type), oc.Name)
		} else {
			p("  %s  (%s: no secret)", oc.ID, strings.ToLower(oc.Type))
		}
	}
	if len(oauthClients) > 0 {
		p("  Redirect URIs, matched exactly (--redirect-uris): %s", strings.Join(oauthClients[0].RedirectURIs, ", "))
	}
	p("Authorize URL: %s/oauth/authorize  (ISC serves it on the login host, https://{tenant}.login.sailpoint.com;", base)
	p("               the sandbox serves it and the token URL on this one host; GET %s/oauth/info says so)", base)
	p("")
	p("Point any ISC client (SailPoint's SDKs and CLI, certops) at it:")
	p("  export SAIL_BASE_URL=%s", base)
	p("  export SAIL_CLIENT_ID=%s", admin.ClientID)
	p("  export SAIL_CLIENT_SECRET=%s", admin.ClientSecret)
	p("")
	p("Try it:")
	p(`  TOKEN=$(curl -s -X POST '%s/oauth/token' -d grant_type=client_credentials -d client_id=%s -d client_secret=%s | sed -E 's/.*"access_token":"([^"]+)".*/\1/')`, base, admin.ClientID, admin.ClientSecret)
	p(`  curl -s -H "Authorization: Bearer $TOKEN" '%s/v3/certifications?limit=5&count=true'`, base)
	p("")
	p("Test controls (no auth): GET %s/_sandbox/stats, GET %s/_sandbox/decisions, GET %s/_sandbox/reassignments, POST %s/_sandbox/faults, POST %s/_sandbox/latency", base, base, base, base, base)
}

// envconfigProcess reads the SANDBOX_* variables into c.
func envconfigProcess(c *config) error { return settings.Process("sandbox", c) }
