// Command certops-audit is certops for auditors, on the command line: it
// exports a certification's review evidence (every decision, who made it
// through which front end, the plan's digest and the evidence the person
// was shown) as CSV or JSON Lines, and verifies an export's hash chain.
//
//	certops-audit export --cert ID [--format csv|jsonl] [--out FILE] [--as NAME]
//	certops-audit verify [--format csv|jsonl] FILE
//
// export reads the same environment as the other binaries (SAIL_*,
// DATABASE_URL or CERTOPS_SQLITE_PATH; see the README) and acts as an
// admin: whoever holds the deployment's credentials can read everything
// anyway. Its export is written to certops's audit trail under the
// command-line user (--as, default $USER) with the record count and the
// head hash. verify needs no configuration and no network: it reads the
// file alone, so an auditor can check a file they were handed.
//
// It is a binary of its own, not a flag of mcp-server or slackbot: those
// are long-running servers with listeners, tokens and workers, while an
// export is a one-shot read that an auditor, or an operator in a pod
// (kubectl exec … certops-audit export …), runs and leaves; and verify must
// work on a laptop with no certops configuration at all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "certops-audit:", err)
		os.Exit(1)
	}
}

const usage = `usage: certops-audit <command> [flags]

commands:
  export --cert ID [--format csv|jsonl] [--out FILE] [--as NAME]
        write a certification's review evidence: every decision, who made it
        through which front end, on whose behalf, the plan's digest and the
        evidence shown, each record chained to the one before by its hash.
        Reads SAIL_* and DATABASE_URL or CERTOPS_SQLITE_PATH like the servers.
  verify [--format csv|jsonl] FILE
        check an export's chain: names the first record (and line) that was
        altered, or that follows a removed, inserted or reordered one.
        FILE "-" is standard input. Needs no configuration.

Run certops-audit <command> -h for the command's flags.
`

// run is the whole program; main only calls it. Configuration comes from
// args and, for export, from the environment (through app.LoadConfig,
// which reads the process's own: tests set it with t.Setenv); getenv
// supplies the command-line user.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet("certops-audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	if len(args) == 0 {
		args = []string{"certops-audit"}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("give a command: export or verify")
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	case "verify":
		return runVerify(rest, stdin, stdout, stderr)
	case "help":
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q: use export or verify", cmd)
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certops-audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	certID := fs.String("cert", "", "the certification's id (required)")
	format := fs.String("format", string(export.CSV), "csv or jsonl")
	out := fs.String("out", "", "the file to write (default: standard output)")
	as := fs.String("as", "", "who is exporting, for the audit trail (default: $USER)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected arguments %q", fs.Args())
	}
	if *certID == "" {
		return errors.New("export: give the certification with --cert ID")
	}
	if err := certs.ValidateID("--cert", *certID); err != nil {
		return fmt.Errorf("export: %s", certs.ErrorMessage(err))
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("export: --format: %w", err)
	}
	actor, err := cliActor(*as, getenv)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}

	cfg, err := app.LoadConfig(false)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(ctx, cfg, app.Options{Logger: logger, Owner: "certops-audit"})
	if err != nil {
		return err
	}
	defer a.Close()

	recs, err := a.Service.ExportReviewEvidence(ctx, actor, *certID)
	if err != nil {
		return fmt.Errorf("export: %s", describe(err))
	}
	data, err := export.Bytes(f, recs)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	where := "standard output"
	if *out == "" {
		if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	} else {
		// The evidence names people and their access: readable by its
		// owner only.
		if err := os.WriteFile(*out, data, 0o600); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		where = *out
	}
	head := "no records"
	if len(recs) > 0 {
		head = "head " + recs[len(recs)-1].Hash
	}
	fmt.Fprintf(stderr, "exported %d records of certification %s (%s) to %s; %s\n", len(recs), *certID, f, where, head)
	return nil
}

// cliActor is who exports: an admin named by --as or $USER.
func cliActor(as string, getenv func(string) string) (certs.Actor, error) {
	name := strings.TrimSpace(as)
	if name == "" {
		name = strings.TrimSpace(getenv("USER"))
	}
	if name == "" {
		return certs.Actor{}, errors.New("say who is exporting with --as NAME ($USER is not set)")
	}
	if err := certs.ValidateID("--as", name); err != nil {
		return certs.Actor{}, errors.New(certs.ErrorMessage(err))
	}
	return certs.Actor{ID: name, Name: name, Frontend: certs.FrontendCLI, Role: certs.RoleAdmin}, nil
}

// describe is a domain error as a person reads it, SailPoint's details
// included.
func describe(err error) string {
	msg := certs.ErrorMessage(err)
	if up := certs.UpstreamOf(err); up != nil && up.TrackingID != "" {
		msg += " (SailPoint tracking id " + up.TrackingID + ")"
	}
	if certs.ErrorCode(err) == certs.EINTERNAL {
		msg += ": " + err.Error()
	}
	return msg
}

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certops-audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "csv or jsonl (default: told by the file's first character)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("verify: give one file (- for standard input)")
	}
	var f export.Format
	if *format != "" {
		var err error
		if f, err = export.ParseFormat(*format); err != nil {
			return fmt.Errorf("verify: --format: %w", err)
		}
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer file.Close()
		in = file
	}
	read, chain, err := export.Verify(in, f)
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	if chain.Records == 0 {
		fmt.Fprintf(stdout, "ok: %s holds no records (%s)\n", name, read.Format)
		return nil
	}
	fmt.Fprintf(stdout, "ok: %s holds %d records of certification %s, chained and unaltered (%s); head %s\n",
		name, chain.Records, chain.CertificationID, read.Format, chain.Head)
	fmt.Fprintln(stdout, "compare the head with the data.exported event of this export in certops's audit trail")
	return nil
}
