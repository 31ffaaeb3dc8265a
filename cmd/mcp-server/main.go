// Command mcp-server serves certops's MCP tools to AI assistants over stdio
// (the default) or streamable HTTP (--http). See README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/mcpauth"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/tools"
)

func main() {
	if err := run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mcp-server:", err)
		os.Exit(1)
	}
}

// run is the whole program. Configuration comes from args and, through
// envconfig, from the process environment (which envconfig reads itself:
// tests set it with t.Setenv). Over stdio, stdout carries nothing but MCP
// messages; logs go to stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet("mcp-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sandboxMode := fs.Bool("sandbox", false, "run against an emulated ISC tenant started in-process (no SAIL_* settings needed)")
	httpAddr := fs.String("http", "", "serve streamable HTTP on this address (e.g. 127.0.0.1:8080) instead of stdio")
	readOnly := fs.Bool("read-only", false, "offer only the tools that change nothing")
	sqlitePath := fs.String("sqlite", "", "SQLite database file (default: CERTOPS_SQLITE_PATH, or a temporary file with --sandbox)")
	migrateOnly := fs.Bool("migrate-only", false, "apply the database migrations (DATABASE_URL, or the SQLite file) and exit; needs no SailPoint settings")
	fs.Usage = usage(fs)
	if len(args) == 0 {
		args = []string{"mcp-server"}
	}
	if len(args) > 1 && args[1] == "whoami" {
		return runWhoami(ctx, args[1:], stdout, stderr)
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

	// Every missing or malformed setting is reported at once (config.go);
	// mc holds what could be read even then.
	mc, cfg, err := loadConfig(*sandboxMode, *httpAddr)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: mc.level}))
	if *migrateOnly {
		if *sandboxMode {
			return errors.New("--migrate-only and --sandbox: the sandbox's database is a temporary file; migrate the one you use (DATABASE_URL, --sqlite)")
		}
		return app.Migrate(ctx, *sqlitePath, logger)
	}
	if err != nil {
		return err
	}
	selection := tools.Selection{ReadOnly: *readOnly, Allow: tools.ParseToolList(mc.Tools), Deny: tools.ParseToolList(mc.DenyTools)}
	if *sqlitePath != "" {
		cfg.SQLitePath = *sqlitePath
	}
	reg := metrics.NewRegistry()
	met := metrics.New(reg)
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: *sandboxMode, Logger: logger, Metrics: met})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			logger.Warn("closing", "err", err)
		}
	}()

	identityID := mc.IdentityID
	if *sandboxMode && identityID == "" {
		identityID, err = sandboxReviewer(ctx, a)
		if err != nil {
			return err
		}
	}

	srv, err := tools.New(tools.Options{
		Service:         a.Service,
		Logger:          logger,
		Version:         version(),
		Tools:           selection,
		RequireApproval: cfg.RequireApproval,
		Metrics:         met,
	})
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}

	// On SIGTERM: the worker stops at once (releasing its claims), HTTP
	// stops accepting and drains in-flight calls, then the store closes
	// (deferred above); all within cfg.ShutdownGrace.
	stopping := ctx
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.RunWorker(ctx) })
	g.Go(func() error {
		// Whichever way serving ends, stop the worker too.
		defer stop()
		if *httpAddr == "" {
			actor := certs.Actor{ID: tools.StdioActorID, Name: "stdio", Frontend: certs.FrontendMCP, Role: mc.Role, IdentityID: identityID}
			logger.Info("serving MCP over stdio", "identity", identityID, "role", mc.Role, "read_only", *readOnly)
			return serveStdio(ctx, srv, actor, stdin, stdout, logger, cfg.ShutdownGrace)
		}
		mc.redirectURL = cfg.Identity.SignIn.RedirectURL
		return serveHTTP(ctx, srv, a, mc, *httpAddr, *sandboxMode, identityID, stdout, logger, httpMetrics{met, reg}, cfg.ShutdownGrace)
	})
	err = app.AwaitShutdown(stopping, g.Wait, cfg.ShutdownGrace, logger)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// httpMetrics is what HTTP serves at /metrics and counts requests in.
type httpMetrics struct {
	m   *metrics.Metrics
	reg *prometheus.Registry
}

func serveHTTP(ctx context.Context, srv *server.MCPServer, a *app.App, mc mcpConfig, addr string, sandboxMode bool, identityID string, stdout io.Writer, logger *slog.Logger, hm httpMetrics, grace time.Duration) error {
	auth, err := tools.NewAuthenticator(mc.tokens) // CERTOPS_MCP_TOKENS_FILE's (config.go)
	if err != nil {
		return err
	}
	var sandboxToken string
	if sandboxMode {
		// CERTOPS_MCP_SANDBOX_TOKEN(_FILE)'s, or a fresh token for this run
		// only; just its hash is kept.
		token := ""
		if mc.sandboxToken != nil {
			token = mc.sandboxToken.Value()
		} else {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			token = base64.RawURLEncoding.EncodeToString(b)
			sandboxToken = token
		}
		if err := auth.Add(tools.Token{Name: "sandbox", SHA256: tools.HashToken(token), IdentityID: identityID, Role: certs.RoleAdmin}); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	hosts := mc.AllowedHosts
	if len(hosts) == 0 {
		hosts = tools.DefaultAllowedHosts(ln.Addr().String())
	}
	oauth, err := oauthServer(a, mc, ln.Addr().String(), logger)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("configuration: %w", err)
	}
	var oauthRes tools.OAuthResource
	if oauth != nil {
		oauthRes = oauth
	}
	handler, err := tools.NewHTTPHandler(srv, tools.HTTPOptions{
		OAuth:          oauthRes,
		Auth:           auth,
		AllowedHosts:   hosts,
		AllowedOrigins: mc.AllowedOrigins,
		MaxBodyBytes:   mc.MaxBodyBytes,
		Ready:          a.Ready,
		Logger:         logger,
		Metrics:        hm.m,
		MetricsHandler: metrics.Handler(hm.reg),
	})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("configuration: %w", err)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	hs.RegisterOnShutdown(handler.EndStreams)

	url := "http://" + ln.Addr().String() + tools.MCPPath
	fmt.Fprintf(stdout, "certops MCP server listening on %s\n", url)
	switch {
	case sandboxToken != "":
		fmt.Fprintf(stdout, "sandbox token (valid for this run): %s\n", sandboxToken)
		fmt.Fprintf(stdout, "connect with header: Authorization: Bearer %s\n", sandboxToken)
	case sandboxMode:
		fmt.Fprintf(stdout, "sandbox token: %s\n", describeSandboxToken(mc.sandboxToken))
	}
	if oauth != nil {
		fmt.Fprintf(stdout, "OAuth (CERTOPS_IDENTITY=oauth): protected resource metadata at %s\n", oauth.ResourceMetadataURL())
	}
	logger.Info("serving MCP over HTTP", "url", url, "oauth", oauth != nil, "tokens", auth.Len(), "allowed_hosts", strings.Join(hosts, ","))

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting; in-flight tool calls finish (their contexts are the
	// requests', not ctx); open streams are ended.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	logger.Info("shutting down HTTP")
	if err := hs.Shutdown(shutdownCtx); err != nil {
		logger.Error("HTTP requests still running at the end of the grace period", "grace", grace, "err", err)
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// oauthServer is certops as the OAuth authorization server of its MCP
// clients, with CERTOPS_IDENTITY=oauth (nil otherwise): issuer
// CERTOPS_MCP_PUBLIC_URL (default http://{listen address}), resource
// {issuer}/mcp, ISC's callback at CERTOPS_OAUTH_REDIRECT_URL's path. With
// --sandbox that callback is registered in the sandbox's certops client.
func oauthServer(a *app.App, mc mcpConfig, listen string, logger *slog.Logger) (*mcpauth.Server, error) {
	if a.SignIn == nil {
		return nil, nil
	}
	issuer := strings.TrimRight(mc.PublicURL, "/")
	if issuer == "" {
		issuer = "http://" + listen
	}
	cb, err := neturl.Parse(mc.redirectURL)
	if err != nil || cb.Path == "" || cb.Path == "/" || cb.Path == tools.MCPPath {
		return nil, errors.New("CERTOPS_OAUTH_REDIRECT_URL must name a path of this server, e.g. /oauth/callback")
	}
	if a.Sandbox != nil {
		if err := a.Sandbox.AddRedirectURIs(sandbox.CertopsClientID, mc.redirectURL); err != nil {
			return nil, err
		}
	}
	return mcpauth.New(mcpauth.Config{
		Issuer: issuer, Resource: issuer + tools.MCPPath, CallbackPath: cb.Path,
		SignIn: a.SignIn, AllowedOrigins: mc.AllowedOrigins, Logger: logger,
	})
}

// sandboxReviewer picks whom a sandbox session acts as when no identity
// was configured: the reviewer of the first open certification, so that
// "my certifications" shows something.
func sandboxReviewer(ctx context.Context, a *app.App) (string, error) {
	open := false
	page, err := a.Tenant.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 1}})
	if err != nil {
		return "", fmt.Errorf("sandbox: finding a reviewer: %w", err)
	}
	if len(page.Items) == 0 {
		return "", errors.New("sandbox: no open certification to act on")
	}
	return page.Items[0].Reviewer.ID, nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
