package tools

import (
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
)

// realService is the real certs.Service over the in-memory Tenant and
// Store of certstest: the tools' contract with the Service's own rules
// (roles, digests, exactly-once submission), without HTTP.
func realService(t *testing.T) (*certs.Service, *certstest.Tenant) {
	t.Helper()
	tn := certstest.NewTenant()
	tn.AddIdentity("id-alice", "Alice Admin", "alice@example.com")
	tn.AddIdentity("id-bob", "Bob Brown", "bob@example.com")
	tn.AddIdentity("id-carol", "Carol Chen", "carol@example.com")
	tn.AddIdentity("id-dan", "Dan Diaz", "dan@example.com")
	due := time.Now().Add(7 * 24 * time.Hour)
	tn.AddCertification(certs.Certification{
		ID: "cert-alice", Name: "Q4 review: Alice", Phase: certs.PhaseActive, Due: &due,
		Campaign: certs.Campaign{ID: "camp-1", Name: "Q4", CampaignType: certs.CampaignManager},
		Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com", Type: certs.ReviewerIdentity},
	})
	tn.AddItems("cert-alice",
		certs.ReviewItem{ID: "item-1", Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"},
			IdentitySummary: certs.IdentitySummary{ID: "sum-dan", Name: "Dan Diaz", IdentityID: "id-dan"}},
		certs.ReviewItem{ID: "item-2", Access: certs.Access{Type: certs.AccessEntitlement, ID: "ent-1", Name: "db_admin", HasPermissions: true},
			IdentitySummary: certs.IdentitySummary{ID: "sum-dan", Name: "Dan Diaz", IdentityID: "id-dan"}},
	)
	svc := certs.NewService(certs.Options{Tenant: tn, Store: certstest.NewStore(), Logger: quietLogger()})
	return svc, tn
}

func asActor(t *testing.T, s *server.MCPServer, a certs.Actor, params map[string]any) *mcp.CallToolResult {
	t.Helper()
	return callToolAs(t, s, a, params)
}

func TestWithRealService(t *testing.T) {
	alice := certs.Actor{ID: "alice", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-alice"}
	bob := certs.Actor{ID: "bob", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-bob"}

	t.Run("a reviewer sees only their own certifications", func(t *testing.T) {
		svc, _ := realService(t)
		s := newTestServer(t, svc, Options{})
		res := asActor(t, s, alice, map[string]any{"name": "list_certifications", "arguments": map[string]any{}})
		require.False(t, res.IsError, resultText(res))
		assert.Len(t, structured[CertificationList](t, res).Certifications, 1)

		res = asActor(t, s, bob, map[string]any{"name": "get_certification", "arguments": map[string]any{"certification_id": "cert-alice"}})
		assert.True(t, res.IsError, "bob cannot read alice's certification: %s", resultText(res))
		res = asActor(t, s, bob, map[string]any{"name": "list_certifications", "arguments": map[string]any{"reviewer": "id-alice"}})
		assert.True(t, res.IsError, "bob cannot list alice's certifications: %s", resultText(res))
		res = asActor(t, s, bob, map[string]any{"name": "plan_reassignment", "arguments": map[string]any{
			"certification_id": "cert-alice", "item_ids": []string{"item-1"}, "target": "id-carol", "reason": "grab"}})
		assert.True(t, res.IsError, "bob cannot move alice's work: %s", resultText(res))
	})

	t.Run("declined: nothing reaches the tenant; accepted: one call", func(t *testing.T) {
		svc, tn := realService(t)
		s := newTestServer(t, svc, Options{})
		planRes := asActor(t, s, alice, map[string]any{"name": "plan_reassignment", "arguments": map[string]any{
			"certification_id": "cert-alice", "identity_ids": []string{"id-dan"}, "target": "carol@example.com", "reason": "Dan moved to Carol's team"}})
		require.False(t, planRes.IsError, resultText(planRes))
		p := structured[PlanOut](t, planRes)
		assert.Equal(t, 2, p.ItemCount)
		assert.Equal(t, "id-carol", p.To.ID)

		call := func(reply map[string]any) *mcp.CallToolResult {
			first := asActor(t, s, alice, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
			require.Equal(t, mcp.ResultTypeInputRequired, first.ResultType, resultText(first))
			return asActor(t, s, alice, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true),
				"inputResponses": map[string]any{confirmInput: reply}, "requestState": first.RequestState})
		}
		res := call(map[string]any{"action": "decline"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, outcomeDeclined, structured[ReassignOut](t, res).Outcome)
		assert.Empty(t, tn.Reassignments(), "a declined plan reaches nothing")

		res = call(map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Contains(t, []string{outcomeSubmitted, outcomeCompleted}, out.Outcome)
		require.Len(t, tn.Reassignments(), 1, "exactly one ISC call")
		assert.Equal(t, "id-carol", tn.Reassignments()[0].To)

		res = asActor(t, s, alice, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}})
		assert.True(t, res.IsError, "a plan is carried out once: %s", resultText(res))
		assert.Len(t, tn.Reassignments(), 1)
	})
}
