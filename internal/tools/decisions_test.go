package tools

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// planDecide plans decisions as testActor and requires success.
func planDecide(t *testing.T, s *server.MCPServer, args map[string]any) DecisionPlanOut {
	t.Helper()
	res := callTool(t, s, "plan_decisions", args)
	require.False(t, res.IsError, resultText(res))
	return structured[DecisionPlanOut](t, res)
}

// revokeDbAdmin is cert-1's mixed plan: approve Bob's role, revoke his
// privileged db_admin.
var revokeDbAdmin = map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{
	{"item_id": "item-1", "decision": "REVOKE", "comments": "left the DBA team"},
	{"item_id": "item-2", "decision": "APPROVE"},
}}

func TestPlanDecisionsAndDecideWithDigest(t *testing.T) {
	s, b := setup(t, testConfig{})
	res := callTool(t, s, "plan_decisions", revokeDbAdmin)
	require.False(t, res.IsError, resultText(res))
	p := structured[DecisionPlanOut](t, res)
	assert.Equal(t, 1, p.Approve)
	assert.Equal(t, 1, p.Revoke)
	assert.Equal(t, 2, p.ItemCount)
	assert.Equal(t, 1, p.IdentityCount)
	assert.Equal(t, 1, p.Calls)
	assert.Equal(t, "Alice Admin", p.Reviewer.Name)
	assert.Nil(t, p.NotListed, "a small plan is listed whole")
	require.Len(t, p.Identities, 1)
	assert.Equal(t, IdentityDecisionsOut{IdentityID: "id-bob", Name: "Bob Brown", Approve: 1, Revoke: 1, Items: []DecisionItemOut{
		{ItemID: "item-1", Decision: "REVOKE", AccessType: "ENTITLEMENT", AccessName: "db_admin", Source: "Oracle", Privileged: true, Comments: "left the DBA team"},
		{ItemID: "item-2", Decision: "APPROVE", AccessType: "ROLE", AccessName: "Finance Analyst"},
	}}, p.Identities[0])
	require.NotEmpty(t, p.Warnings)
	assert.Contains(t, p.Warnings[0], "revokes privileged access: item-1 (Bob Brown: db_admin)")
	text := resultText(res)
	for _, want := range []string{
		"Decision plan " + p.PlanID + " (nothing has changed yet):\n" + p.Summary + "\n",
		"approve 1 item and revoke 1 item",
		"Bob Brown [identity id-bob]: approve 1, revoke 1\n",
		`- REVOKE ENTITLEMENT "db_admin" on Oracle · privileged [item-1], comment "left the DBA team"`,
		`- APPROVE ROLE "Finance Analyst" [item-2]`,
		"Warning: revokes privileged access",
		"Digest: " + p.Digest,
		"call decide with plan_id",
		"Revocations take effect when the certification is signed off",
	} {
		assert.Contains(t, text, want)
	}
	assert.Zero(t, b.tenant.Calls("Decide"), "planning sends nothing")

	t.Run("without confirmation a client that cannot elicit is refused", func(t *testing.T) {
		assertError(t, callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID}), certs.EINVALID, "confirm is required", "digest")
		assert.Zero(t, b.tenant.Calls("Decide"))
	})
	t.Run("a wrong digest is refused", func(t *testing.T) {
		assertError(t, callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": "0000"}), certs.EINVALID, "is not a plan digest", "mistyped", "plan "+p.PlanID+"'s digest")
		assert.Zero(t, b.tenant.Calls("Decide"))
	})
	t.Run("the digest records the decisions in one call", func(t *testing.T) {
		res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[DecideOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Equal(t, 1, b.tenant.Calls("Decide"))
		assert.Equal(t, []certs.ItemDecision{
			{ItemID: "item-1", Decision: certs.DecisionRevoke, Comments: "left the DBA team"},
			{ItemID: "item-2", Decision: certs.DecisionApprove},
		}, b.tenant.Decisions())
		require.NotNil(t, out.Request)
		assert.Equal(t, ChangeStatus{ID: p.PlanID, Kind: "decide", State: "completed", Final: true, CertificationID: "cert-1", CertificationName: "Q4 Manager Review: Alice",
			Approve: 1, Revoke: 1, Recorded: 2, Calls: ChangeCalls{Calls: 1, Done: 1}, CallRecords: []ChangeCallOut{{Call: 1, State: "accepted", Status: "SUCCESS"}},
			Requester: "mcp:alice-laptop", Created: out.Request.Created, Updated: out.Request.Updated}, *out.Request)
		// Every item is decided, but a reassignment task is still queued.
		assert.Equal(t, `Recorded in ISC: 1 item approved and 1 item revoked in certification "Q4 Manager Review: Alice". `+
			`Revocations take effect when the certification is signed off. Not ready to sign off yet: 1 task is pending in ISC (e.g. task-queued).`, out.Message)
		assert.Contains(t, resultText(res), `Request `+p.PlanID+` is completed: 2 decisions on "Q4 Manager Review: Alice" (approve 1, revoke 1); 2 recorded in ISC.`+"\nISC calls: 1 done, 0 failed of 1.\n")
	})
	t.Run("a plan is carried out once", func(t *testing.T) {
		assertError(t, callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}), certs.ECONFLICT, p.PlanID)
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		assertError(t, res, certs.ECONFLICT, "plan "+p.PlanID+" was already filed as request "+p.PlanID+", which is completed: nothing was asked or sent")
		assert.Empty(t, res.InputRequests, "the person is not asked about a plan carried out already")
		assert.Equal(t, 1, b.tenant.Calls("Decide"))
	})
	t.Run("the evidence tells who decided, through certops", func(t *testing.T) {
		res := callTool(t, s, "get_review_item", map[string]any{"certification_id": "cert-1", "item_id": "item-1"})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), `Decided: REVOKE by alice-laptop on 2026-12-02 00:00 UTC, comment "left the DBA team"`)
	})
	t.Run("the request's status and the certification tell of the decisions", func(t *testing.T) {
		res := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": p.PlanID})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), `Request `+p.PlanID+` is completed: 2 decisions on "Q4 Manager Review: Alice", reviewed by Alice Admin.`)
		assert.Contains(t, resultText(res), "; 2 decisions recorded.")
		res = callTool(t, s, "get_certification", map[string]any{"certification_id": "cert-1"})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), "Requests filed through certops (reassignments, decisions, sign-off):\n- request "+p.PlanID+": completed · decisions: approve 1, revoke 1 · asked by mcp:alice-laptop")
	})
	t.Run("a decided item is changed by a new plan, with a warning", func(t *testing.T) {
		p2 := planDecide(t, s, map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "APPROVE", "comments": "back on the DBA team"}}})
		assert.Equal(t, "REVOKE", p2.Identities[0].Items[0].Previous)
		assert.Contains(t, strings.Join(p2.Warnings, "\n"), "changes 1 decision already made: item-1 (REVOKE → APPROVE)")
		res := callTool(t, s, "decide", map[string]any{"plan_id": p2.PlanID, "confirm": p2.Digest})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, outcomeCompleted, structured[DecideOut](t, res).Outcome)
		assert.Equal(t, certs.DecisionApprove, b.tenant.Items("cert-1")[0].Decision)
	})
}

func TestSignOff(t *testing.T) {
	s, b := setup(t, testConfig{})
	p := planDecide(t, s, revokeDbAdmin)
	res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
	require.False(t, res.IsError, resultText(res))

	t.Run("refused while a task is pending, naming it", func(t *testing.T) {
		res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1"})
		assertError(t, res, certs.EINVALID, "certification cert-1 cannot be signed off: 1 task is pending in ISC (e.g. task-queued). Nothing was signed.", "list_pending_tasks")
	})
	t.Run("refused while items remain, saying how many", func(t *testing.T) {
		res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-2"})
		assertError(t, res, certs.EINVALID, "certification cert-2 cannot be signed off: 1 review item is still to decide. Nothing was signed.", "plan_decisions, decide")
	})
	b.tenant.SetTaskStatus("task-queued", certs.TaskSuccess)

	var plan SignOffOut
	t.Run("a client that cannot ask gets the plan to show", func(t *testing.T) {
		res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1"})
		require.False(t, res.IsError, resultText(res))
		plan = structured[SignOffOut](t, res)
		assert.Equal(t, outcomeConfirmationRequired, plan.Outcome)
		assert.NotEmpty(t, plan.Digest)
		require.NotNil(t, plan.Decisions)
		assert.Equal(t, 1, plan.Decisions.Approve)
		assert.Equal(t, 1, plan.Decisions.Revoke)
		assert.Equal(t, []RevokedOut{{ItemID: "item-1", Identity: "Bob Brown", AccessType: "ENTITLEMENT", AccessName: "db_admin", Source: "Oracle", Privileged: true, Comments: "left the DBA team"}}, plan.Decisions.Revoked)
		text := resultText(res)
		for _, want := range []string{
			"Sign-off plan " + plan.PlanID + " (nothing has changed yet):\n" + plan.Summary,
			"It makes final: 1 item approved and 1 item revoked.",
			`- Bob Brown: ENTITLEMENT "db_admin" on Oracle · privileged [item-1], comment "left the DBA team"`,
			"Digest: " + plan.Digest,
			"call sign_off again with plan_id and confirm set to the digest",
		} {
			assert.Contains(t, text, want)
		}
		assert.Zero(t, b.tenant.Calls("SignOff"))
	})
	t.Run("a plan of another certification or kind is refused", func(t *testing.T) {
		res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-2", "plan_id": plan.PlanID, "confirm": plan.Digest})
		assertError(t, res, certs.EINVALID, "plan_id "+plan.PlanID+" signs off certification cert-1, not certification_id cert-2")
		res = callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1", "plan_id": p.PlanID, "confirm": p.Digest})
		assertError(t, res, certs.EINVALID, "plan_id "+p.PlanID+" is a decide plan, not a sign_off plan; carry it out with decide")
		res = callTool(t, s, "decide", map[string]any{"plan_id": plan.PlanID, "confirm": plan.Digest})
		assertError(t, res, certs.EINVALID, "plan_id "+plan.PlanID+" is a sign_off plan, not a decide plan; carry it out with sign_off")
		res = callTool(t, s, "reassign", map[string]any{"plan_id": plan.PlanID, "confirm": plan.Digest})
		assertError(t, res, certs.EINVALID, "carry it out with sign_off")
		assert.Zero(t, b.tenant.Calls("SignOff"))
	})
	t.Run("the digest signs off, once", func(t *testing.T) {
		res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1", "plan_id": plan.PlanID, "confirm": plan.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[SignOffOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Equal(t, `Signed off: certification "Q4 Manager Review: Alice". Its decisions are final, and ISC now removes the revoked access.`, out.Message)
		require.NotNil(t, out.Request)
		assert.Equal(t, "sign_off", out.Request.Kind)
		assert.Contains(t, resultText(res), `Request `+plan.PlanID+` is completed: sign-off of "Q4 Manager Review: Alice".`)
		assert.Equal(t, 1, b.tenant.Calls("SignOff"))
		for _, c := range b.tenant.Certifications() {
			if c.ID == "cert-1" {
				assert.Equal(t, certs.PhaseSigned, c.Phase)
			}
		}
		res = callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1", "plan_id": plan.PlanID, "confirm": plan.Digest})
		assertError(t, res, certs.ECONFLICT, plan.PlanID)
		res = callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-1"})
		assertError(t, res, certs.EINVALID, "cannot be signed off: it is already signed off")
		assert.Equal(t, 1, b.tenant.Calls("SignOff"))
	})
	t.Run("a signed-off certification takes no decisions", func(t *testing.T) {
		res := callTool(t, s, "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-2", "decision": "REVOKE", "comments": "x"}}})
		assertError(t, res, certs.EINVALID, "is signed off; its decisions are final")
	})
}

func TestSignOffWithTheDigestAlone(t *testing.T) {
	// A client without elicitation may confirm with the digest it was
	// shown without passing plan_id: the plan made anew has the same one.
	s, b := setup(t, testConfig{})
	p := planDecide(t, s, map[string]any{"certification_id": "cert-2", "select": map[string]any{"decision": "APPROVE"}, "comments": "still in payroll"})
	require.False(t, callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}).IsError)
	first := structured[SignOffOut](t, callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-2"}))
	require.Equal(t, outcomeConfirmationRequired, first.Outcome)
	res := callTool(t, s, "sign_off", map[string]any{"certification_id": "cert-2", "confirm": first.Digest})
	require.False(t, res.IsError, resultText(res))
	assert.Equal(t, outcomeCompleted, structured[SignOffOut](t, res).Outcome)
	assert.Equal(t, 1, b.tenant.Calls("SignOff"))
}

func TestDecideElicitation(t *testing.T) {
	newPlan := func(t *testing.T) (*server.MCPServer, *testBundle, DecisionPlanOut) {
		s, b := setup(t, testConfig{})
		return s, b, planDecide(t, s, revokeDbAdmin)
	}
	ask := func(t *testing.T, s *server.MCPServer, p DecisionPlanOut) *mcp.CallToolResult {
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		require.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		req, ok := res.InputRequests[decideInput]
		require.True(t, ok)
		require.NotNil(t, req.Elicitation)
		msg := req.Elicitation.Message
		assert.True(t, strings.HasPrefix(msg, "Record these decisions in SailPoint?\n\n"+p.Summary), "the person is shown the plan's own summary: %s", msg)
		for _, want := range []string{
			"Bob Brown [identity id-bob]: approve 1, revoke 1\n",
			`- REVOKE ENTITLEMENT "db_admin" on Oracle · privileged [item-1], comment "left the DBA team"`,
			`- APPROVE ROLE "Finance Analyst" [item-2]`,
			"Warning: revokes privileged access",
			"Revoked access is removed when the certification is signed off",
		} {
			assert.Contains(t, msg, want)
		}
		return res
	}
	answer := func(t *testing.T, s *server.MCPServer, p DecisionPlanOut, state string, reply map[string]any) *mcp.CallToolResult {
		return callToolParams(t, s, map[string]any{
			"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true),
			"inputResponses": map[string]any{decideInput: reply}, "requestState": state,
		})
	}

	t.Run("accept records the decisions", func(t *testing.T) {
		s, b, p := newPlan(t)
		first := ask(t, s, p)
		assert.Zero(t, b.tenant.Calls("Decide"), "asking sends nothing")
		res := answer(t, s, p, first.RequestState, map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, outcomeCompleted, structured[DecideOut](t, res).Outcome)
		assert.Equal(t, 1, b.tenant.Calls("Decide"))
	})
	for _, c := range []struct {
		name    string
		reply   map[string]any
		outcome string
		message string
	}{
		{"decline sends nothing", map[string]any{"action": "decline"}, outcomeDeclined, "The person declined the decisions. Nothing was sent."},
		{"cancel sends nothing", map[string]any{"action": "cancel"}, outcomeCancelled, "The person dismissed the confirmation. Nothing was sent."},
		{"accept with confirm unticked sends nothing", map[string]any{"action": "accept", "content": map[string]any{"confirm": false}}, outcomeDeclined, "Nothing was sent."},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, b, p := newPlan(t)
			first := ask(t, s, p)
			res := answer(t, s, p, first.RequestState, c.reply)
			require.False(t, res.IsError, resultText(res))
			out := structured[DecideOut](t, res)
			assert.Equal(t, c.outcome, out.Outcome)
			assert.Contains(t, out.Message, c.message)
			assert.Nil(t, out.Request)
			assert.Zero(t, b.tenant.Calls("Decide"))
			assert.Empty(t, b.tenant.Decisions())

			// Declining leaves the plan to be confirmed later.
			res = callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
			require.False(t, res.IsError, resultText(res))
			assert.Equal(t, 1, b.tenant.Calls("Decide"))
		})
	}
	t.Run("an answer for another plan is refused", func(t *testing.T) {
		s, b, p := newPlan(t)
		res := answer(t, s, p, "other-plan|"+p.Digest, map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		assertError(t, res, certs.ECONFLICT, "another version of plan "+p.PlanID)
		assert.Zero(t, b.tenant.Calls("Decide"))
	})
	t.Run("a client that can ask always asks, even given the digest", func(t *testing.T) {
		s, b, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}, "_meta": modernMeta(true)})
		assert.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		assert.Zero(t, b.tenant.Calls("Decide"))
	})
	t.Run("a client that can ask is refused a wrong digest", func(t *testing.T) {
		s, _, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": "0000"}, "_meta": modernMeta(true)})
		assertError(t, res, certs.EINVALID, `confirm "0000" is not plan `+p.PlanID+"'s digest", "confirm can be left out")
	})
	t.Run("a modern client without elicitation must pass confirm", func(t *testing.T) {
		s, _, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(false)})
		assertError(t, res, certs.EINVALID, "confirm is required")
	})
}

func TestSignOffElicitation(t *testing.T) {
	ready := func(t *testing.T) (*server.MCPServer, *testBundle) {
		s, b := setup(t, testConfig{})
		p := planDecide(t, s, map[string]any{"certification_id": "cert-2", "decisions": []map[string]any{{"item_id": "item-4", "decision": "REVOKE", "comments": "moved to sales"}}})
		require.False(t, callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}).IsError)
		return s, b
	}
	ask := func(t *testing.T, s *server.MCPServer) *mcp.CallToolResult {
		res := callToolParams(t, s, map[string]any{"name": "sign_off", "arguments": map[string]any{"certification_id": "cert-2"}, "_meta": modernMeta(true)})
		require.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		req := res.InputRequests[signOffInput]
		require.NotNil(t, req.Elicitation)
		msg := req.Elicitation.Message
		for _, want := range []string{
			`Sign off certification "Q4 Manager Review: Alice (2)"? This is final.`,
			"It makes final: 1 item approved and 1 item revoked.",
			`- Dan Diaz: ACCESS_PROFILE "Accounts Payable" on SAP [item-4], comment "moved to sales"`,
			"After sign-off no decision can be changed.",
		} {
			assert.Contains(t, msg, want)
		}
		assert.Equal(t, false, req.Elicitation.RequestedSchema.(map[string]any)["properties"].(map[string]any)["confirm"].(map[string]any)["default"],
			"final: the person ticks the box themselves")
		return res
	}
	answer := func(t *testing.T, s *server.MCPServer, state string, reply map[string]any) *mcp.CallToolResult {
		return callToolParams(t, s, map[string]any{
			"name": "sign_off", "arguments": map[string]any{"certification_id": "cert-2"}, "_meta": modernMeta(true),
			"inputResponses": map[string]any{signOffInput: reply}, "requestState": state,
		})
	}

	t.Run("accept signs off", func(t *testing.T) {
		s, b := ready(t)
		first := ask(t, s)
		assert.Zero(t, b.tenant.Calls("SignOff"))
		res := answer(t, s, first.RequestState, map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, outcomeCompleted, structured[SignOffOut](t, res).Outcome)
		assert.Equal(t, 1, b.tenant.Calls("SignOff"))
	})
	t.Run("decline sends nothing", func(t *testing.T) {
		s, b := ready(t)
		first := ask(t, s)
		res := answer(t, s, first.RequestState, map[string]any{"action": "decline"})
		require.False(t, res.IsError, resultText(res))
		out := structured[SignOffOut](t, res)
		assert.Equal(t, outcomeDeclined, out.Outcome)
		assert.Equal(t, "The person declined the sign-off. Nothing was sent.", out.Message)
		assert.Zero(t, b.tenant.Calls("SignOff"))
	})
	t.Run("a forged answer is refused", func(t *testing.T) {
		s, b := ready(t)
		res := answer(t, s, "not a state", map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		assertError(t, res, certs.ECONFLICT, "not one this server asked for")
		assert.Zero(t, b.tenant.Calls("SignOff"))
	})
}

func TestDecisionRules(t *testing.T) {
	s, b := setup(t, testConfig{})
	strict := certs.Campaign{ID: "camp-strict", Name: "SOX Review", CampaignType: certs.CampaignManager, MandatoryCommentRequirement: certs.CommentsOnRevoke}
	alice := certs.Reviewer{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com", Type: certs.ReviewerIdentity}
	b.tenant.AddCertification(certs.Certification{ID: "cert-sox", Name: "SOX Review: Alice", Campaign: strict, Reviewer: alice, Phase: certs.PhaseActive})
	b.tenant.AddItems("cert-sox",
		certs.ReviewItem{ID: "sox-1", IdentitySummary: certs.IdentitySummary{ID: "sum-bob-sox", Name: "Bob Brown", IdentityID: "id-bob"},
			Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"}},
		certs.ReviewItem{ID: "sox-own", IdentitySummary: certs.IdentitySummary{ID: "sum-alice-sox", Name: "Alice Admin", IdentityID: "id-alice"},
			Access: certs.Access{Type: certs.AccessRole, ID: "role-9", Name: "Treasury"}},
	)
	carol := certs.Actor{ID: "carol-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-carol"}
	otherAdmin := certs.Actor{ID: "dan-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-dan"}
	one := func(item, decision string) []map[string]any {
		return []map[string]any{{"item_id": item, "decision": decision}}
	}

	cases := []struct {
		name  string
		actor certs.Actor
		args  map[string]any
		code  string
		names []string
	}{
		{"the campaign's comment rule", testActor, map[string]any{"certification_id": "cert-sox", "decisions": one("sox-1", "REVOKE")}, certs.EINVALID,
			[]string{`campaign "SOX Review" requires a comment on every revoke (REVOKE_ONLY_DECISIONS)`, "sox-1"}},
		{"one's own access", testActor, map[string]any{"certification_id": "cert-sox", "decisions": one("sox-own", "APPROVE")}, certs.EFORBIDDEN,
			[]string{"nobody decides on their own access", "sox-own"}},
		{"one's own access in a selection", testActor, map[string]any{"certification_id": "cert-sox", "select": map[string]any{"decision": "APPROVE"}}, certs.EFORBIDDEN,
			[]string{"nobody decides on their own access"}},
		{"another reviewer's items", bob, map[string]any{"certification_id": "cert-1", "decisions": one("item-2", "APPROVE")}, certs.EFORBIDDEN,
			[]string{"cert-1"}},
		{"an admin who is not the reviewer, without a reason", testActor, map[string]any{"certification_id": "cert-carol", "decisions": one("item-c1", "APPROVE")}, certs.EFORBIDDEN,
			[]string{"not the reviewer", "Carol Chen", "on_behalf"}},
		{"the reviewer giving a reason for acting on their own behalf", testActor, map[string]any{"certification_id": "cert-1", "decisions": one("item-2", "APPROVE"), "on_behalf": "why not"}, certs.EINVALID,
			[]string{"only for admins", "on_behalf"}},
		{"an end date on an approval", testActor, map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-2", "decision": "APPROVE", "proposed_end_date": "2027-01-31"}}}, certs.EINVALID,
			[]string{"item-2", "a proposed end date is only for a revoke"}},
		{"an end date in the past", testActor, map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-2", "decision": "REVOKE", "proposed_end_date": "2026-11-30"}}}, certs.EINVALID,
			[]string{"item-2", "2026-11-30T00:00:00Z is not in the future"}},
		{"an item of another certification", testActor, map[string]any{"certification_id": "cert-1", "decisions": one("item-c1", "APPROVE")}, certs.EINVALID,
			[]string{"item-c1", "not in certification"}},
		{"a selection matching nothing", testActor, map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE", "identity_ids": []string{"id-dan"}}}, certs.EINVALID,
			[]string{"the selection matches no open review item"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, callToolAs(t, s, c.actor, map[string]any{"name": "plan_decisions", "arguments": c.args}), c.code, c.names...)
		})
	}
	assert.Zero(t, b.tenant.Calls("Decide"))

	t.Run("a comment satisfies the rule, an end date rides on a revoke", func(t *testing.T) {
		p := planDecide(t, s, map[string]any{"certification_id": "cert-sox", "decisions": []map[string]any{
			{"item_id": "sox-1", "decision": "REVOKE", "comments": "no longer in finance", "proposed_end_date": "2027-01-31"},
		}})
		assert.Equal(t, "2027-01-31T00:00:00Z", p.Identities[0].Items[0].ProposedEndDate)
		assert.Contains(t, resultText(callTool(t, s, "plan_decisions", map[string]any{"certification_id": "cert-sox", "decisions": []map[string]any{
			{"item_id": "sox-1", "decision": "REVOKE", "comments": "no longer in finance", "proposed_end_date": "2027-01-31T12:00:00+01:00"},
		}})), ", access to end 2027-01-31T11:00:00Z")
	})
	t.Run("an admin decides on the reviewer's behalf, with a reason", func(t *testing.T) {
		p := planDecide(t, s, map[string]any{"certification_id": "cert-carol", "decisions": one("item-c1", "APPROVE"), "on_behalf": "Carol is on leave until January"})
		assert.Equal(t, "Carol is on leave until January", p.OnBehalf)
		assert.Contains(t, p.Summary, "on the reviewer's behalf: Carol is on leave until January")

		t.Run("only whoever made the plan carries it out", func(t *testing.T) {
			for _, a := range []certs.Actor{carol, otherAdmin} {
				res := callToolAs(t, s, a, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}})
				assertError(t, res, certs.EFORBIDDEN, "plan "+p.PlanID+" was made by alice-laptop; only they can confirm their decisions")
			}
			assert.Zero(t, b.tenant.Calls("Decide"))
		})
		res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[DecideOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Equal(t, "Carol is on leave until January", out.Request.OnBehalf)
	})
	t.Run("a selection leaves out privileged access", func(t *testing.T) {
		p := planDecide(t, s, map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE", "identity_ids": []string{"id-bob"}, "exclude_privileged": true}})
		assert.Equal(t, 1, p.ItemCount)
		assert.Equal(t, "item-2", p.Identities[0].Items[0].ItemID)
	})
	t.Run("an explicit decision wins over the selection", func(t *testing.T) {
		p := planDecide(t, s, map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE"},
			"decisions": []map[string]any{{"item_id": "item-1", "decision": "REVOKE"}}})
		assert.Equal(t, 1, p.Approve)
		assert.Equal(t, 1, p.Revoke)
		assert.Contains(t, strings.Join(p.Warnings, "\n"), "1 revoke without a comment (auditors will ask why): item-1")
	})
}

func TestDecisionsUnderApprovalPolicy(t *testing.T) {
	// A reviewer's own decisions need no approver, whatever the policy for
	// reassignments.
	s, b := setup(t, testConfig{Policy: certs.Policy{RequireApproval: true, Approvers: []string{"slack:U123"}}})
	p := planDecide(t, s, revokeDbAdmin)
	res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
	require.False(t, res.IsError, resultText(res))
	assert.Equal(t, outcomeCompleted, structured[DecideOut](t, res).Outcome)
	assert.Equal(t, 1, b.tenant.Calls("Decide"))
}

func TestLargeDecisionPlans(t *testing.T) {
	s, b := setup(t, testConfig{})
	addItems(b.tenant, 2*certs.MaxDecisionsPerCall) // 500 of Bob's shares
	p := planDecide(t, s, map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE"}, "comments": "reviewed with Bob's manager",
		"decisions": []map[string]any{{"item_id": "item-1", "decision": "REVOKE", "comments": "left the DBA team"}}})
	assert.Equal(t, 502, p.ItemCount)
	assert.Equal(t, 501, p.Approve)
	assert.Equal(t, 1, p.Revoke)
	assert.Equal(t, 3, p.Calls, "at most 250 decisions per call")

	t.Run("the plan lists every revocation and counts the approvals", func(t *testing.T) {
		require.Len(t, p.Identities, 1)
		g := p.Identities[0]
		assert.Equal(t, 501, g.Approve)
		assert.Equal(t, 1, g.Revoke)
		require.Len(t, g.Items, 1)
		assert.Equal(t, "item-1", g.Items[0].ItemID)
		require.NotNil(t, p.NotListed)
		assert.Equal(t, NotListedOut{Approve: 501}, *p.NotListed)
		res := callTool(t, s, "plan_decisions", map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE"}})
		assert.Contains(t, resultText(res), "Not listed one by one: 502 approvals and 0 revocations; the counts and the digest cover them.")
		assert.Less(t, len(resultText(res)), 4000, "bounded")
	})
	t.Run("so does the question, and decide sends three calls", func(t *testing.T) {
		res := callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		require.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		msg := res.InputRequests[decideInput].Elicitation.Message
		assert.Contains(t, msg, "Bob Brown [identity id-bob]: approve 501, revoke 1\n- REVOKE ENTITLEMENT \"db_admin\"")
		assert.Contains(t, msg, "Not listed one by one: 501 approvals and 0 revocations")
		assert.Less(t, len(msg), 3000, "bounded")

		res = callToolParams(t, s, map[string]any{"name": "decide", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true),
			"inputResponses": map[string]any{decideInput: map[string]any{"action": "accept", "content": map[string]any{"confirm": true}}}, "requestState": res.RequestState})
		require.False(t, res.IsError, resultText(res))
		out := structured[DecideOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Equal(t, 3, b.tenant.Calls("Decide"))
		assert.Equal(t, 502, out.Request.Recorded)
		assert.Contains(t, out.Message, "501 items approved and 1 item revoked")
	})
	t.Run("many identities: the first are listed, the rest counted", func(t *testing.T) {
		items := make([]certs.ReviewItem, 60)
		for i := range items {
			id := fmt.Sprintf("id-p%02d", i)
			b.tenant.AddIdentity(id, fmt.Sprintf("Person %02d", i), "")
			items[i] = certs.ReviewItem{ID: fmt.Sprintf("p-%02d", i), IdentitySummary: certs.IdentitySummary{ID: "sum-" + id, Name: fmt.Sprintf("Person %02d", i), IdentityID: id},
				Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"}}
		}
		b.tenant.AddItems("cert-3", items...)
		p := planDecide(t, s, map[string]any{"certification_id": "cert-3", "select": map[string]any{"decision": "REVOKE"}, "comments": "role retired"})
		assert.Equal(t, 60, p.IdentityCount)
		assert.Len(t, p.Identities, 50)
		assert.Equal(t, &NotListedOut{Identities: 10, Revoke: 10}, p.NotListed)
	})
}

func TestDecideWhenTheAnswerIsLost(t *testing.T) {
	s, b := setup(t, testConfig{Service: func(o *certs.Options) { o.SubmitLease = 20 * time.Millisecond }})
	p := planDecide(t, s, revokeDbAdmin)
	b.tenant.AfterDecide = func(int, string, []certs.ItemDecision) error {
		return &certs.Error{Code: certs.EUNKNOWN, Message: "the connection closed after the decisions were sent",
			Upstream: &certs.Upstream{Operation: "makeIdentityDecision", Status: 503, TrackingID: "trk-lost"}}
	}
	res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
	assertError(t, res, certs.EUNKNOWN, "do NOT retry", p.PlanID, "operation makeIdentityDecision")
	assert.Equal(t, 1, b.tenant.Calls("Decide"), "sent once, never again")

	st := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": p.PlanID})
	require.False(t, st.IsError, resultText(st))
	assert.Contains(t, resultText(st), "decisions on")
}

func TestDecisionArgumentsAreNamed(t *testing.T) {
	s, b := setup(t, testConfig{})
	long := strings.Repeat("a", 1001)
	cases := []struct {
		name, tool string
		args       map[string]any
		names      []string
	}{
		{"nothing to decide", "plan_decisions", map[string]any{"certification_id": "cert-1"}, []string{"give decisions", "select"}},
		{"a decision of the wrong kind", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "MAYBE"}}},
			[]string{`decisions[0].decision must be APPROVE or REVOKE, got "MAYBE"`}},
		{"a decision missing", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1"}}},
			[]string{"decisions[0].decision is required"}},
		{"an item id missing", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "APPROVE"}, {"decision": "APPROVE"}}},
			[]string{"decisions[1].item_id is required"}},
		{"a bad item id", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "../x", "decision": "APPROVE"}}},
			[]string{"decisions[0].item_id", "contains '/'"}},
		{"an item twice", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "APPROVE"}, {"item_id": "item-1", "decision": "REVOKE"}}},
			[]string{`decisions[0] and decisions[1] both decide item "item-1"`}},
		{"a comment too long", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "APPROVE", "comments": long}}},
			[]string{"decisions[0].comments", "1000"}},
		{"a control character in a comment", "plan_decisions", map[string]any{"certification_id": "cert-1", "comments": "ok\x00", "select": map[string]any{"decision": "APPROVE"}},
			[]string{"comments", "U+0000"}},
		{"a direction control in on_behalf", "plan_decisions", map[string]any{"certification_id": "cert-1", "on_behalf": "away\u202E", "select": map[string]any{"decision": "APPROVE"}},
			[]string{"on_behalf", "U+202E"}},
		{"an end date that is no date", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decision": "REVOKE", "proposed_end_date": "next month"}}},
			[]string{`decisions[0].proposed_end_date must be a date (YYYY-MM-DD) or an RFC 3339 time`, `"next month"`}},
		{"a selection without a decision", "plan_decisions", map[string]any{"certification_id": "cert-1", "select": map[string]any{"exclude_privileged": true}},
			[]string{"select.decision is required"}},
		{"a bad identity in a selection", "plan_decisions", map[string]any{"certification_id": "cert-1", "select": map[string]any{"decision": "APPROVE", "identity_ids": []string{"id bob"}}},
			[]string{"select.identity_ids[0]", "contains ' '"}},
		{"an unknown field in a decision", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": []map[string]any{{"item_id": "item-1", "decison": "APPROVE"}}},
			[]string{`unknown argument "decison"`}},
		{"decisions of the wrong type", "plan_decisions", map[string]any{"certification_id": "cert-1", "decisions": "approve all"},
			[]string{"decisions must be an array, not string"}},
		{"a bad certification id", "plan_decisions", map[string]any{"certification_id": "a/b", "select": map[string]any{"decision": "APPROVE"}},
			[]string{"certification_id", "contains '/'"}},
		{"no plan id", "decide", map[string]any{}, []string{"plan_id is required"}},
		{"a bad plan id", "decide", map[string]any{"plan_id": "p 1"}, []string{"plan_id", "contains ' '"}},
		{"confirm too long", "decide", map[string]any{"plan_id": "p1", "confirm": long}, []string{"confirm is 1001 characters"}},
		{"no certification to sign off", "sign_off", map[string]any{}, []string{"certification_id is required"}},
		{"a bad sign-off plan id", "sign_off", map[string]any{"certification_id": "cert-1", "plan_id": "p/1"}, []string{"plan_id", "contains '/'"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, callTool(t, s, c.tool, c.args), certs.EINVALID, c.names...)
		})
	}
	t.Run("a reassignment plan is not decided", func(t *testing.T) {
		p := planMove(t, s, "item-1")
		res := callTool(t, s, "decide", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		assertError(t, res, certs.EINVALID, "plan_id "+p.PlanID+" is a reassign plan, not a decide plan; carry it out with reassign")
		d := planDecide(t, s, revokeDbAdmin)
		res = callTool(t, s, "reassign", map[string]any{"plan_id": d.PlanID, "confirm": d.Digest})
		assertError(t, res, certs.EINVALID, "plan_id "+d.PlanID+" is a decide plan, not a reassign plan; carry it out with decide")
	})
	assert.Zero(t, b.tenant.Calls("Decide")+b.tenant.Calls("SignOff"))
	assert.Empty(t, b.tenant.Reassignments())
}

func TestReviewToolsetsAndPrompt(t *testing.T) {
	t.Run("read-only keeps the evidence and the plans, not decide or sign_off", func(t *testing.T) {
		s, _ := setup(t, testConfig{Options: Options{Tools: Selection{ReadOnly: true}}})
		out := rpc(t, s, "tools/list", map[string]any{})
		var names []string
		for _, tl := range out["result"].(map[string]any)["tools"].([]any) {
			names = append(names, tl.(map[string]any)["name"].(string))
		}
		assert.Contains(t, names, "get_review_item")
		assert.Contains(t, names, "plan_decisions")
		assert.NotContains(t, names, "decide")
		assert.NotContains(t, names, "sign_off")
		for _, name := range []string{"decide", "sign_off"} {
			call := rpc(t, s, "tools/call", map[string]any{"name": name, "arguments": map[string]any{"plan_id": "p", "certification_id": "c"}})
			assert.NotNil(t, call["error"], "a hidden tool cannot be called: %s", name)
		}
		text := promptText(t, s)
		assert.Contains(t, text, "This server cannot record decisions")
		assert.NotContains(t, text, "call decide")
		assert.NotContains(t, text, "sign_off")
	})
	t.Run("the prompt walks a reviewer from evidence to sign-off", func(t *testing.T) {
		s, _ := setup(t, testConfig{})
		text := promptText(t, s)
		steps := []string{"get_review_item", "plan_decisions", "call decide with its plan_id", "sign_off"}
		last := -1
		for _, st := range steps {
			i := strings.Index(text, st)
			require.NotEqual(t, -1, i, "%q missing from %s", st, text)
			assert.Greater(t, i, last, "%q comes in order", st)
			last = i
		}
		assert.Contains(t, text, "certops never recommends a decision, and neither do you")
		assert.Contains(t, text, "revoked access is removed only when the certification is signed off")
	})
	t.Run("denying decide leaves the prompt's decisions to SailPoint", func(t *testing.T) {
		s, _ := setup(t, testConfig{Options: Options{Tools: Selection{Deny: []string{"decide"}}}})
		text := promptText(t, s)
		assert.Contains(t, text, "This server cannot record decisions")
		assert.Contains(t, text, "sign_off")
	})
}

func promptText(t *testing.T, s *server.MCPServer) string {
	t.Helper()
	out := rpc(t, s, "prompts/get", map[string]any{"name": "review_my_certifications"})
	require.Nil(t, out["error"])
	return out["result"].(map[string]any)["messages"].([]any)[0].(map[string]any)["content"].(map[string]any)["text"].(string)
}
