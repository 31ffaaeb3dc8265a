// Package app wires configuration to certops's packages for the binaries:
// the ISC client (or an in-process sandbox tenant), the store and the
// certification service. It is the only place besides cmd/* and tests that
// puts adapters together.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/settings"
	"github.com/certops/certops/internal/signin"
	"github.com/certops/certops/internal/store"
)

// Config is the environment shared by every certops front end.
type Config struct {
	// Sail is SailPoint's connection (SAIL_*). With --sandbox only its
	// APIVersion (SAIL_API_VERSION) is read and used: the in-process
	// tenant provides the rest.
	Sail sailpoint.Config `ignored:"true"`

	DatabaseURL string `envconfig:"DATABASE_URL"`
	// DatabaseURLFile holds DATABASE_URL instead (it carries the
	// database password); read once at start-up.
	DatabaseURLFile string `envconfig:"DATABASE_URL_FILE"`
	// SQLitePath is the SQLite file used when DatabaseURL is empty:
	// certops.db in the working directory when unset, or a fresh temporary
	// file with --sandbox.
	SQLitePath      string        `envconfig:"CERTOPS_SQLITE_PATH"`
	RequireApproval bool          `envconfig:"CERTOPS_REQUIRE_APPROVAL"`
	Approvers       []string      `envconfig:"CERTOPS_APPROVERS"`
	RequestTTL      time.Duration `envconfig:"CERTOPS_REQUEST_TTL" default:"72h"`
	WorkerInterval  time.Duration `envconfig:"CERTOPS_WORKER_INTERVAL" default:"2s"`
	// SubmitLease and ClaimLease bound how long a crashed replica's work
	// waits before another replica takes it over (see certs.Options).
	SubmitLease time.Duration `envconfig:"CERTOPS_SUBMIT_LEASE" default:"5m"`
	ClaimLease  time.Duration `envconfig:"CERTOPS_CLAIM_LEASE" default:"1m"`
	// ShutdownGrace bounds the drain after SIGTERM (see AwaitShutdown).
	ShutdownGrace time.Duration `envconfig:"CERTOPS_SHUTDOWN_GRACE" default:"25s"`
	// Identity is CERTOPS_IDENTITY and, in oauth mode, the sign-in
	// settings (identity.go).
	Identity IdentityConfig `ignored:"true"`
}

// SandboxHint is said after missing SailPoint settings: how to try certops
// without a tenant.
const SandboxHint = "No SailPoint tenant at hand? Run with --sandbox: an emulated tenant starts in-process and no SAIL_* setting is needed."

// LoadConfig reads Config from the environment. With sandbox set the SAIL_*
// settings are not required: the in-process tenant provides them, and only
// SAIL_API_VERSION is read, so that the per-service v1 paths can be tried
// against it.
//
// Every missing or malformed setting is reported at once, as a
// *settings.Error (which a binary may merge with its own settings' with
// settings.Report); when SailPoint settings are missing it says that
// --sandbox needs none.
func LoadConfig(sandbox bool) (Config, error) {
	var cfg Config
	var errs settings.Errors
	errs.Add(settings.Process("", &cfg))
	if strings.TrimSpace(cfg.DatabaseURLFile) != "" {
		if strings.TrimSpace(cfg.DatabaseURL) != "" {
			errs.Add(settings.Invalidf("DATABASE_URL", "and DATABASE_URL_FILE are both set: set only one"))
		} else if f, err := secret.OpenFile("DATABASE_URL_FILE", cfg.DatabaseURLFile, secret.Options{}); err != nil {
			errs.Add(settings.Named(err))
		} else {
			cfg.DatabaseURL = f.Value()
		}
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"CERTOPS_REQUEST_TTL", cfg.RequestTTL},
		{"CERTOPS_WORKER_INTERVAL", cfg.WorkerInterval},
		{"CERTOPS_SUBMIT_LEASE", cfg.SubmitLease},
		{"CERTOPS_CLAIM_LEASE", cfg.ClaimLease},
		{"CERTOPS_SHUTDOWN_GRACE", cfg.ShutdownGrace},
	} {
		if d.value <= 0 {
			errs.Add(settings.Invalidf(d.name, "must be positive, got %s", d.value))
		}
	}
	if sandbox {
		version, err := loadSandboxAPIVersion()
		errs.Add(err)
		cfg.Sail.APIVersion = version
	} else {
		sail, err := sailpoint.LoadConfig()
		errs.Add(err)
		if path := strings.TrimSpace(sail.ClientSecretFile); err == nil && path != "" {
			// The client reads it again; reading it here reports a bad file
			// with the other problems.
			if _, err := secret.OpenFile("SAIL_CLIENT_SECRET_FILE", path, secret.Options{}); err != nil {
				errs.Add(settings.Named(err))
			}
		}
		cfg.Sail = sail
		if errs.Missing("SAIL_") {
			errs.Hint(SandboxHint)
		}
	}
	if !errs.Missing("SAIL_") {
		id, err := loadIdentity(cfg.Sail, sandbox)
		errs.Add(err)
		cfg.Identity = id
	}
	if err := errs.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// loadSandboxAPIVersion reads the one SAIL_* setting --sandbox honours; set
// to blanks it is as good as unset (v3).
func loadSandboxAPIVersion() (string, error) {
	var c struct {
		APIVersion string `envconfig:"SAIL_API_VERSION" default:"v3"`
	}
	if err := settings.Process("", &c); err != nil {
		return sailpoint.APIv3, err
	}
	if c.APIVersion != sailpoint.APIv3 && c.APIVersion != sailpoint.APIv1 {
		return sailpoint.APIv3, settings.Invalidf("SAIL_API_VERSION", "must be %s or %s, got %q", sailpoint.APIv3, sailpoint.APIv1, c.APIVersion)
	}
	return c.APIVersion, nil
}

// DefaultSQLitePath is the store's file when neither DATABASE_URL nor
// CERTOPS_SQLITE_PATH is set (and not running with --sandbox).
const DefaultSQLitePath = "certops.db"

// Options are what a binary decides beyond the environment.
type Options struct {
	// Sandbox starts an emulated ISC tenant in-process on a loopback port
	// and points the client at it with its admin credentials, on the API
	// version of Config.Sail.APIVersion (v3 when empty).
	Sandbox       bool
	SandboxConfig sandbox.Config
	Logger        *slog.Logger
	// Owner names this process in job leases (hostname:pid when empty).
	Owner string
	// Metrics receives the SailPoint client's and the service's
	// measurements (none when nil).
	Metrics *metrics.Metrics
}

// App is a wired certops: the service and what it stands on.
type App struct {
	Service *certs.Service
	Tenant  *sailpoint.Client
	Store   certs.Store
	// Sandbox and SandboxURL are set with Options.Sandbox.
	Sandbox    *sandbox.Sandbox
	SandboxURL string
	// SignIn signs people in with SailPoint (CERTOPS_IDENTITY=oauth; nil in
	// email mode). The Service's Tenant is then a certs.PersonRouter: front
	// ends put each person's Tenant in their calls' context (SignIn.Bind).
	SignIn *signin.Service

	cfg     Config
	logger  *slog.Logger
	closers []func() error
}

// Open wires an App. With Options.Sandbox and no database configured, the
// SQLite file lives in a fresh temporary directory unless cfg.SQLitePath
// names one.
func Open(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// A Config built in code (not by LoadConfig) gets LoadConfig's defaults.
	if cfg.WorkerInterval <= 0 {
		cfg.WorkerInterval = 2 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	a := &App{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()

	if opts.Sandbox {
		if err := a.startSandbox(opts.SandboxConfig); err != nil {
			return nil, err
		}
		cfg.Sail = sailpoint.Config{
			BaseURL:      a.SandboxURL,
			ClientID:     sandbox.AdminClientID,
			ClientSecret: sandbox.AdminClientSecret,
			APIVersion:   cmp.Or(cfg.Sail.APIVersion, sailpoint.APIv3), // the sandbox serves both
			RateLimit:    100,
			RateWindow:   10 * time.Second,
			Timeout:      30 * time.Second,
			MaxRetries:   5,
			Concurrency:  8,
		}
		if cfg.DatabaseURL == "" && cfg.SQLitePath == "" {
			dir, err := os.MkdirTemp("", "certops-sandbox-")
			if err != nil {
				return nil, fmt.Errorf("sandbox store: %w", err)
			}
			a.closers = append(a.closers, func() error { return os.RemoveAll(dir) })
			cfg.SQLitePath = filepath.Join(dir, "certops.db")
		}
	}

	if cfg.SQLitePath == "" {
		cfg.SQLitePath = DefaultSQLitePath
	}
	// Identical reads in flight are sent once and identity lookups kept
	// briefly (sailpoint.ReadCache).
	spOpts := sailpoint.Options{Logger: logger, Reads: sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, nil)}
	var certsMetrics certs.Metrics
	if opts.Metrics != nil { // a typed nil in an interface is not nil
		spOpts.Metrics = opts.Metrics
		certsMetrics = opts.Metrics
	}
	tenant, err := sailpoint.New(cfg.Sail, spOpts)
	if err != nil {
		return nil, fmt.Errorf("sailpoint client: %w", err)
	}
	a.Tenant = tenant
	// Closed before the sandbox (closers run last first): its shutdown
	// would wait for a connection opened for a canceled call.
	a.closers = append(a.closers, func() error { tenant.CloseIdleConnections(); return nil })

	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath, store.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	a.Store = st
	a.closers = append(a.closers, st.Close)

	svcTenant, err := a.openSignIn(ctx, cfg, spOpts, tenant)
	if err != nil {
		return nil, err
	}
	a.Service = certs.NewService(certs.Options{
		Tenant:      svcTenant,
		Store:       st,
		Logger:      logger,
		Owner:       opts.Owner,
		SubmitLease: cfg.SubmitLease,
		ClaimLease:  cfg.ClaimLease,
		Metrics:     certsMetrics,
		Policy: certs.Policy{
			RequireApproval: cfg.RequireApproval,
			Approvers:       cfg.Approvers,
			RequestTTL:      cfg.RequestTTL,
		},
	})
	return a, nil
}

func (a *App) startSandbox(cfg sandbox.Config) error {
	if cfg.Logger == nil {
		cfg.Logger = a.logger.With("component", "sandbox")
	}
	a.Sandbox = sandbox.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox listener: %w", err)
	}
	srv := &http.Server{Handler: a.Sandbox, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.SandboxURL = "http://" + ln.Addr().String()
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	a.logger.Info("sandbox tenant started", "url", a.SandboxURL)
	return nil
}

// Ready reports whether the App can serve: the database answers and a
// SailPoint token can be had.
func (a *App) Ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := a.Tenant.Ping(ctx); err != nil {
		return fmt.Errorf("sailpoint: %w", err)
	}
	return nil
}

// RunWorker is certops's one background loop: every WorkerInterval it runs
// one pass of the service's work (certs.Service.Tick: expiry,
// reconciliation, task following) until ctx ends. Work is claimed per
// request in the store, so every replica may run it.
//
// A pass under way when ctx ends is not cut short but given
// ShutdownGrace to finish: it may be submitting a request taken over from a
// crashed replica, and stopping between two ISC calls would leave the
// request for reconciliation instead of done. Each pass releases its claims
// as it ends, so another replica takes over at once. The loop lives here,
// not in certs, because that grace is the process's shutdown policy
// (CERTOPS_SHUTDOWN_GRACE), not a rule of the domain.
func (a *App) RunWorker(ctx context.Context) error {
	for ctx.Err() == nil {
		pass, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, func() { time.AfterFunc(a.cfg.ShutdownGrace, cancel) })
		err := a.Service.Tick(pass)
		stop()
		cancel()
		if err != nil && pass.Err() == nil {
			a.logger.ErrorContext(ctx, "certs worker pass", "err", err)
		}
		t := time.NewTimer(a.cfg.WorkerInterval)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// Close releases everything Open acquired, in reverse order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
