package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestGetReviewItem(t *testing.T) {
	s, b := setup(t, testConfig{})
	// Bob's manager is Carol; his access to db_admin is new.
	b.tenant.AddIdentity("id-bob", "Bob Brown", "bob@example.com").ManagerID = "id-carol"
	b.tenant.AddItems("cert-3",
		certs.ReviewItem{ID: "item-new", NewAccess: true, IdentitySummary: certs.IdentitySummary{ID: "sum-bob-3", Name: "Bob Brown", IdentityID: "id-bob"},
			Access: certs.Access{Type: certs.AccessEntitlement, ID: "ent-9", Name: "sa", Description: "Database superuser", SourceName: "Oracle", Privileged: true}},
		certs.ReviewItem{ID: "item-shared-1", IdentitySummary: certs.IdentitySummary{ID: "sum-bob-3", Name: "Bob Brown", IdentityID: "id-bob"},
			Access: certs.Access{Type: certs.AccessRole, ID: "role-7", Name: "Auditor"}},
		certs.ReviewItem{ID: "item-shared-2", IdentitySummary: certs.IdentitySummary{ID: "sum-dan-3", Name: "Dan Diaz", IdentityID: "id-dan"},
			Access: certs.Access{Type: certs.AccessRole, ID: "role-7", Name: "Auditor"}},
	)

	t.Run("one item: the facts, what it grants, remarks that name their facts", func(t *testing.T) {
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-1", "item_id": "item-1"})
		require.False(t, res.IsError, resultText(res))
		out := structured[ItemEvidenceList](t, res)
		require.Len(t, out.Items, 1)
		e := out.Items[0]
		assert.Equal(t, EvidenceIdentity{SummaryID: "sum-bob", IdentityID: "id-bob", Name: "Bob Brown", Email: "bob@example.com"}, e.Identity)
		require.NotNil(t, e.Manager)
		assert.Equal(t, "Carol Chen", e.Manager.Name)
		assert.True(t, e.Access.Privileged)
		require.NotNil(t, e.Permissions)
		assert.Equal(t, 1, e.Permissions.Total)
		assert.Equal(t, []PermissionOut{{Target: "PAYROLL.SALARIES", Rights: []string{"SELECT", "UPDATE"}}}, e.Permissions.Shown)
		assert.Zero(t, e.Peers)
		assert.Nil(t, e.Decision)
		require.NotEmpty(t, e.Remarks)
		for _, r := range e.Remarks {
			assert.NotEmpty(t, r.Facts, "remark %q names its facts", r.Text)
		}

		text := resultText(res)
		for _, want := range []string{
			"Evidence for review item item-1 of certification cert-1 (facts only; certops recommends no decision):",
			"- item item-1: Bob Brown <bob@example.com> [identity id-bob], manager Carol Chen <carol@example.com>",
			`  Access: ENTITLEMENT "db_admin" on Oracle · privileged`,
			"  Grants: PAYROLL.SALARIES: SELECT, UPDATE",
			"  Held by 0 other identities in this certification.",
			"  Not decided yet.",
			"  Note: privileged access (from: access.privileged is true)",
			`  Note: the only holder of this access in the certification (from: no other identity in certification "Q4 Manager Review: Alice" has entitlement "db_admin")`,
		} {
			assert.Contains(t, text, want)
		}
		for _, never := range []string{"recommend approv", "recommend revok", "should be revoked", "should be approved"} {
			assert.NotContains(t, text, never, "evidence never recommends")
		}
	})
	t.Run("privileged and new, with its description", func(t *testing.T) {
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-3", "item_id": "item-new"})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), `Access: ENTITLEMENT "sa" on Oracle · privileged · new since the last review: Database superuser`)
		assert.Contains(t, resultText(res), "Note: privileged and new since the last review (from: access.privileged is true; newAccess is true)")
		assert.NotContains(t, resultText(res), "Grants", "it carries no permissions")
	})
	t.Run("one identity's open items, a page at a time", func(t *testing.T) {
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-3", "identity_summary_id": "sum-bob-3", "limit": 1})
		require.False(t, res.IsError, resultText(res))
		out := structured[ItemEvidenceList](t, res)
		assert.Equal(t, 2, out.Total)
		require.Len(t, out.Items, 1)
		assert.Equal(t, "item-new", out.Items[0].ItemID)
		assert.Contains(t, resultText(res), "Evidence for the open review items of Bob Brown (identity summary sum-bob-3) in certification cert-3 (facts only; certops recommends no decision): 1-1 of 2.")
		require.NotEmpty(t, out.NextCursor)

		res = callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-3", "identity_summary_id": "sum-bob-3", "limit": 1, "cursor": out.NextCursor})
		require.False(t, res.IsError, resultText(res))
		page2 := structured[ItemEvidenceList](t, res)
		require.Len(t, page2.Items, 1)
		assert.Equal(t, "item-shared-1", page2.Items[0].ItemID)
		assert.Equal(t, 1, page2.Items[0].Peers, "Dan holds the Auditor role too")
		assert.Contains(t, resultText(res), "Held by 1 other identity in this certification.")
		assert.Empty(t, page2.NextCursor)
	})
	t.Run("a decided item says so", func(t *testing.T) {
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-2", "item_id": "item-3"})
		require.False(t, res.IsError, resultText(res))
		e := structured[ItemEvidenceList](t, res).Items[0]
		require.NotNil(t, e.Decision)
		assert.Equal(t, "APPROVE", e.Decision.Decision)
		assert.Contains(t, resultText(res), "Decided: APPROVE (it may be changed until sign-off)")
	})
	t.Run("a page of evidence costs no call per item", func(t *testing.T) {
		addItems(b.tenant, 40)
		items, identities, one := b.tenant.Calls("ListReviewItems"), b.tenant.Calls("ListIdentities"), b.tenant.Calls("GetIdentity")
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-1", "identity_summary_id": "sum-bob", "limit": 25})
		require.False(t, res.IsError, resultText(res))
		assert.Len(t, structured[ItemEvidenceList](t, res).Items, 25)
		assert.LessOrEqual(t, b.tenant.Calls("ListReviewItems")-items, 2, "the page, and the certification's items once")
		assert.Equal(t, 2, b.tenant.Calls("ListIdentities")-identities, "Bob, then his manager: one batch read each")
		assert.Equal(t, one, b.tenant.Calls("GetIdentity"), "no identity read one at a time")
	})
}

func TestGetReviewItemRefusals(t *testing.T) {
	s, _ := setup(t, testConfig{})
	cases := []struct {
		name  string
		actor certs.Actor
		args  map[string]any
		code  string
		names []string
	}{
		{"neither item nor identity", testActor, map[string]any{"certification_id": "cert-1"}, certs.EINVALID, []string{"item_id or identity_summary_id is required"}},
		{"both item and identity", testActor, map[string]any{"certification_id": "cert-1", "item_id": "item-1", "identity_summary_id": "sum-bob"}, certs.EINVALID, []string{"either item_id or identity_summary_id, not both"}},
		{"a page of one item", testActor, map[string]any{"certification_id": "cert-1", "item_id": "item-1", "limit": 5}, certs.EINVALID, []string{"limit goes with identity_summary_id"}},
		{"a bad item id", testActor, map[string]any{"certification_id": "cert-1", "item_id": "../x"}, certs.EINVALID, []string{"item_id", "contains '/'"}},
		{"a bad identity summary id", testActor, map[string]any{"certification_id": "cert-1", "identity_summary_id": "a b"}, certs.EINVALID, []string{"identity_summary_id", "contains ' '"}},
		{"limit out of range", testActor, map[string]any{"certification_id": "cert-1", "identity_summary_id": "sum-bob", "limit": 26}, certs.EINVALID, []string{"limit must be between 1 and 25, got 26"}},
		{"an unknown status", testActor, map[string]any{"certification_id": "cert-1", "identity_summary_id": "sum-bob", "status": "pending"}, certs.EINVALID, []string{"status must be one of open, completed, all"}},
		{"an item of another certification", testActor, map[string]any{"certification_id": "cert-1", "item_id": "item-c1"}, certs.ENOTFOUND, []string{"item-c1", "cert-1"}},
		{"another reviewer's certification", bob, map[string]any{"certification_id": "cert-1", "item_id": "item-1"}, certs.EFORBIDDEN, []string{"cert-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, callToolAs(t, s, c.actor, map[string]any{"name": "get_review_item", "arguments": c.args}), c.code, c.names...)
		})
	}
}
