package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

// aliceDecides has Alice decide two items of cert-1 through the Service,
// as /certs review would.
func (b *bundle) aliceDecides(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	p, err := b.svc.PlanDecisions(ctx, b.actor(alice), certs.DecisionInput{CertificationID: "cert-1", Decisions: []certs.ItemDecision{
		{ItemID: "item-1", Decision: certs.DecisionRevoke, Comments: "payroll admin no longer needed"},
		{ItemID: "item-3", Decision: certs.DecisionApprove},
	}})
	require.NoError(t, err)
	r, err := b.svc.SubmitPlan(ctx, b.actor(alice), p.ID, p.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateCompleted, r.State, r.Error)
}

// run types text as user and returns the answer posted to the command's
// response_url.
func (b *bundle) run(t *testing.T, user, text string) (ack, hookPost) {
	t.Helper()
	n := len(b.hooks.Posts())
	code, a := b.command(t, user, text)
	require.Equal(t, http.StatusOK, code)
	return a, b.reply(t, n+1)
}

func TestEvidenceCommand_sendsTheExportAsAFileInADirectMessage(t *testing.T) {
	b := setup(t)
	b.aliceDecides(t)

	for _, tt := range []struct {
		text   string
		format export.Format
	}{
		{"evidence cert-1", export.CSV},
		{"evidence cert-1 jsonl", export.JSONL},
	} {
		t.Run(tt.text, func(t *testing.T) {
			before := len(b.slack.Files())
			a, reply := b.run(t, alice, tt.text)
			assert.Contains(t, a.Text, "Working on `/certs evidence`")

			files := b.slack.Files()
			require.Len(t, files, before+1)
			f := files[before]
			assert.True(t, f.Completed, "shared")
			assert.Equal(t, []string{alice}, f.Channels, "shared with Alice (her DM with the app), not in the channel")
			assert.Empty(t, f.Channel)
			assert.Equal(t, "review-evidence-cert-1"+tt.format.Extension(), f.Name)
			assert.Equal(t, "Review evidence: Alice's Q4 review", f.Title)

			read, chain, err := export.Verify(bytes.NewReader(f.Content), "")
			require.NoError(t, err, "the file verifies")
			assert.Equal(t, tt.format, read.Format)
			assert.Equal(t, "cert-1", chain.CertificationID)
			// 2 decisions through certops, 3 decided in ISC before.
			require.Len(t, read.Records, 5)
			assert.Equal(t, "item-1", read.Records[0].ItemID)
			assert.Equal(t, "slack", read.Records[0].Frontend)
			assert.Equal(t, alice, read.Records[0].DecidedByID)
			assert.Equal(t, "payroll admin no longer needed", read.Records[0].Comments)
			assert.Equal(t, certs.EvidenceSourceISC, read.Records[4].Source)

			assert.Contains(t, f.Comment, "Review evidence of certification *Alice's Q4 review* (`cert-1`): 5 records (2 made through certops, 3 found in ISC)")
			assert.Contains(t, f.Comment, "`"+chain.Head+"`")
			assert.Contains(t, f.Comment, "certops-audit verify "+f.Name)
			assert.Contains(t, reply.Body.Text, "Sent you the review evidence of certification *Alice's Q4 review* (`cert-1`) as a direct message: `"+f.Name+"`, 5 records")
			assert.Equal(t, slack.ResponseTypeEphemeral, reply.Body.ResponseType)
		})
	}

	t.Run("each export is in the audit trail", func(t *testing.T) {
		n := 0
		for _, e := range b.store.Events() {
			if e.Action == certs.ActionExport && e.CertificationID == "cert-1" {
				n++
				assert.Equal(t, alice, e.Actor.ID)
				assert.Equal(t, certs.FrontendSlack, e.Actor.Frontend)
			}
		}
		assert.Equal(t, 2, n)
	})
}

func TestEvidenceCommand_whoMayExport(t *testing.T) {
	b := setup(t)
	b.aliceDecides(t)

	t.Run("another reviewer is told why not, and gets nothing", func(t *testing.T) {
		_, reply := b.run(t, bob, "evidence cert-1")
		assert.Contains(t, reply.Body.Text, ":no_entry: You do not review certification")
		assert.Empty(t, b.slack.Files())
		assert.Empty(t, b.slack.Calls("files.getUploadURLExternal"))
	})
	t.Run("an admin may", func(t *testing.T) {
		_, reply := b.run(t, admin, "evidence cert-1")
		assert.Contains(t, reply.Body.Text, "Sent you the review evidence")
		files := b.slack.Files()
		require.Len(t, files, 1)
		assert.Equal(t, []string{admin}, files[0].Channels)
	})
	t.Run("nothing decided: nothing sent", func(t *testing.T) {
		_, reply := b.run(t, bob, "evidence cert-b")
		assert.Contains(t, reply.Body.Text, "Certification `cert-b` has no decisions to export yet; nothing was sent.")
		assert.Len(t, b.slack.Files(), 1)
	})
}

func TestEvidenceCommand_usageAndSlackFailures(t *testing.T) {
	b := setup(t)
	b.aliceDecides(t)
	for _, text := range []string{"evidence", "evidence cert-1 xlsx", "evidence cert-1 csv extra", "evidence ../x"} {
		t.Run(text, func(t *testing.T) {
			code, a := b.command(t, alice, text)
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, a.Text, "Usage: `/certs evidence &lt;cert&gt; [csv|jsonl]`")
		})
	}
	t.Run("Slack refuses the upload", func(t *testing.T) {
		b.slack.fail("files.getUploadURLExternal", failure{status: http.StatusOK, body: `{"ok":false,"error":"missing_scope","needed":"files:write"}`})
		_, reply := b.run(t, alice, "evidence cert-1")
		assert.Contains(t, reply.Body.Text, ":cloud: The export of certification cert-1 was made (and recorded in the audit trail) but Slack did not take the file")
		assert.Contains(t, reply.Body.Text, "missing_scope")
		assert.Empty(t, b.slack.Files())
	})
}

// The messages people read, pinned like the renderer's others
// (UPDATE_GOLDEN=1 regenerates them).
func TestEvidenceRenderGolden(t *testing.T) {
	r := &renderer{command: "/certs"}
	recs := []certs.EvidenceRecord{
		{CertificationID: "cert-1", CertificationName: "Manager review: Alice <Q4>", Source: certs.EvidenceSourceCertops, Kind: certs.EvidenceKindDecision},
		{CertificationID: "cert-1", CertificationName: "Manager review: Alice <Q4>", Source: certs.EvidenceSourceISC, Kind: certs.EvidenceKindDecision},
	}
	certs.ChainEvidence(recs)
	for name, m := range map[string]message{
		"evidence-sent": r.evidenceSent(recs, "review-evidence-cert-1.csv"),
		"evidence-none": r.evidenceNone("cert-1"),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(struct {
				Text   string        `json:"text"`
				Blocks []slack.Block `json:"blocks"`
			}{m.Text, m.Blocks}, "", "  ")
			require.NoError(t, err)
			checkGolden(t, name, got)
		})
	}
	comment := r.evidenceComment(recs, export.CSV, "review-evidence-cert-1.csv")
	assert.Equal(t, "Review evidence of certification *Manager review: Alice &lt;Q4&gt;* (`cert-1`): 2 records (1 made through certops, 1 found in ISC), CSV.\n"+
		"Each record carries the hash of the one before; the last is `"+recs[1].Hash+"`, which certops's audit trail records with this export.\n"+
		"Check the file with `certops-audit verify review-evidence-cert-1.csv`.", comment)
	assert.False(t, strings.Contains(comment, "<Q4>"), "escaped")
}
