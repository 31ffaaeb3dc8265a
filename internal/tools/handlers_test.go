package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestListCertifications(t *testing.T) {
	svc := newFakeService()
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	s := newTestServer(t, svc, Options{Now: func() time.Time { return now }})

	t.Run("mine, open, first page with a cursor", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"limit": 2})
		require.False(t, res.IsError, resultText(res))
		out := structured[CertificationList](t, res)
		assert.Equal(t, 3, out.Total)
		require.Len(t, out.Certifications, 2)
		assert.Equal(t, "cert-1", out.Certifications[0].ID)
		assert.Equal(t, "2026-12-01T00:00:00Z", out.Certifications[0].Due)
		assert.Equal(t, 30, out.Certifications[1].Progress.Percent)
		assert.NotEmpty(t, out.NextCursor)
		assert.Equal(t, "me", svc.lastQuery.Reviewer)
		require.NotNil(t, svc.lastQuery.Completed)
		assert.False(t, *svc.lastQuery.Completed)
		assert.Contains(t, resultText(res), "Your open certifications, due soonest first: 1-2 of 3.")
		assert.Contains(t, resultText(res), "due 2026-12-01 (OVERDUE)", "past-due work is flagged")
		assert.Contains(t, resultText(res), "due 2026-12-04 ·", "work due later is not")

		res = callTool(t, s, "list_certifications", map[string]any{"limit": 2, "cursor": out.NextCursor})
		require.False(t, res.IsError, resultText(res))
		page2 := structured[CertificationList](t, res)
		require.Len(t, page2.Certifications, 1)
		assert.Equal(t, "cert-3", page2.Certifications[0].ID)
		assert.Empty(t, page2.NextCursor)
		assert.Equal(t, 2, svc.lastQuery.Page.Offset)
	})
	t.Run("a cursor of another query is refused", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"limit": 2})
		cur := structured[CertificationList](t, res).NextCursor
		res = callTool(t, s, "list_certifications", map[string]any{"status": "completed", "cursor": cur})
		assert.True(t, res.IsError)
		assert.Contains(t, resultText(res), "cursor belongs to a different query")
	})
	t.Run("reviewer by email is resolved", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"reviewer": "carol@example.com", "status": "all"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "id-carol", svc.lastQuery.Reviewer)
		assert.Nil(t, svc.lastQuery.Completed)
	})
	t.Run("campaign without reviewer means every reviewer", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"campaign_id": "camp-1"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "", svc.lastQuery.Reviewer)
		assert.Equal(t, "camp-1", svc.lastQuery.CampaignID)
	})
}

func TestReadTools(t *testing.T) {
	s := newTestServer(t, newFakeService(), Options{})
	cases := []struct {
		tool string
		args map[string]any
		text string
	}{
		{"get_certification", map[string]any{"certification_id": "cert-1"}, "No reassignment requests"},
		{"list_reviewers", map[string]any{"certification_id": "cert-1", "name": "Ali"}, "Alice Admin <alice@example.com>"},
		{"list_review_items", map[string]any{"certification_id": "cert-1", "access_type": "ENTITLEMENT"}, `ENTITLEMENT "db_admin" on Oracle · privileged`},
		{"get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": []string{"SELECT"}}, "PAYROLL.SALARIES: SELECT, UPDATE"},
		{"list_pending_tasks", map[string]any{"certification_id": "cert-1"}, "task task-1 REASSIGN: QUEUED"},
		{"get_reassignment_status", map[string]any{"task_id": "task-1"}, "task task-1 REASSIGN: SUCCESS"},
	}
	for _, c := range cases {
		t.Run(c.tool, func(t *testing.T) {
			res := callTool(t, s, c.tool, c.args)
			require.False(t, res.IsError, resultText(res))
			assert.Contains(t, resultText(res), c.text)
			assert.NotNil(t, res.StructuredContent)
		})
	}
}

func TestBadArgumentsAreErrorResults(t *testing.T) {
	s := newTestServer(t, newFakeService(), Options{})
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct {
		name, tool string
		args       map[string]any
		want       string
	}{
		{"missing required id", "get_certification", map[string]any{}, "certification_id"},
		{"id of wrong type", "get_certification", map[string]any{"certification_id": 42}, "certification_id"},
		{"filter injection in id", "get_certification", map[string]any{"certification_id": `abc" or id pr`}, "certification_id"},
		{"path traversal in id", "list_pending_tasks", map[string]any{"certification_id": "../x"}, "certification_id"},
		{"dot-dot id", "list_pending_tasks", map[string]any{"certification_id": ".."}, "certification_id"},
		{"too long id", "get_certification", map[string]any{"certification_id": string(long)}, "certification_id"},
		{"limit out of range", "list_certifications", map[string]any{"limit": 1000}, "limit"},
		{"limit zero", "list_certifications", map[string]any{"limit": 0}, "limit"},
		{"limit of wrong type", "list_certifications", map[string]any{"limit": "ten"}, "limit"},
		{"unknown enum", "list_certifications", map[string]any{"status": "pending"}, "status"},
		{"unknown access type", "list_review_items", map[string]any{"certification_id": "c1", "access_type": "GROUP"}, "access_type"},
		{"unknown argument", "list_certifications", map[string]any{"sort": "due"}, "sort"},
		{"garbage cursor", "list_certifications", map[string]any{"cursor": "not-a-cursor"}, "cursor"},
		{"control character in filter", "list_reviewers", map[string]any{"certification_id": "c1", "name": "a\x00b"}, "name"},
		{"filter too long", "list_reviewers", map[string]any{"certification_id": "c1", "name": string(long)}, "name"},
		{"injection in reviewer", "list_certifications", map[string]any{"reviewer": `x" or 1 eq 1`}, "reviewer"},
		{"rights of the wrong item type", "get_item_permissions", map[string]any{"certification_id": "c1", "item_id": "i1", "rights": []any{1}}, "rights must be an array of strings"},
		{"rights not an array", "get_item_permissions", map[string]any{"certification_id": "c1", "item_id": "i1", "rights": "SELECT"}, "rights must be an array"},
		{"too many rights", "get_item_permissions", map[string]any{"certification_id": "c1", "item_id": "i1", "rights": []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}}, "rights"},
		{"no way of choosing work", "plan_reassignment", map[string]any{"certification_id": "c1", "target": "id-carol", "reason": "away"}, "exactly one of"},
		{"two ways of choosing work", "plan_reassignment", map[string]any{"certification_id": "c1", "item_ids": []string{"i1"}, "identity_ids": []string{"x"}, "target": "id-carol", "reason": "away"}, "exactly one of"},
		{"blank reason", "plan_reassignment", map[string]any{"certification_id": "c1", "item_ids": []string{"i1"}, "target": "id-carol", "reason": "   "}, "reason"},
		{"missing target", "plan_reassignment", map[string]any{"certification_id": "c1", "item_ids": []string{"i1"}, "reason": "away"}, "target"},
		{"bad item id", "plan_reassignment", map[string]any{"certification_id": "c1", "item_ids": []string{"../../etc"}, "target": "id-carol", "reason": "away"}, "item_ids"},
		{"both request and task", "get_reassignment_status", map[string]any{"request_id": "r1", "task_id": "t1"}, "not both"},
		{"neither request nor task", "get_reassignment_status", map[string]any{}, "request_id or task_id"},
		{"wait out of range", "reassign", map[string]any{"plan_id": "p1", "wait_seconds": 9999}, "wait_seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := callTool(t, s, c.tool, c.args)
			assert.True(t, res.IsError, "expected an error result, got %s", resultText(res))
			assert.Contains(t, resultText(res), c.want)
		})
	}
	t.Run("arguments that are not an object", func(t *testing.T) {
		res := callToolParams(t, s, map[string]any{"name": "list_certifications", "arguments": []int{1}})
		assert.True(t, res.IsError)
	})
	t.Run("the server keeps serving", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{})
		assert.False(t, res.IsError, resultText(res))
	})
}

func TestDomainErrorsAreErrorResults(t *testing.T) {
	svc := newFakeService()
	s := newTestServer(t, svc, Options{})
	svc.failWith = &certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint did not answer listIdentityCertifications",
		Upstream: &certs.Upstream{Operation: "listIdentityCertifications", Status: 503, DetailCode: "503 Service Unavailable", TrackingID: "trk-123"}}
	res := callTool(t, s, "list_certifications", map[string]any{})
	require.True(t, res.IsError)
	text := resultText(res)
	assert.Contains(t, text, "unavailable")
	assert.Contains(t, text, "trk-123")
	assert.Contains(t, text, "503 Service Unavailable")
	assert.Contains(t, text, "listIdentityCertifications")
	assert.Equal(t, 1, strings.Count(text, "trk-123"), "the tracking id is quoted once: %s", text)

	svc.failWith = &certs.Error{Code: certs.EINVALID, Message: "ISC refused the filter",
		Upstream: &certs.Upstream{Operation: "listReviewItems", Status: 400, DetailCode: "400.1 Bad Request Content", Messages: []string{"unknown field"}}}
	res = callTool(t, s, "list_certifications", map[string]any{})
	require.True(t, res.IsError)
	assert.Contains(t, resultText(res), "HTTP 400, detailCode 400.1 Bad Request Content, SailPoint says: unknown field", "without a tracking id, status and detail code are still given")

	svc.failWith = certs.Errorf(certs.EFORBIDDEN, "reviewers see only their own certifications")
	res = callTool(t, s, "list_certifications", map[string]any{"reviewer": "id-bob"})
	require.True(t, res.IsError)
	assert.Equal(t, "not allowed: reviewers see only their own certifications", resultText(res))

	svc.failWith = assert.AnError // not a certs.Error: internals must not leak
	res = callTool(t, s, "get_certification", map[string]any{"certification_id": "cert-1"})
	require.True(t, res.IsError)
	assert.Equal(t, "internal error: internal error", resultText(res))
}

func TestErrorPrefixesCoverEveryCode(t *testing.T) {
	for _, code := range []string{certs.EINVALID, certs.ENOTFOUND, certs.EFORBIDDEN, certs.ECONFLICT, certs.ERATELIMITED, certs.EUNAVAILABLE, certs.EUNKNOWN, certs.EINTERNAL} {
		assert.NotEmpty(t, errorPrefixes[code], code)
	}
}

func TestPanicBecomesErrorResult(t *testing.T) {
	svc := newFakeService()
	svc.panicOn = true
	s := newTestServer(t, svc, Options{})
	res := callTool(t, s, "list_reviewers", map[string]any{"certification_id": "cert-1"})
	require.True(t, res.IsError)
	assert.Contains(t, resultText(res), "internal error")
	res = callTool(t, s, "list_certifications", map[string]any{})
	assert.False(t, res.IsError, "the server keeps serving after a panic")
}

func plan(t *testing.T, _ *server.MCPServer, res *mcp.CallToolResult) PlanOut {
	t.Helper()
	require.False(t, res.IsError, resultText(res))
	return structured[PlanOut](t, res)
}

func TestPlanAndReassignWithDigest(t *testing.T) {
	svc := newFakeService()
	s := newTestServer(t, svc, Options{})
	p := plan(t, s, callTool(t, s, "plan_reassignment", map[string]any{
		"certification_id": "cert-1", "item_ids": []string{"item-1", "item-2"}, "target": "carol@example.com", "reason": "Bob moved to Carol's team",
	}))
	assert.Equal(t, "Carol Chen", p.To.Name)
	assert.Equal(t, 1, p.Calls)
	assert.NotEmpty(t, p.Digest)
	assert.Empty(t, svc.submitted, "planning submits nothing")

	t.Run("without confirmation a client that cannot elicit is refused", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "confirm is required")
		assert.Empty(t, svc.submitted)
	})
	t.Run("a wrong digest is refused", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": "digest-other"})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "invalid argument")
		assert.Empty(t, svc.submitted)
	})
	t.Run("the digest submits", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		require.NotNil(t, out.Request)
		assert.Equal(t, 2, out.Request.Progress.ItemsMoved)
		assert.Equal(t, []string{p.PlanID}, svc.submitted)
	})
}

func TestReassignUnderApprovalPolicy(t *testing.T) {
	svc := newFakeService()
	svc.requireApproval = true
	s := newTestServer(t, svc, Options{RequireApproval: true})
	p := plan(t, s, callTool(t, s, "plan_reassignment", map[string]any{
		"certification_id": "cert-1", "item_ids": []string{"item-1"}, "target": "id-carol", "reason": "vacation",
	}))
	assert.Contains(t, p.text(true), "requires approval")
	res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
	require.False(t, res.IsError, resultText(res))
	out := structured[ReassignOut](t, res)
	assert.Equal(t, outcomePendingApproval, out.Outcome)
	assert.Contains(t, out.Message, "approval by the Slack approvers")
	assert.Contains(t, resultText(res), "Nothing has moved yet")
}

// modernMeta is the _meta a 2026-07-28 client sends on every request.
func modernMeta(elicit bool) map[string]any {
	caps := map[string]any{}
	if elicit {
		caps["elicitation"] = map[string]any{"form": map[string]any{}}
	}
	return map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientCapabilities": caps,
	}
}

func TestReassignElicitation(t *testing.T) {
	newPlan := func(t *testing.T) (*fakeService, *server.MCPServer, PlanOut) {
		svc := newFakeService()
		s := newTestServer(t, svc, Options{})
		p := plan(t, s, callTool(t, s, "plan_reassignment", map[string]any{
			"certification_id": "cert-1", "item_ids": []string{"item-1"}, "target": "id-carol", "reason": "vacation",
		}))
		return svc, s, p
	}
	ask := func(t *testing.T, s *server.MCPServer, p PlanOut) *mcp.CallToolResult {
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		require.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		req, ok := res.InputRequests[confirmInput]
		require.True(t, ok)
		require.NotNil(t, req.Elicitation)
		assert.Contains(t, req.Elicitation.Message, "Move 2 items (Bob Brown)")
		assert.Equal(t, p.Digest, res.RequestState)
		return res
	}
	answer := func(t *testing.T, s *server.MCPServer, p PlanOut, state string, reply map[string]any) *mcp.CallToolResult {
		return callToolParams(t, s, map[string]any{
			"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true),
			"inputResponses": map[string]any{confirmInput: reply}, "requestState": state,
		})
	}

	t.Run("accept submits", func(t *testing.T) {
		svc, s, p := newPlan(t)
		first := ask(t, s, p)
		assert.Empty(t, svc.submitted, "asking submits nothing")
		res := answer(t, s, p, first.RequestState, map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, outcomeCompleted, structured[ReassignOut](t, res).Outcome)
		assert.Equal(t, []string{p.PlanID}, svc.submitted)
	})
	for _, c := range []struct {
		name    string
		reply   map[string]any
		outcome string
	}{
		{"decline changes nothing", map[string]any{"action": "decline"}, outcomeDeclined},
		{"cancel changes nothing", map[string]any{"action": "cancel"}, outcomeCancelled},
		{"accept with confirm unticked changes nothing", map[string]any{"action": "accept", "content": map[string]any{"confirm": false}}, outcomeDeclined},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc, s, p := newPlan(t)
			first := ask(t, s, p)
			res := answer(t, s, p, first.RequestState, c.reply)
			require.False(t, res.IsError, resultText(res))
			out := structured[ReassignOut](t, res)
			assert.Equal(t, c.outcome, out.Outcome)
			assert.Contains(t, out.Message, "Nothing was changed")
			assert.Empty(t, svc.submitted)
		})
	}
	t.Run("an answer for another plan version is refused", func(t *testing.T) {
		svc, s, p := newPlan(t)
		res := answer(t, s, p, "digest-forged", map[string]any{"action": "accept"})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "conflict")
		assert.Empty(t, svc.submitted)
	})
	t.Run("a client that can ask always asks, even given the digest", func(t *testing.T) {
		svc, s, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}, "_meta": modernMeta(true)})
		assert.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		assert.Empty(t, svc.submitted)
	})
	t.Run("a modern client without elicitation must pass confirm", func(t *testing.T) {
		_, s, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(false)})
		require.True(t, res.IsError)
		assert.Contains(t, resultText(res), "confirm is required")
	})
}

func TestReadOnlyServerHasNoWriteTools(t *testing.T) {
	s := newTestServer(t, newFakeService(), Options{Tools: Selection{ReadOnly: true}})
	out := rpc(t, s, "tools/list", map[string]any{})
	res := out["result"].(map[string]any)
	for _, tl := range res["tools"].([]any) {
		tool := tl.(map[string]any)
		assert.NotEqual(t, "reassign", tool["name"])
		assert.Equal(t, true, tool["annotations"].(map[string]any)["readOnlyHint"], tool["name"])
	}
	call := rpc(t, s, "tools/call", map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": "p"}})
	assert.NotNil(t, call["error"], "a hidden tool cannot be called")
}

func TestPrompt(t *testing.T) {
	s := newTestServer(t, newFakeService(), Options{})
	out := rpc(t, s, "prompts/get", map[string]any{"name": "review_my_certifications", "arguments": map[string]any{"focus": "cert-1"}})
	require.Nil(t, out["error"])
	b := out["result"].(map[string]any)["messages"].([]any)[0].(map[string]any)["content"].(map[string]any)["text"].(string)
	assert.Contains(t, b, "plan_reassignment")
	assert.Contains(t, b, "reassign with its plan_id")
	assert.Contains(t, b, `"cert-1"`)
}
