package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/store"
)

// runCmd runs the command with args and returns its stdout, stderr and
// error.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "USER" {
			return "tester"
		}
		return ""
	}
	err := run(context.Background(), append([]string{"certops-audit"}, args...), getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// decided is a certification of the sandbox with decisions made through
// certops, on the SQLite file the command is then pointed at (through the
// environment, as in a deployment).
type decided struct {
	certID string
	items  []string // decided, in order
	st     certs.Store
}

func decideInSandbox(t *testing.T) decided {
	t.Helper()
	ctx := context.Background()
	_, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	dbPath := filepath.Join(t.TempDir(), "certops.db")
	t.Setenv("SAIL_BASE_URL", base)
	t.Setenv("SAIL_CLIENT_ID", sandbox.AdminClientID)
	t.Setenv("SAIL_CLIENT_SECRET", sandbox.AdminClientSecret)
	t.Setenv("SAIL_RATE_LIMIT", "1000")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("CERTOPS_SQLITE_PATH", dbPath)

	quiet := slog.New(slog.DiscardHandler)
	tenant, err := sailpoint.New(sailpoint.Config{BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", Timeout: 10 * time.Second, MaxRetries: 3, Concurrency: 4, MaxBackoff: 10 * time.Millisecond}, sailpoint.Options{Logger: quiet})
	require.NoError(t, err)
	st, err := store.OpenSQLite(ctx, dbPath, store.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	svc := certs.NewService(certs.Options{Tenant: tenant, Store: st, Logger: quiet})

	page, err := tenant.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	for _, c := range page.Items {
		if c.Phase != certs.PhaseActive || c.Reviewer.Type == certs.ReviewerGovernanceGroup {
			continue
		}
		rev := certs.Actor{ID: "U_REVIEWER", Name: c.Reviewer.Name, Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: c.Reviewer.ID}
		items, err := svc.ListReviewItems(ctx, rev, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 250}})
		require.NoError(t, err)
		var open []string
		for _, it := range items.Items {
			if it.Decision == "" && it.IdentitySummary.IdentityID != c.Reviewer.ID {
				open = append(open, it.ID)
			}
		}
		if len(open) < 3 {
			continue
		}
		p, err := svc.PlanDecisions(ctx, rev, certs.DecisionInput{CertificationID: c.ID, Decisions: []certs.ItemDecision{
			{ItemID: open[0], Decision: certs.DecisionApprove, Comments: "still in the role"},
			{ItemID: open[1], Decision: certs.DecisionRevoke, Comments: "left the team, \"for good\""},
			{ItemID: open[2], Decision: certs.DecisionApprove, Comments: "=1+1 is not a formula here"},
		}})
		require.NoError(t, err)
		r, err := svc.SubmitPlan(ctx, rev, p.ID, p.Digest)
		require.NoError(t, err)
		require.Equal(t, certs.StateCompleted, r.State, r.Error)
		return decided{certID: c.ID, items: open[:3], st: st}
	}
	t.Fatal("the sandbox has no ACTIVE certification with 3 open items")
	return decided{}
}

// dropRecord removes record i (from 0) of an export's text, line by line,
// as someone editing the file would.
func dropRecord(t *testing.T, text string, i int) string {
	t.Helper()
	file, err := export.Read(strings.NewReader(text), "")
	require.NoError(t, err)
	lines := strings.SplitAfter(text, "\n")
	from, to := file.Lines[i]-1, len(lines)-1
	if i+1 < len(file.Lines) {
		to = file.Lines[i+1] - 1
	}
	return strings.Join(append(lines[:from:from], lines[to:]...), "")
}

func TestExportThenVerify(t *testing.T) {
	d := decideInSandbox(t)
	dir := t.TempDir()

	t.Run("csv to a file", func(t *testing.T) {
		path := filepath.Join(dir, "evidence.csv")
		_, stderr, err := runCmd(t, "", "export", "--cert", d.certID, "--out", path, "--as", "auditor-jane")
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "of certification "+d.certID+" (csv) to "+path+"; head ")
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the evidence names people: owner-only")

		stdout, _, err := runCmd(t, "", "verify", path)
		require.NoError(t, err)
		assert.Contains(t, stdout, "ok: "+path+" holds ")
		assert.Contains(t, stdout, "records of certification "+d.certID+", chained and unaltered (csv); head ")

		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		file, err := export.Read(bytes.NewReader(raw), "")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(file.Records), 3)
		for i, item := range d.items {
			r := file.Records[i]
			assert.Equal(t, item, r.ItemID)
			assert.Equal(t, "slack", r.Frontend)
			assert.Equal(t, "U_REVIEWER", r.DecidedByID)
			assert.NotEmpty(t, r.PlanDigest)
			assert.True(t, r.EvidenceShown)
		}
		assert.Equal(t, "=1+1 is not a formula here", file.Records[2].Comments)
		assert.Contains(t, string(raw), ",'=1+1 is not a formula here,", "defused for spreadsheets")

		for _, tt := range []struct {
			name, text, want string
		}{
			{"a record deleted", dropRecord(t, string(raw), 1), "line 3: the chain breaks at record 2 (seq 3)"},
			{"a comment altered", strings.Replace(string(raw), "still in the role", "still in the rule", 1), "line 2: the chain breaks at record 1"},
			{"the last record deleted", dropRecord(t, string(raw), len(file.Records)-1), "is missing from its end"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				bad := filepath.Join(t.TempDir(), "tampered.csv")
				require.NoError(t, os.WriteFile(bad, []byte(tt.text), 0o600))
				stdout, _, err := runCmd(t, "", "verify", bad)
				require.Error(t, err)
				assert.Empty(t, stdout)
				assert.Contains(t, err.Error(), "verify "+bad+": ")
				assert.Contains(t, err.Error(), tt.want)
			})
		}
	})

	t.Run("jsonl to standard output, verified from standard input", func(t *testing.T) {
		stdout, stderr, err := runCmd(t, "", "export", "--cert", d.certID, "--format", "jsonl")
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "(jsonl) to standard output")
		assert.True(t, strings.HasPrefix(stdout, `{"seq":1,`), stdout)

		out, _, err := runCmd(t, stdout, "verify", "-")
		require.NoError(t, err)
		assert.Contains(t, out, "ok: - holds")

		lines := strings.SplitAfter(stdout, "\n")
		lines[0], lines[1] = lines[1], lines[0]
		_, _, err = runCmd(t, strings.Join(lines, ""), "verify", "-")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 1: the chain breaks at record 1 (seq 2)")
		_, _, err = runCmd(t, dropRecord(t, stdout, 0), "verify", "--format", "jsonl", "-")
		assert.ErrorContains(t, err, "does not start with its first record")
	})

	t.Run("each export is in the audit trail, by the command-line user", func(t *testing.T) {
		evs, err := d.st.ListEvents(context.Background(), certs.EventFilter{CertificationID: d.certID})
		require.NoError(t, err)
		var by []string
		for _, e := range evs {
			if e.Action == certs.ActionExport {
				by = append(by, string(e.Actor.Frontend)+":"+e.Actor.ID)
				assert.Contains(t, e.Detail, "head ")
			}
		}
		assert.Equal(t, []string{"cli:auditor-jane", "cli:tester"}, by)
	})

	t.Run("refusals", func(t *testing.T) {
		_, _, err := runCmd(t, "", "export", "--cert", "no-such-cert")
		assert.ErrorContains(t, err, "export: ")
		_, _, err = runCmd(t, "", "export")
		assert.ErrorContains(t, err, "give the certification with --cert ID")
		_, _, err = runCmd(t, "", "export", "--cert", d.certID, "--format", "xlsx")
		assert.ErrorContains(t, err, `"xlsx" is neither csv nor jsonl`)
		_, _, err = runCmd(t, "", "export", "--cert", "../etc")
		assert.ErrorContains(t, err, "--cert")
	})
}

func TestVerifyNeedsNoConfiguration(t *testing.T) {
	recs := []certs.EvidenceRecord{
		{CertificationID: "cert-1", Kind: certs.EvidenceKindDecision, Source: certs.EvidenceSourceISC, ItemID: "item-1", Decision: "APPROVE"},
		{CertificationID: "cert-1", Kind: certs.EvidenceKindSignOff, Source: certs.EvidenceSourceISC},
	}
	certs.ChainEvidence(recs)
	data, err := export.Bytes(export.CSV, recs)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "e.csv")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	stdout, _, err := runCmd(t, "", "verify", path)
	require.NoError(t, err)
	assert.Contains(t, stdout, "holds 2 records of certification cert-1")
	assert.Contains(t, stdout, "head "+recs[1].Hash)

	_, _, err = runCmd(t, "", "verify", filepath.Join(t.TempDir(), "missing.csv"))
	assert.ErrorContains(t, err, "no such file")
	_, _, err = runCmd(t, "not,an,export\n", "verify", "-")
	assert.ErrorContains(t, err, "line 1: the header is not an evidence export's")
	_, _, err = runCmd(t, "", "verify")
	assert.ErrorContains(t, err, "give one file")
}

func TestUsage(t *testing.T) {
	_, stderr, err := runCmd(t, "", "-h")
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr, "usage: certops-audit <command>")
	assert.Contains(t, stderr, "export --cert ID")
	assert.Contains(t, stderr, "verify [--format csv|jsonl] FILE")
	_, _, err = runCmd(t, "")
	assert.ErrorContains(t, err, "give a command: export or verify")
	_, _, err = runCmd(t, "", "delete")
	assert.ErrorContains(t, err, `unknown command "delete"`)
	stdout, _, err := runCmd(t, "", "help")
	require.NoError(t, err)
	assert.Contains(t, stdout, "usage: certops-audit")
	_, stderr, _ = runCmd(t, "", "export", "-h")
	assert.Contains(t, stderr, "-cert")
}
