package certs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestPlanReassignment_describesExactlyWhatMoves(t *testing.T) {
	f := setup(t, certs.Policy{})
	ctx := context.Background()

	p, err := f.svc.PlanReassignment(ctx, bob, certs.PlanInput{
		CertificationID: certID,
		ItemIDs:         []string{"item-d1", "item-a2", "item-a1", "item-a2"}, // a duplicate
		Target:          "carol.diaz@EXAMPLE.com",                             // resolved by email, case-insensitively
		Reason:          "  Bob is on leave  ",
	})
	require.NoError(t, err)

	assert.Equal(t, "id001", p.ID)
	assert.Equal(t, 3, p.ItemCount, "duplicates count once")
	assert.Equal(t, []certs.Ref{{ID: "item-a1", Type: certs.RefItem}, {ID: "item-a2", Type: certs.RefItem}, {ID: "item-d1", Type: certs.RefItem}}, p.Refs)
	assert.Equal(t, "id-carol", p.To.ID)
	assert.Equal(t, "id-bob", p.From.ID)
	assert.Equal(t, []string{"Ana Silva", "Dan Ray"}, p.IdentityNames)
	assert.Equal(t, "Bob is on leave", p.Reason)
	require.Len(t, p.Calls, 1)
	assert.True(t, p.Sync, "at most 50 items: one synchronous call")
	assert.Equal(t, certs.Reassignment{CertificationID: certID, Refs: p.Refs, To: "id-carol", Reason: "Bob is on leave"}, p.Calls[0])
	assert.Equal(t, `Move 3 review items (2 identities: Ana Silva, Dan Ray) of certification "Q3 Manager Review – Bob" (campaign "Q3 Manager Review") from Bob Smith to Carol Diaz (Carol.Diaz@example.com), in 1 synchronous call. Reason: Bob is on leave`, p.Summary)
	assert.Len(t, p.Digest, 16)
	assert.Contains(t, strings.Join(p.Warnings, "\n"), "Carol Diaz is not a reviewer in campaign \"Q3 Manager Review\" yet")

	stored, err := f.store.GetPlan(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.Digest, stored.Digest)
	evs := f.store.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, certs.ActionPlanCreated, evs[0].Action)
	assert.Equal(t, 3, evs[0].Count)
	assert.Equal(t, certID, evs[0].CertificationID)
	assert.Equal(t, bob, evs[0].Actor)
	assert.Zero(t, f.tenant.Calls("ReassignAsync")+f.tenant.Calls("Reassign"), "planning changes nothing")
}

func TestPlanReassignment_selectionModes(t *testing.T) {
	tests := []struct {
		name  string
		in    certs.PlanInput
		items []string
	}{
		{"identity ids take the identity's open items", certs.PlanInput{IdentityIDs: []string{"id-dan"}}, []string{"item-d1"}},
		{"identity summary ids take the summary's open items", certs.PlanInput{IdentitySummaryIDs: []string{"sum-id-ana", "sum-id-ana"}}, []string{"item-a1", "item-a2"}},
		{"several identities", certs.PlanInput{IdentityIDs: []string{"id-dan", "id-ana"}}, []string{"item-a1", "item-a2", "item-d1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, certs.Policy{})
			in := tt.in
			in.CertificationID, in.Target, in.Reason = certID, "id-carol", "leave"
			p, err := f.svc.PlanReassignment(context.Background(), admin, in)
			require.NoError(t, err)
			var got []string
			for _, r := range p.Refs {
				assert.Equal(t, certs.RefItem, r.Type)
				got = append(got, r.ID)
			}
			assert.Equal(t, tt.items, got)
		})
	}
}

func TestPlanReassignment_splitsIntoCalls(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		sync  bool
		calls []int
		err   string
	}{
		{"1 item: one synchronous call", 1, true, []int{1}, ""},
		{"500 items", 500, false, []int{500}, ""},
		{"501 items", 501, false, []int{500, 1}, ""},
		{"1200 items", 1200, false, []int{500, 500, 200}, ""},
		{"5000 items", 5000, false, []int{500, 500, 500, 500, 500, 500, 500, 500, 500, 500}, ""},
		{"5001 items", 5001, false, nil, "5001 review items selected; one plan moves at most 5000"},
		{"50 items: one synchronous call", 50, true, []int{50}, ""},
		{"51 items: asynchronous", 51, false, []int{51}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, certs.Policy{})
			addItems(f.tenant, certID, "id-many", "Many Items", tt.n)
			p, err := f.svc.PlanReassignment(context.Background(), admin, certs.PlanInput{
				CertificationID: certID, IdentityIDs: []string{"id-many"}, Target: "id-carol", Reason: "split",
			})
			if tt.err != "" {
				requireCode(t, certs.EINVALID, err)
				assert.Contains(t, certs.ErrorMessage(err), tt.err)
				return
			}
			require.NoError(t, err)
			var sizes []int
			seen := map[string]bool{}
			for _, c := range p.Calls {
				sizes = append(sizes, len(c.Refs))
				for _, r := range c.Refs {
					assert.False(t, seen[r.ID], "ref %s in two calls", r.ID)
					seen[r.ID] = true
				}
			}
			assert.Equal(t, tt.calls, sizes)
			assert.Len(t, seen, tt.n)
			assert.Equal(t, tt.sync, p.Sync)
		})
	}
}

func TestPlanReassignment_refusesBadInputBeforeAnyChange(t *testing.T) {
	base := certs.PlanInput{CertificationID: certID, ItemIDs: []string{"item-a1"}, Target: "id-carol", Reason: "leave"}
	tests := []struct {
		name   string
		change func(*certs.PlanInput)
		actor  certs.Actor
		code   string
		msg    string
	}{
		{"reason missing", func(in *certs.PlanInput) { in.Reason = "" }, admin, certs.EINVALID, "a reason is required"},
		{"reason blank", func(in *certs.PlanInput) { in.Reason = " \n\t" }, admin, certs.EINVALID, "a reason is required"},
		{"reason too long", func(in *certs.PlanInput) { in.Reason = strings.Repeat("x", certs.MaxReasonLength+1) }, admin, certs.EINVALID, "reason is 1001 characters; at most 1000"},
		{"no selection", func(in *certs.PlanInput) { in.ItemIDs = nil }, admin, certs.EINVALID, "say what to reassign"},
		{"two selection modes", func(in *certs.PlanInput) { in.IdentityIDs = []string{"id-ana"} }, admin, certs.EINVALID, "got item ids and identity ids"},
		{"bad certification id", func(in *certs.PlanInput) { in.CertificationID = "../x" }, admin, certs.EINVALID, `certification id "../x"`},
		{"unknown certification", func(in *certs.PlanInput) { in.CertificationID = "cert-nope" }, admin, certs.ENOTFOUND, "cert-nope"},
		{"unknown item", func(in *certs.PlanInput) { in.ItemIDs = []string{"item-a1", "item-zz"} }, admin, certs.EINVALID, "not in certification \"Q3 Manager Review – Bob\": item-zz"},
		{"decided item", func(in *certs.PlanInput) { in.ItemIDs = []string{"item-d2"} }, admin, certs.EINVALID, "already decided and cannot be reassigned: item-d2 (Dan Ray: Access item-d2)"},
		{"identity without items", func(in *certs.PlanInput) { in.ItemIDs, in.IdentityIDs = nil, []string{"id-alice"} }, admin, certs.EINVALID, "no review items of 1 identity(s) in certification \"Q3 Manager Review – Bob\": id-alice"},
		{"target missing", func(in *certs.PlanInput) { in.Target = "" }, admin, certs.EINVALID, "a target is required"},
		{"unknown target email", func(in *certs.PlanInput) { in.Target = "nobody@example.com" }, admin, certs.ENOTFOUND, `no ISC identity has the email "nobody@example.com"`},
		{"malformed target email", func(in *certs.PlanInput) { in.Target = "carol@@example" }, admin, certs.EINVALID, `"carol@@example" is not a valid email address`},
		{"unknown target id", func(in *certs.PlanInput) { in.Target = "id-nobody" }, admin, certs.ENOTFOUND, `no ISC identity has the id "id-nobody"`},
		{"inactive target", func(in *certs.PlanInput) { in.Target = "gone@example.com" }, admin, certs.EINVALID, "Gone Person (gone@example.com) is INACTIVE_LONG_TERM"},
		{"target already reviews it", func(in *certs.PlanInput) { in.Target = "bob@example.com" }, admin, certs.EINVALID, "Bob Smith (bob@example.com) already reviews this certification"},
		{"self-review", func(in *certs.PlanInput) { in.ItemIDs = []string{"item-a1", "item-c1"} }, admin, certs.EINVALID, "Carol Diaz (Carol.Diaz@example.com) cannot review their own access: 1 of the selected review items are about it (item-c1)"},
		{"self-review by identity", func(in *certs.PlanInput) { in.ItemIDs, in.IdentityIDs = nil, []string{"id-carol"} }, admin, certs.EINVALID, "cannot review their own access"},
		{"reviewer on another's certification", func(in *certs.PlanInput) {}, eve, certs.EFORBIDDEN, "you do not review certification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, certs.Policy{})
			addItems(f.tenant, certID, "id-many", "Many Items", 60)
			in := base
			tt.change(&in)
			p, err := f.svc.PlanReassignment(context.Background(), tt.actor, in)
			assert.Nil(t, p)
			requireCode(t, tt.code, err)
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
			assert.Empty(t, f.store.Events(), "nothing recorded")
			assert.Zero(t, f.tenant.Calls("ReassignAsync")+f.tenant.Calls("Reassign"))
		})
	}
}

func TestPlanReassignment_signedCertificationIsRefused(t *testing.T) {
	f := setup(t, certs.Policy{})
	f.tenant.AddCertification(certs.Certification{ID: "cert-done", Name: "Done", Phase: certs.PhaseSigned, Completed: true, Reviewer: certs.Reviewer{ID: "id-bob"}})
	_, err := f.svc.PlanReassignment(context.Background(), admin, certs.PlanInput{CertificationID: "cert-done", ItemIDs: []string{"x"}, Target: "id-carol", Reason: "r"})
	requireCode(t, certs.EINVALID, err)
	assert.Contains(t, certs.ErrorMessage(err), `"Done" (cert-done) is signed off`)
}

func TestPlanReassignment_digest(t *testing.T) {
	base := certs.PlanInput{CertificationID: certID, ItemIDs: []string{"item-a1", "item-d1"}, Target: "id-carol", Reason: "leave"}
	f := setup(t, certs.Policy{})
	f.tenant.AddIdentity("id-erin", "Erin", "erin@example.com")
	ctx := context.Background()
	first, err := f.svc.PlanReassignment(ctx, admin, base)
	require.NoError(t, err)

	t.Run("same input, same digest", func(t *testing.T) {
		in := base
		in.ItemIDs = []string{"item-d1", "item-a1", "item-d1"} // order and duplicates do not matter
		in.Target = "carol.diaz@example.com"                   // the same identity by email
		p, err := f.svc.PlanReassignment(ctx, admin, in)
		require.NoError(t, err)
		assert.NotEqual(t, first.ID, p.ID)
		assert.Equal(t, first.Digest, p.Digest)
	})
	changes := map[string]func(*certs.PlanInput){
		"another item":   func(in *certs.PlanInput) { in.ItemIDs = []string{"item-a1", "item-a2"} },
		"one item less":  func(in *certs.PlanInput) { in.ItemIDs = []string{"item-a1"} },
		"another target": func(in *certs.PlanInput) { in.Target = "id-erin" },
		"another reason": func(in *certs.PlanInput) { in.Reason = "leave!" },
	}
	for name, change := range changes {
		t.Run(name+" changes the digest", func(t *testing.T) {
			in := base
			change(&in)
			p, err := f.svc.PlanReassignment(ctx, admin, in)
			require.NoError(t, err)
			assert.NotEqual(t, first.Digest, p.Digest)
		})
	}
	t.Run("a stored plan altered after it was shown is refused", func(t *testing.T) {
		// The digest is recomputed at submission: a plan whose stored
		// content no longer matches its digest cannot be submitted.
		f2 := setup(t, certs.Policy{})
		p := f2.plan(t, admin)
		altered := *p
		altered.ID, altered.Reason = "plan-altered", "not what was shown"
		require.NoError(t, f2.store.SavePlan(ctx, &altered))
		_, err := f2.svc.SubmitPlan(ctx, admin, altered.ID, p.Digest)
		requireCode(t, certs.EINVALID, err)
		assert.Contains(t, certs.ErrorMessage(err), "plan plan-altered no longer matches the digest it was shown with: it changed after it was shown")
		assert.Zero(t, f2.tenant.Calls("Reassign")+f2.tenant.Calls("ReassignAsync"))
	})
	t.Run("a mistyped digest, or another plan's, is told apart from a changed plan", func(t *testing.T) {
		f2 := setup(t, certs.Policy{})
		p := f2.plan(t, admin)
		other, err := f2.svc.PlanReassignment(ctx, admin, certs.PlanInput{
			CertificationID: certID, ItemIDs: []string{"item-a1"}, Target: "carol.diaz@example.com", Reason: "another plan",
		})
		require.NoError(t, err)
		require.NotEqual(t, p.Digest, other.Digest)
		for _, c := range []struct{ digest, says string }{
			{p.Digest[:len(p.Digest)-1], "is not a plan digest (16 hexadecimal characters): it looks mistyped"},
			{p.Digest[:len(p.Digest)-1] + "x", "is not a plan digest"},
			{other.Digest, "is not plan " + p.ID + "'s: it is mistyped or another plan's digest"},
			{"0000000000000000", "is not plan " + p.ID + "'s"},
		} {
			_, err := f2.svc.SubmitPlan(ctx, admin, p.ID, c.digest)
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), c.says, c.digest)
			assert.NotContains(t, certs.ErrorMessage(err), "changed", c.digest)
		}
		_, err = f2.svc.SubmitPlan(ctx, admin, p.ID, " "+strings.ToUpper(p.Digest)+" ")
		require.NoError(t, err, "the digest as shown, whatever its case and surrounding blanks")
		assert.Equal(t, 1, f2.tenant.Calls("Reassign")+f2.tenant.Calls("ReassignAsync"))
	})
}

func TestPlanReassignment_warnings(t *testing.T) {
	f := setup(t, certs.Policy{})
	ctx := context.Background()
	soon := t0.Add(5 * time.Hour)
	past := t0.Add(-72 * time.Hour)
	for _, c := range []struct {
		id  string
		due *time.Time
	}{{"cert-soon", &soon}, {"cert-late", &past}} {
		f.tenant.AddCertification(certs.Certification{ID: c.id, Name: c.id, Phase: certs.PhaseActive, Due: c.due,
			Campaign: certs.Campaign{ID: "camp-1", Name: "Q3 Manager Review"}, Reviewer: certs.Reviewer{ID: "id-dan", Name: "Dan Ray"}})
		f.tenant.AddItems(c.id, item(c.id+"-i", "id-ana", "Ana Silva", false))
	}
	// Carol already reviews in camp-1: no "not a reviewer yet" warning.
	f.tenant.AddCertification(certs.Certification{ID: "cert-carol", Name: "Carol's", Phase: certs.PhaseActive,
		Campaign: certs.Campaign{ID: "camp-1"}, Reviewer: certs.Reviewer{ID: "id-carol", Name: "Carol Diaz"}})

	p, err := f.svc.PlanReassignment(ctx, admin, certs.PlanInput{CertificationID: "cert-soon", ItemIDs: []string{"cert-soon-i"}, Target: "id-carol", Reason: "r"})
	require.NoError(t, err)
	assert.Equal(t, []string{"the certification is due 2026-11-23 19:00 UTC (in 5 hours); Carol Diaz will have little time"}, p.Warnings)

	p, err = f.svc.PlanReassignment(ctx, admin, certs.PlanInput{CertificationID: "cert-late", ItemIDs: []string{"cert-late-i"}, Target: "id-carol", Reason: "r"})
	require.NoError(t, err)
	assert.Equal(t, []string{"the certification was due 2026-11-20 14:00 UTC (3 days ago); Carol Diaz takes over late work"}, p.Warnings)
}

func TestGetPlan_reviewersSeeOnlyTheirCertifications(t *testing.T) {
	f := setup(t, certs.Policy{})
	p := f.plan(t, bob)
	got, err := f.svc.GetPlan(context.Background(), bob, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.Digest, got.Digest)
	_, err = f.svc.GetPlan(context.Background(), eve, p.ID)
	requireCode(t, certs.EFORBIDDEN, err)
	_, err = f.svc.GetPlan(context.Background(), admin, "nope")
	requireCode(t, certs.ENOTFOUND, err)
}
