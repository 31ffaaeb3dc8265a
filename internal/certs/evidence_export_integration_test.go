package certs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// The export of a certification reviewed through certops against the
// sandbox over HTTP, on both stores: decisions from two front ends, one
// changed, the rest approved, signed off; the export verifies, names each
// decision's person, front end and plan digest, and only the reviewer and
// admins may take it.
func TestExportReviewEvidence_sandbox(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st.open, certs.CommentsOnRevoke, 3, 0)
			a, b := w.open[0].ID, w.open[1].ID
			first, err := w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{
				{ItemID: a, Decision: certs.DecisionApprove},
				{ItemID: b, Decision: certs.DecisionRevoke, Comments: "left the team"},
			}})
			require.NoError(t, err)
			bySlack := w.rev
			bySlack.ID, bySlack.Frontend = "U_REVIEWER", certs.FrontendSlack
			_, err = w.decide(t, bySlack, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: b, Decision: certs.DecisionApprove}}})
			require.NoError(t, err, "changed before sign-off, in Slack")
			_, err = w.decide(t, w.rev, certs.DecisionInput{Select: &certs.ItemSelection{}, SelectDecision: certs.DecisionApprove})
			require.NoError(t, err, "approve the rest")
			p, err := w.svc.PlanSignOff(ctx, w.rev, w.cert.ID, "")
			require.NoError(t, err)
			_, err = w.svc.SubmitPlan(ctx, w.rev, p.ID, p.Digest)
			require.NoError(t, err)

			recs, err := w.svc.ExportReviewEvidence(ctx, w.rev, w.cert.ID)
			require.NoError(t, err)
			chain, err := certs.VerifyEvidence(recs)
			require.NoError(t, err)
			assert.Equal(t, len(recs), chain.Records)
			assert.Equal(t, w.cert.ID, chain.CertificationID)

			require.GreaterOrEqual(t, len(recs), 4)
			assert.Equal(t, a, recs[0].ItemID)
			assert.Equal(t, "mcp", recs[0].Frontend)
			assert.Equal(t, first.Plan.Digest, recs[0].PlanDigest)
			assert.True(t, recs[0].EvidenceShown)
			assert.Equal(t, b, recs[1].ItemID)
			assert.Equal(t, "REVOKE", recs[1].Decision)
			assert.Equal(t, "left the team", recs[1].Comments)
			assert.False(t, recs[1].Current, "changed afterwards")
			assert.Equal(t, b, recs[2].ItemID)
			assert.Equal(t, "slack", recs[2].Frontend)
			assert.Equal(t, "U_REVIEWER", recs[2].DecidedByID)
			assert.True(t, recs[2].Current)
			assert.Contains(t, recs[2].PriorDecision, "REVOKE by "+w.rev.Name)
			last := recs[len(recs)-1]
			assert.Equal(t, certs.EvidenceKindSignOff, last.Kind)
			assert.Equal(t, p.Digest, last.PlanDigest)
			for _, r := range recs[:len(recs)-1] {
				assert.Equal(t, certs.EvidenceKindDecision, r.Kind)
				if r.Source == certs.EvidenceSourceISC {
					// The sandbox's seed decided some items before.
					assert.Empty(t, r.PlanDigest)
					assert.Contains(t, r.Note, "not through certops")
					continue
				}
				assert.Equal(t, certs.EvidenceSourceCertops, r.Source)
				assert.NotEmpty(t, r.PlanDigest, "item %s decided through certops", r.ItemID)
				assert.NotZero(t, r.AuditSeq)
			}

			admin, err := w.two.ExportReviewEvidence(ctx, slackAlice, w.cert.ID)
			require.NoError(t, err, "an admin, on the other replica")
			assert.Len(t, admin, len(recs))
			other := certs.Actor{ID: "tok-other", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: w.open[0].IdentitySummary.IdentityID}
			_, err = w.svc.ExportReviewEvidence(ctx, other, w.cert.ID)
			requireCode(t, certs.EFORBIDDEN, err)

			evs, err := w.svc.ListAudit(ctx, slackAlice, certs.EventFilter{CertificationID: w.cert.ID, Limit: 1000})
			require.NoError(t, err)
			exports := 0
			for _, e := range evs {
				if e.Action == certs.ActionExport && e.Count == len(recs) {
					exports++
					assert.Contains(t, e.Detail, "head "+chain.Head)
				}
			}
			assert.Equal(t, 2, exports, "each export is in the audit trail")
		})
	}
}
