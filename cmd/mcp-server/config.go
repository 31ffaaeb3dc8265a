package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/settings"
	"github.com/certops/certops/internal/tools"
)

// mcpConfig is the MCP server's own environment, beside app.Config's.
type mcpConfig struct {
	// TokensFile lists the bearer tokens HTTP accepts (JSON or YAML:
	// name, sha256, identityId, role).
	TokensFile string `envconfig:"CERTOPS_MCP_TOKENS_FILE"`
	// IdentityID and Role are who a stdio caller acts as.
	IdentityID string     `envconfig:"CERTOPS_MCP_IDENTITY_ID"`
	Role       certs.Role `envconfig:"CERTOPS_MCP_ROLE" default:"admin"`
	// AllowedHosts and AllowedOrigins guard HTTP against DNS rebinding
	// and cross-site requests (defaults: loopback names for a loopback
	// listener; loopback origins).
	AllowedHosts   []string `envconfig:"CERTOPS_MCP_ALLOWED_HOSTS"`
	AllowedOrigins []string `envconfig:"CERTOPS_MCP_ALLOWED_ORIGINS"`
	// Tools and DenyTools select tools by name (comma-separated).
	Tools     string `envconfig:"CERTOPS_MCP_TOOLS"`
	DenyTools string `envconfig:"CERTOPS_MCP_DENY_TOOLS"`
	// MaxBodyBytes caps HTTP request bodies.
	MaxBodyBytes int64  `envconfig:"CERTOPS_MCP_MAX_BODY_BYTES" default:"1048576"`
	LogLevel     string `envconfig:"CERTOPS_LOG_LEVEL" default:"info"`
	// PublicURL is the server's base URL as MCP clients reach it, with
	// CERTOPS_IDENTITY=oauth: the OAuth issuer, and PublicURL/mcp the
	// resource its tokens are for (default: http://{--http address}).
	PublicURL string `envconfig:"CERTOPS_MCP_PUBLIC_URL"`

	// What the settings above turn into.
	level  slog.Level
	tokens []tools.Token // from TokensFile, with --http
	// sandboxToken is the bearer token --sandbox --http accepts instead of
	// a fresh one per run, from CERTOPS_MCP_SANDBOX_TOKEN or the file
	// CERTOPS_MCP_SANDBOX_TOKEN_FILE names: an assistant configured with it
	// keeps working across restarts. Nil: a fresh token.
	sandboxToken secret.Source
	// redirectURL is CERTOPS_OAUTH_REDIRECT_URL (oauth mode), from app.Config.
	redirectURL string
}

// minSandboxTokenLength keeps a guessable word out of CERTOPS_MCP_SANDBOX_TOKEN.
const minSandboxTokenLength = 20

// loadConfig reads the MCP server's settings and app.Config's, and reports
// every missing or malformed one of both at once (settings.Error). The
// mcpConfig returned with an error holds what could be read (the log level
// at least), for --migrate-only.
func loadConfig(sandbox bool, httpAddr string) (mcpConfig, app.Config, error) {
	var mc mcpConfig
	var errs settings.Errors
	errs.Add(settings.Process("", &mc))
	if err := mc.level.UnmarshalText([]byte(mc.LogLevel)); err != nil {
		errs.Add(settings.Invalidf("CERTOPS_LOG_LEVEL", "must be debug, info, warn or error, got %q", mc.LogLevel))
	}
	if mc.Role != certs.RoleAdmin && mc.Role != certs.RoleReviewer {
		errs.Add(settings.Invalidf("CERTOPS_MCP_ROLE", "must be admin or reviewer, got %q", mc.Role))
	}
	switch {
	case mc.IdentityID != "":
		if err := certs.ValidateID("CERTOPS_MCP_IDENTITY_ID", mc.IdentityID); err != nil {
			errs.Add(settings.Named(errors.New(certs.ErrorMessage(err))))
		}
	case mc.Role == certs.RoleReviewer && httpAddr == "" && !sandbox:
		errs.Add(settings.Missingf("CERTOPS_MCP_IDENTITY_ID", "with CERTOPS_MCP_ROLE=reviewer: a reviewer sees only what their identity reviews (`mcp-server whoami --email you@example.com` prints yours)"))
	}
	known := tools.ToolNames()
	for _, v := range []struct{ name, list string }{{"CERTOPS_MCP_TOOLS", mc.Tools}, {"CERTOPS_MCP_DENY_TOOLS", mc.DenyTools}} {
		var unknown []string
		for _, n := range tools.ParseToolList(v.list) {
			if !slices.Contains(known, n) {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			errs.Add(settings.Invalidf(v.name, "names unknown tool(s) %s; known tools: %s", strings.Join(unknown, ", "), strings.Join(known, ", ")))
		}
	}
	if httpAddr != "" && mc.TokensFile != "" {
		tokens, err := tools.LoadTokens(mc.TokensFile)
		if err != nil {
			errs.Add(settings.Invalidf("CERTOPS_MCP_TOKENS_FILE", ": %v", err))
		}
		mc.tokens = tokens
	}
	token, err := secret.FromEnv("CERTOPS_MCP_SANDBOX_TOKEN", os.Getenv, secret.Options{})
	switch {
	case err != nil:
		errs.Add(settings.Named(err))
	case token == nil:
	case !sandbox || httpAddr == "":
		errs.Add(settings.Invalidf(sandboxTokenVar(token), "is only for --sandbox --http (a real tenant's tokens go in CERTOPS_MCP_TOKENS_FILE)"))
	case len(token.Value()) < minSandboxTokenLength:
		errs.Add(settings.Invalidf(sandboxTokenVar(token), "must hold at least %d characters, e.g. from `openssl rand -base64 32`", minSandboxTokenLength))
	default:
		mc.sandboxToken = token
	}

	cfg, err := app.LoadConfig(sandbox)
	errs.Add(err)
	if err := errs.Err(); err != nil {
		return mc, app.Config{}, err
	}
	return mc, cfg, nil
}

// sandboxTokenVar is the variable the sandbox token came from.
func sandboxTokenVar(src secret.Source) string {
	if f, ok := src.(*secret.File); ok {
		return f.Name()
	}
	return "CERTOPS_MCP_SANDBOX_TOKEN"
}

// describeSandboxToken says where the sandbox token came from, for the
// start-up banner, without the token.
func describeSandboxToken(src secret.Source) string {
	if f, ok := src.(*secret.File); ok {
		return fmt.Sprintf("the one in %s (%s), the same at every start", f.Name(), f.Path())
	}
	return "the one in CERTOPS_MCP_SANDBOX_TOKEN, the same at every start"
}
