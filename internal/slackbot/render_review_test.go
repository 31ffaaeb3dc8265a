package slackbot

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// The review's messages, pinned like the others (render_test.go).
// Regenerate with: UPDATE_GOLDEN=1 go test ./internal/slackbot -run TestRenderReviewGolden
func TestRenderReviewGolden(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := &renderer{now: func() time.Time { return now }, command: "/certs", certURL: "https://acme.identitynow.example/ui/certifications/{id}"}
	due := now.Add(3 * 24 * time.Hour)
	cert := certs.Certification{ID: "ef38f94347e94562b5bb8424a56397d8", Name: "Manager review: Alice <Q4>",
		Campaign: certs.Campaign{ID: "2c918083", Name: "Q4 2026 managers", CampaignType: certs.CampaignManager, MandatoryCommentRequirement: certs.CommentsOnRevoke},
		Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice Liddell", Email: "alice@example.com"}, Phase: certs.PhaseActive,
		Due: &due, DecisionsMade: 1, DecisionsTotal: 3, IdentitiesCompleted: 0, IdentitiesTotal: 2}
	done := cert
	done.DecisionsMade, done.Completed, done.IdentitiesCompleted = 3, true, 2 // ISC: every item decided, not signed
	signed := done
	signedAt := now.Add(-time.Minute)
	signed.Phase, signed.Signed, signed.Completed = certs.PhaseSigned, &signedAt, true

	alice := certs.Actor{ID: "UALICE001", Name: "Alice Liddell", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-alice"}
	admin := certs.Actor{ID: "UADMIN008", Name: "Admin", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-admin"}
	reviewer := seat{Actor: alice, CanDecide: true}
	onBehalf := seat{Actor: admin, CanDecide: true, OnBehalf: "Alice is on leave until the campaign ends"}
	looker := seat{Actor: admin, WhyNot: `you are not the reviewer of certification "Manager review: Alice <Q4>" (Alice Liddell): an admin deciding on the reviewer's behalf must give a reason (a reason is required)`}

	bob := reviewee{Summary: "sum-bob", Identity: "id-bob", Name: "Bob Worker"}
	admin1 := certs.ReviewItem{ID: "item-1", NewAccess: true, IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Worker", IdentityID: "id-bob"},
		Access: certs.Access{Type: certs.AccessEntitlement, ID: "acc-1", Name: "payroll_admin", SourceName: "Payroll", Privileged: true, HasPermissions: true}}
	viewer := certs.ReviewItem{ID: "item-2", Decision: certs.DecisionApprove, Completed: true, Comments: "still on payroll",
		IdentitySummary: admin1.IdentitySummary, Access: certs.Access{Type: certs.AccessAccessProfile, ID: "acc-2", Name: "Finance readers"}}
	revoked := certs.ReviewItem{ID: "item-3", Decision: certs.DecisionRevoke, Completed: true, Comments: "moved to sales",
		IdentitySummary: admin1.IdentitySummary, Access: certs.Access{Type: certs.AccessRole, ID: "acc-3", Name: "Payroll clerk"}}
	bob.Items = []certs.ReviewItem{admin1, viewer, revoked}
	facts := certs.PersonFacts{ID: "id-bob", Name: "Bob Worker", Email: "bob@example.com"}
	manager := &certs.PersonFacts{ID: "id-carol", Name: "Carol Owner", Email: "carol@example.com"}
	evidence := []certs.ItemEvidence{
		{Item: admin1, Identity: facts, Manager: manager, Peers: 0,
			Reassigned: &certs.ReassignedFact{From: "Dave", Reason: "Alice owns payroll", RequestID: "req-9", By: "Dave", Source: "certops"},
			Remarks: []certs.Remark{
				{Text: "privileged and new since the last review", Facts: []string{"access.privileged is true", "newAccess is true"}},
				{Text: "the only holder of this access in the certification", Facts: []string{`no other identity in certification "Manager review: Alice <Q4>" has entitlement "payroll_admin"`}},
				{Text: "came to you by a reassignment", Facts: []string{"reassigned from Dave by certops request req-9, asked by Dave: Alice owns payroll"}},
			}},
		{Item: viewer, Identity: facts, Manager: manager, Peers: 4,
			Decided: &certs.DecidedFact{Decision: certs.DecisionApprove, Comments: "still on payroll", By: "Alice Liddell", At: "2026-11-23 11:50 UTC", RequestID: "req-10"}},
		{Item: revoked, Identity: facts, Manager: manager, Peers: 1,
			Decided: &certs.DecidedFact{Decision: certs.DecisionRevoke, Comments: "moved to sales"}},
	}
	person := func(c certs.Certification, st seat) personView {
		return personView{Cert: &c, Seat: st, Head: "1700000000.000001", Who: bob, Page: 0, Pages: 1, Open: 1, Items: evidence}
	}
	many := person(cert, reviewer)
	many.Pages, many.Page = 3, 1
	ownView := person(cert, seat{Actor: certs.Actor{ID: "UBOB00002", Name: "Bob Worker", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-bob"}, CanDecide: true, OnBehalf: "Alice is on leave"})

	signOff := &certs.Plan{ID: "plan-9", Kind: certs.KindSignOff, Digest: "5f1c2a", CertificationID: cert.ID, CertificationName: cert.Name}
	rest := &certs.Plan{ID: "plan-8", Kind: certs.KindDecide, Digest: "a41b7c", CertificationID: cert.ID, CertificationName: cert.Name,
		ItemCount: 1, IdentityNames: []string{"Bob Worker"},
		Decisions: []certs.DecisionCall{{CertificationID: cert.ID, Items: []certs.ItemDecision{{ItemID: "item-1", Decision: certs.DecisionApprove}}}},
		Summary:   `In certification "Manager review: Alice <Q4>" (campaign "Q4 2026 managers"), approve 1 item and revoke 0 items (1 identity: Bob Worker), in 1 call.`,
		Evidence:  evidence[:1]}
	ref := reviewRef{Cert: cert.ID, Summary: "sum-bob", Identity: "id-bob", Head: "1700000000.000001", Msg: "1700000000.000002", Rule: certs.CommentsOnRevoke}
	req := func(p *certs.Plan, state certs.RequestState, mod func(*certs.Request)) *certs.Request {
		q := &certs.Request{ID: p.ID, Plan: *p, Requester: alice, DecidedBy: &alice, State: state, Created: now.Add(-time.Minute)}
		if mod != nil {
			mod(q)
		}
		return q
	}

	cases := map[string]message{
		"review-head":          r.reviewHead(&cert, reviewer, nil),
		"review-head-signoff":  r.reviewHead(&done, reviewer, signOff),
		"review-head-signed":   r.reviewHead(&signed, reviewer, nil),
		"review-head-looker":   r.reviewHead(&cert, looker, nil),
		"review-head-behalf":   r.reviewHead(&cert, onBehalf, nil),
		"review-person":        r.reviewPerson(person(cert, reviewer)),
		"review-person-paged":  r.reviewPerson(many),
		"review-person-looker": r.reviewPerson(person(cert, looker)),
		"review-person-behalf": r.reviewPerson(person(cert, onBehalf)),
		"review-person-own":    r.reviewPerson(ownView),
		"review-person-signed": r.reviewPerson(person(signed, reviewer)),
		"review-more":          r.reviewMore(reviewRef{Cert: cert.ID, Page: 10, Head: "1700000000.000001"}, 0, 10, 37, false),
		"review-opened":        r.reviewOpened(&cert, 2, "D0ALICE01"),
		"review-confirm":       r.reviewConfirm(rest, ref),
		"review-done-several":  r.reviewSubmitted(req(rest, certs.StateCompleted, nil), true),
		"review-waiting":       r.reviewSubmitted(req(rest, certs.StateSubmitting, func(q *certs.Request) { q.WaitingFor = "req-7" }), false),
		"review-failed": r.reviewSubmitted(req(rest, certs.StateFailed, func(q *certs.Request) {
			q.Error = "No decision was recorded. call 1 of 1 (1 review item): refused by SailPoint"
		}), false),
		"review-signed-off":     r.reviewSubmitted(req(signOff, certs.StateCompleted, nil), false),
		"review-already":        r.reviewAlready(req(signOff, certs.StateCompleted, nil)),
		"review-later":          r.reviewLater(req(rest, certs.StateCompleted, nil)),
		"review-status":         r.requestStatus(req(rest, certs.StateCompleted, nil)),
		"review-status-unknown": r.requestStatus(req(rest, certs.StateSubmitting, func(q *certs.Request) { q.Tasks = []certs.RequestTask{{Call: 0, State: certs.CallUnknown}} })),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := json.MarshalIndent(struct {
				Text   string        `json:"text"`
				Blocks []slack.Block `json:"blocks"`
			}{m.Text, m.Blocks}, "", "  ")
			require.NoError(t, err)
			checkGolden(t, name, got)
		})
	}
	for name, meta := range map[string]reviewModalMeta{
		"review-modal-revoke": {Ref: reviewRef{Cert: cert.ID, Item: "item-1", Rule: certs.CommentsOnRevoke}.String(), Decision: certs.DecisionRevoke},
		"review-modal-rest":   {Ref: reviewRef{Cert: cert.ID, Rule: certs.CommentsOnAll}.String(), Decision: certs.DecisionApprove, Rest: true},
	} {
		t.Run(name, func(t *testing.T) {
			ref, ok := parseReviewRef(meta.Ref)
			require.True(t, ok)
			line := ""
			if ref.Item != "" {
				line = r.evidenceLine(evidence[0], false)
			}
			got, err := json.MarshalIndent(r.reviewModal(ref, meta, line, `{"ref":"…"}`), "", "  ")
			require.NoError(t, err)
			checkGolden(t, name, got)
		})
	}
}
