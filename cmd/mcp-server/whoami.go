package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/settings"
)

// usage prints how to run the server, and the whoami subcommand, before
// the flags.
func usage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprint(w, `certops MCP server: SailPoint ISC certifications for AI assistants.

Usage:
  mcp-server [flags]                      serve MCP over stdio (the default) or HTTP (--http)
  mcp-server whoami --email you@corp.com  print the ISC identity id of that email (for CERTOPS_MCP_IDENTITY_ID)

Settings come from the environment (SAIL_*, DATABASE_URL, CERTOPS_*); see
cmd/mcp-server/README.md. Flags:
`)
		fs.PrintDefaults()
	}
}

// runWhoami is `mcp-server whoami`: it finds the ISC identity with an
// email, through the same SAIL_* settings the server uses, and prints its
// id and name, and where to put the id. It needs no database.
//
// A subcommand rather than a tool: the id is needed to configure the
// server (CERTOPS_MCP_IDENTITY_ID, a token's identityId) before any
// assistant can call it, and running it checks the SAIL_* settings against
// the tenant on the way.
func runWhoami(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp-server whoami", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the email address of the identity to find, as ISC has it")
	sandboxMode := fs.Bool("sandbox", false, "look in the emulated tenant; without --email, print whom a --sandbox session acts as")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: mcp-server whoami --email you@corp.com [--sandbox]\n\nPrints the ISC identity id and name of the identity with this email, read with the SAIL_* settings. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() == 1 && *email == "" && strings.Contains(fs.Arg(0), "@"):
		*email = fs.Arg(0) // `mcp-server whoami you@corp.com`
	case fs.NArg() > 0:
		return fmt.Errorf("whoami: unexpected arguments %q", fs.Args())
	}
	*email = strings.TrimSpace(*email)
	if *email == "" && !*sandboxMode {
		return errors.New("whoami: give your email address: mcp-server whoami --email you@corp.com")
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var tenant *sailpoint.Client
	var actsAs string
	if *sandboxMode {
		cfg, err := app.LoadConfig(true)
		if err != nil {
			return err
		}
		a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, Logger: logger})
		if err != nil {
			return err
		}
		defer a.Close()
		tenant = a.Tenant
		if *email == "" {
			if actsAs, err = sandboxReviewer(ctx, a); err != nil {
				return err
			}
		}
	} else {
		cfg, err := sailpoint.LoadConfig()
		if err != nil {
			var errs settings.Errors
			errs.Add(err)
			errs.Hint(app.SandboxHint)
			return errs.Err()
		}
		if tenant, err = sailpoint.New(cfg, sailpoint.Options{Logger: logger}); err != nil {
			return err
		}
	}

	var who *certs.Identity
	var err error
	if actsAs != "" {
		who, err = tenant.GetIdentity(ctx, actsAs)
	} else {
		who, err = tenant.FindIdentityByEmail(ctx, *email)
	}
	if err != nil {
		msg := certs.ErrorMessage(err)
		if certs.ErrorCode(err) == certs.ENOTFOUND {
			msg += " (ISC compares the whole address, ignoring case: try the one on your ISC profile)"
		}
		return fmt.Errorf("whoami: %s", msg)
	}
	fmt.Fprintf(stdout, "%s", who.Name)
	if who.Email != "" {
		fmt.Fprintf(stdout, " <%s>", who.Email)
	}
	if !who.Active() {
		fmt.Fprintf(stdout, " (%s)", who.State)
	}
	fmt.Fprintf(stdout, "\nISC identity id: %s\n\n", who.ID)
	fmt.Fprintf(stdout, "Over stdio, act as this identity with:   CERTOPS_MCP_IDENTITY_ID=%s\n", who.ID)
	fmt.Fprintf(stdout, "Over HTTP, give its token in CERTOPS_MCP_TOKENS_FILE:   identityId: %s\n", who.ID)
	return nil
}
