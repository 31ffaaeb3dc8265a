package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

// decideCert1 has Alice approve item-1 and revoke item-2 of cert-1 through
// the Service, as decide would.
func decideCert1(t *testing.T, b *testBundle) {
	t.Helper()
	ctx := context.Background()
	p, err := b.svc.PlanDecisions(ctx, testActor, certs.DecisionInput{CertificationID: "cert-1", Decisions: []certs.ItemDecision{
		{ItemID: "item-1", Decision: certs.DecisionApprove},
		{ItemID: "item-2", Decision: certs.DecisionRevoke, Comments: "moved to sales"},
	}})
	require.NoError(t, err)
	r, err := b.svc.SubmitPlan(ctx, testActor, p.ID, p.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateCompleted, r.State, r.Error)
}

func TestExportReviewEvidence(t *testing.T) {
	s, b := setup(t, testConfig{})
	decideCert1(t, b)

	for _, format := range []string{"", "csv", "jsonl"} {
		t.Run("format "+format, func(t *testing.T) {
			res := callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "format": format})
			require.False(t, res.IsError, resultText(res))
			out := structured[EvidenceExportOut](t, res)
			want := export.CSV
			if format == "jsonl" {
				want = export.JSONL
			}
			assert.Equal(t, string(want), out.Format)
			assert.Equal(t, 2, out.Records)
			assert.Equal(t, 1, out.From)
			assert.Equal(t, 2, out.To)
			assert.Empty(t, out.NextCursor)

			file, chain, err := export.Verify(strings.NewReader(out.Content), "")
			require.NoError(t, err, "the content verifies as it is")
			assert.Equal(t, want, file.Format)
			assert.Equal(t, out.Head, chain.Head)
			assert.Equal(t, "item-2", file.Records[1].ItemID)
			assert.Equal(t, "moved to sales", file.Records[1].Comments)
			assert.Equal(t, "mcp", file.Records[1].Frontend)
			assert.Equal(t, "alice-laptop", file.Records[1].DecidedByID)

			assert.Contains(t, resultText(res), "Review evidence of certification cert-1: 2 records ("+string(want)+"), head hash "+out.Head)
			assert.Contains(t, resultText(res), "certops-audit verify FILE")
			// The file itself, as an embedded resource.
			require.Len(t, res.Content, 2)
			er, ok := res.Content[1].(mcp.EmbeddedResource)
			require.True(t, ok, "%T", res.Content[1])
			trc, ok := er.Resource.(mcp.TextResourceContents)
			require.True(t, ok, "%T", er.Resource)
			assert.Equal(t, out.Content, trc.Text)
			assert.Equal(t, want.MediaType(), trc.MIMEType)
			assert.Equal(t, "certops://evidence/cert-1/1-2"+want.Extension(), trc.URI)
		})
	}
}

func TestExportReviewEvidence_pagesConcatenateToTheFile(t *testing.T) {
	s, b := setup(t, testConfig{})
	ids := addItems(b.tenant, 5)
	ctx := context.Background()
	var ds []certs.ItemDecision
	for _, id := range ids {
		ds = append(ds, certs.ItemDecision{ItemID: id, Decision: certs.DecisionApprove})
	}
	p, err := b.svc.PlanDecisions(ctx, testActor, certs.DecisionInput{CertificationID: "cert-1", Decisions: ds})
	require.NoError(t, err)
	_, err = b.svc.SubmitPlan(ctx, testActor, p.ID, p.Digest)
	require.NoError(t, err)

	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var file strings.Builder
			cursor, pages := "", 0
			for {
				args := map[string]any{"certification_id": "cert-1", "format": format, "limit": 2}
				if cursor != "" {
					args["cursor"] = cursor
				}
				res := callTool(t, s, "export_review_evidence", args)
				require.False(t, res.IsError, resultText(res))
				out := structured[EvidenceExportOut](t, res)
				pages++
				file.WriteString(out.Content)
				if out.NextCursor == "" {
					assert.Equal(t, 5, out.To)
					break
				}
				assert.Contains(t, resultText(res), "More: call again with cursor")
				cursor = out.NextCursor
			}
			assert.Equal(t, 3, pages)
			_, chain, err := export.Verify(strings.NewReader(file.String()), "")
			require.NoError(t, err)
			assert.Equal(t, 5, chain.Records)
		})
	}

	t.Run("a cursor from before a decision", func(t *testing.T) {
		first := structured[EvidenceExportOut](t, callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "limit": 2}))
		require.NotEmpty(t, first.NextCursor)
		p, err := b.svc.PlanDecisions(ctx, testActor, certs.DecisionInput{CertificationID: "cert-1", Decisions: []certs.ItemDecision{{ItemID: ids[0], Decision: certs.DecisionRevoke, Comments: "not needed"}}})
		require.NoError(t, err)
		_, err = b.svc.SubmitPlan(ctx, testActor, p.ID, p.Digest)
		require.NoError(t, err)
		res := callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "limit": 2, "cursor": first.NextCursor})
		assertError(t, res, certs.EINVALID, "changed since its first page", "start again without cursor")
	})
	t.Run("a cursor of another query", func(t *testing.T) {
		first := structured[EvidenceExportOut](t, callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "limit": 2}))
		res := callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "format": "jsonl", "limit": 2, "cursor": first.NextCursor})
		assertError(t, res, certs.EINVALID, "cursor belongs to another certification's export, or to the other format")
		res = callTool(t, s, "export_review_evidence", map[string]any{"certification_id": "cert-1", "cursor": "garbage!"})
		assertError(t, res, certs.EINVALID, "cursor is not one this tool returned")
	})
}

func TestExportReviewEvidence_refusals(t *testing.T) {
	s, b := setup(t, testConfig{})
	decideCert1(t, b)
	carol := certs.Actor{ID: "carol-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-carol"}
	res := callToolAs(t, s, carol, map[string]any{"name": "export_review_evidence", "arguments": map[string]any{"certification_id": "cert-1"}})
	assertError(t, res, certs.EFORBIDDEN, "cert-1")

	res = callToolAs(t, s, carol, map[string]any{"name": "export_review_evidence", "arguments": map[string]any{"certification_id": "cert-carol"}})
	require.False(t, res.IsError, resultText(res))
	assert.Contains(t, resultText(res), "Certification cert-carol has no decisions to export yet.")

	for _, tt := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"no certification", map[string]any{}, []string{"certification_id"}},
		{"a format it does not write", map[string]any{"certification_id": "cert-1", "format": "xlsx"}, []string{"format must be csv or jsonl", "xlsx"}},
		{"a page too large", map[string]any{"certification_id": "cert-1", "limit": 501}, []string{"limit must be between 1 and 500"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assertError(t, callTool(t, s, "export_review_evidence", tt.args), certs.EINVALID, tt.want...)
		})
	}
}
