package tools

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
)

// bob reviews nothing in the fixture.
var bob = certs.Actor{ID: "bob-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-bob"}

func certIDs(l CertificationList) []string {
	var ids []string
	for _, c := range l.Certifications {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestListCertifications(t *testing.T) {
	s, b := setup(t, testConfig{})

	t.Run("mine, open, first page with a cursor", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"limit": 2})
		require.False(t, res.IsError, resultText(res))
		out := structured[CertificationList](t, res)
		assert.Equal(t, 3, out.Total, "Alice's open certifications: not Carol's, not the signed one")
		assert.Equal(t, []string{"cert-1", "cert-2"}, certIDs(out))
		assert.Equal(t, "2026-12-01T00:00:00Z", out.Certifications[0].Due)
		assert.Equal(t, 50, out.Certifications[1].Progress.Percent)
		assert.NotEmpty(t, out.NextCursor)
		assert.Contains(t, resultText(res), "Your open certifications, due soonest first: 1-2 of 3.")
		assert.Contains(t, resultText(res), "due 2026-12-01 (OVERDUE)", "past-due work is flagged")
		assert.Contains(t, resultText(res), "due 2026-12-04 ·", "work due later is not")

		res = callTool(t, s, "list_certifications", map[string]any{"limit": 2, "cursor": out.NextCursor})
		require.False(t, res.IsError, resultText(res))
		page2 := structured[CertificationList](t, res)
		assert.Equal(t, []string{"cert-3"}, certIDs(page2))
		assert.Empty(t, page2.NextCursor)
		assert.Contains(t, resultText(res), "3-3 of 3")
	})
	t.Run("completed and all", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"status": "completed"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, []string{"cert-signed"}, certIDs(structured[CertificationList](t, res)))
		res = callTool(t, s, "list_certifications", map[string]any{"status": "all"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, 4, structured[CertificationList](t, res).Total)
	})
	t.Run("a cursor of another query is refused", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"limit": 2})
		cur := structured[CertificationList](t, res).NextCursor
		res = callTool(t, s, "list_certifications", map[string]any{"status": "completed", "cursor": cur})
		assertError(t, res, certs.EINVALID, "cursor belongs to a different query")
	})
	t.Run("reviewer by email is resolved", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"reviewer": "carol@example.com", "status": "all"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, []string{"cert-carol"}, certIDs(structured[CertificationList](t, res)))
		assert.Contains(t, resultText(res), "Carol Chen's [id-carol] certifications (open and completed), due soonest first: 1-1 of 1.")
	})
	t.Run("a reviewer given by id is named", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"reviewer": "id-carol"})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), "Carol Chen's [id-carol] open certifications, due soonest first: 1-1 of 1.")
		res = callTool(t, s, "list_certifications", map[string]any{"reviewer": "id-bob"})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), "Bob Brown's [id-bob] open certifications, due soonest first: none.", "named even with nothing to list")
	})
	t.Run("a name is not a reviewer: find_people finds the person", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"reviewer": "Carol Chen"})
		assertError(t, res, certs.EINVALID, `reviewer "Carol Chen" looks like a name; give an ISC identity id or an email address. find_people finds a person by name`)
		res = callTool(t, s, "list_certifications", map[string]any{"reviewer": "carol"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "Reviewer carol's open certifications, due soonest first: none.\n"+
			`No ISC identity has the id "carol"; to find a person by name, use find_people.`+"\n", resultText(res))
	})
	t.Run("an email no identity has", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"reviewer": "nobody@example.com"})
		assertError(t, res, certs.ENOTFOUND, "nobody@example.com")
	})
	t.Run("campaign without reviewer means every reviewer", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{"campaign_id": "camp-1"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, []string{"cert-1", "cert-2", "cert-carol"}, certIDs(structured[CertificationList](t, res)))
		assert.Contains(t, resultText(res), "Campaign camp-1's open certifications")
	})
	t.Run("work becomes overdue as time passes", func(t *testing.T) {
		b.clock.Advance(3 * 24 * time.Hour)
		t.Cleanup(func() { b.clock.Advance(-3 * 24 * time.Hour) })
		res := callTool(t, s, "list_certifications", map[string]any{})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, 3, strings.Count(resultText(res), "(OVERDUE)"), resultText(res))
	})
}

func TestReadTools(t *testing.T) {
	s, _ := setup(t, testConfig{})
	cases := []struct {
		tool string
		args map[string]any
		text string
	}{
		{"get_certification", map[string]any{"certification_id": "cert-1"}, "No reassignment requests"},
		{"get_certification", map[string]any{"certification_id": "cert-1"}, "task task-queued REASSIGN: QUEUED"},
		{"list_reviewers", map[string]any{"certification_id": "cert-1", "name": "Ali"}, "Alice Admin <alice@example.com>"},
		{"list_review_items", map[string]any{"certification_id": "cert-1", "access_type": "ENTITLEMENT"}, `ENTITLEMENT "db_admin" on Oracle · privileged`},
		{"list_review_items", map[string]any{"certification_id": "cert-2", "status": "completed"}, `ROLE "Payroll Clerk" · APPROVE`},
		{"list_review_items", map[string]any{"certification_id": "cert-1"}, "- Bob Brown [item-1] · ENTITLEMENT \"db_admin\" on Oracle · privileged\n- Bob Brown [item-2] · ROLE \"Finance Analyst\"\n" +
			"Identities (identity id · identity summary id):\n- Bob Brown: id-bob · sum-bob\n"},
		{"get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": []string{"SELECT"}}, "PAYROLL.SALARIES: SELECT, UPDATE"},
		{"list_pending_tasks", map[string]any{"certification_id": "cert-1"}, "1 pending ISC task on certification cert-1.\n- task task-queued REASSIGN: QUEUED"},
		{"get_reassignment_status", map[string]any{"task_id": "task-done"}, "task task-done REASSIGN: SUCCESS"},
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
	s, b := setup(t, testConfig{})
	long := strings.Repeat("a", 300)
	item := []string{"item-1"}
	cases := []struct {
		name, tool string
		args       map[string]any
		// names are what the text must say besides the code: the
		// argument, and what is wrong with it.
		names []string
	}{
		{"missing required id", "get_certification", map[string]any{}, []string{"certification_id is required"}},
		{"id of wrong type", "get_certification", map[string]any{"certification_id": 42}, []string{"certification_id must be a string"}},
		{"filter injection in id", "get_certification", map[string]any{"certification_id": `abc" or id pr`}, []string{"certification_id", `contains '"'`}},
		{"path traversal in id", "list_pending_tasks", map[string]any{"certification_id": "../x"}, []string{"certification_id", "contains '/'"}},
		{"dot-dot id", "list_pending_tasks", map[string]any{"certification_id": ".."}, []string{`certification_id ".." is not a valid id`}},
		{"too long id", "get_certification", map[string]any{"certification_id": long}, []string{"certification_id is 300 characters; at most 128"}},
		{"bad campaign id", "list_certifications", map[string]any{"campaign_id": "a b"}, []string{"campaign_id", "contains ' '"}},
		{"limit out of range", "list_certifications", map[string]any{"limit": 1000}, []string{"limit must be between 1 and 100, got 1000"}},
		{"limit zero", "list_certifications", map[string]any{"limit": 0}, []string{"limit must be between 1 and 100, got 0"}},
		{"limit of wrong type", "list_certifications", map[string]any{"limit": "ten"}, []string{"limit must be an integer"}},
		{"unknown enum", "list_certifications", map[string]any{"status": "pending"}, []string{"status must be one of open, completed, all", `"pending"`}},
		{"unknown access type", "list_review_items", map[string]any{"certification_id": "cert-1", "access_type": "GROUP"}, []string{"access_type must be one of", `"GROUP"`}},
		{"unknown argument", "list_certifications", map[string]any{"sort": "due"}, []string{`unknown argument "sort"`}},
		{"garbage cursor", "list_certifications", map[string]any{"cursor": "not-a-cursor"}, []string{"cursor is not one this server returned"}},
		{"control character in filter", "list_reviewers", map[string]any{"certification_id": "cert-1", "name": "a\x00b"}, []string{"name"}},
		{"filter too long", "list_reviewers", map[string]any{"certification_id": "cert-1", "name": long}, []string{"name is 300 characters; at most 200"}},
		{"injection in reviewer", "list_certifications", map[string]any{"reviewer": `x" or 1 eq 1`}, []string{"reviewer", `contains '"'`}},
		{"rights of the wrong item type", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": []any{1}}, []string{"rights must be an array of strings"}},
		{"rights not an array", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": "SELECT"}, []string{"rights must be an array"}},
		{"too many rights", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}}, []string{"rights has 11 entries; at most 10"}},
		{"target_match without target", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "target_match": "prefix"}, []string{"target_match needs target"}},
		{"no way of choosing work", "plan_reassignment", map[string]any{"certification_id": "cert-1", "target": "id-carol", "reason": "away"}, []string{"exactly one of item_ids, identity_summary_ids, identity_ids (got 0)"}},
		{"two ways of choosing work", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "identity_ids": []string{"id-bob"}, "target": "id-carol", "reason": "away"}, []string{"exactly one of item_ids, identity_summary_ids, identity_ids (got 2)"}},
		{"bad item id", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": []string{"item-1", "../../etc"}, "target": "id-carol", "reason": "away"}, []string{"item_ids[1]", "contains '/'"}},
		{"an item twice", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": []string{"item-1", "item-1"}, "target": "id-carol", "reason": "away"}, []string{`item_ids lists "item-1" twice`}},
		// The target and the reason are judged by the Service, in its words.
		{"blank reason", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "id-carol", "reason": "   "}, []string{"reason", "required"}},
		{"reason with a control character", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "id-carol", "reason": "away\x00"}, []string{"reason", "U+0000"}},
		{"missing target", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "reason": "away"}, []string{"target is required"}},
		{"bad target id", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "../x", "reason": "away"}, []string{`"../x"`, "contains '/'"}},
		{"a name as target", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "Carol Chen", "reason": "away"},
			[]string{`target "Carol Chen" looks like a name; give an ISC identity id or an email address. find_people finds a person by name and returns both`}},
		{"a name with an apostrophe and a hyphen as target", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "Siobhán O'Brien-Smith", "reason": "away"}, []string{"looks like a name", "find_people"}},
		{"target over its schema bound", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": long + "@example.com", "reason": "away"}, []string{"target is 312 characters; at most 254"}},
		{"direction control in a target email", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "car\u202Eol@example.com", "reason": "away"}, []string{"target contains U+202E"}},
		{"direction control in a reviewer email", "list_certifications", map[string]any{"reviewer": "car\u202Eol@example.com"}, []string{"reviewer contains U+202E"}},
		{"bad target email", "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": item, "target": "carol@@example.com", "reason": "away"}, []string{`"carol@@example.com" is not a valid email address`}},
		{"both request and task", "get_reassignment_status", map[string]any{"request_id": "r1", "task_id": "t1"}, []string{"give either request_id or task_id, not both"}},
		{"neither request nor task", "get_reassignment_status", map[string]any{}, []string{"request_id or task_id is required"}},
		{"bad request id", "get_reassignment_status", map[string]any{"request_id": "r 1"}, []string{"request_id", "contains ' '"}},
		{"bad plan id", "reassign", map[string]any{"plan_id": "p/1"}, []string{"plan_id", "contains '/'"}},
		{"wait out of range", "reassign", map[string]any{"plan_id": "p1", "wait_seconds": 9999}, []string{"wait_seconds must be between 0 and 120, got 9999"}},
		{"confirm too long", "reassign", map[string]any{"plan_id": "p1", "confirm": long}, []string{"confirm is 300 characters"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, callTool(t, s, c.tool, c.args), certs.EINVALID, c.names...)
		})
	}
	t.Run("arguments that are not an object", func(t *testing.T) {
		res := callToolParams(t, s, map[string]any{"name": "list_certifications", "arguments": []int{1}})
		assertError(t, res, certs.EINVALID, "arguments must be a JSON object")
	})
	t.Run("nothing reached ISC's write operations", func(t *testing.T) {
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("the server keeps serving", func(t *testing.T) {
		res := callTool(t, s, "list_certifications", map[string]any{})
		assert.False(t, res.IsError, resultText(res))
	})
}

func TestNotFoundAndForbidden(t *testing.T) {
	s, _ := setup(t, testConfig{})
	cases := []struct {
		name  string
		actor certs.Actor
		tool  string
		args  map[string]any
		code  string
		names []string
	}{
		{"unknown certification", testActor, "get_certification", map[string]any{"certification_id": "cert-x"}, certs.ENOTFOUND, []string{"cert-x"}},
		{"unknown task", testActor, "get_reassignment_status", map[string]any{"task_id": "task-x"}, certs.ENOTFOUND, []string{"task-x"}},
		{"unknown request", testActor, "get_reassignment_status", map[string]any{"request_id": "req-x"}, certs.ENOTFOUND, []string{"req-x"}},
		{"unknown plan", testActor, "reassign", map[string]any{"plan_id": "plan-x", "confirm": "d"}, certs.ENOTFOUND, []string{"plan-x"}},
		{"unknown target", testActor, "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": []string{"item-1"}, "target": "id-zed", "reason": "away"}, certs.ENOTFOUND, []string{"id-zed", "to find a person by name, use find_people"}},
		{"an item of another certification", testActor, "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": []string{"item-c1"}, "target": "id-carol", "reason": "away"}, certs.EINVALID, []string{"item-c1"}},
		{"another reviewer's certification", bob, "get_certification", map[string]any{"certification_id": "cert-1"}, certs.EFORBIDDEN, []string{"cert-1"}},
		{"another reviewer's certifications", bob, "list_certifications", map[string]any{"reviewer": "id-alice"}, certs.EFORBIDDEN, []string{"id-alice"}},
		{"another reviewer's items", bob, "list_review_items", map[string]any{"certification_id": "cert-1"}, certs.EFORBIDDEN, []string{"cert-1"}},
		{"another reviewer's tasks", bob, "get_reassignment_status", map[string]any{"task_id": "task-queued"}, certs.EFORBIDDEN, []string{"cert-1"}},
		{"another reviewer's work", bob, "plan_reassignment", map[string]any{"certification_id": "cert-1", "item_ids": []string{"item-1"}, "target": "id-carol", "reason": "grab"}, certs.EFORBIDDEN, []string{"cert-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, callToolAs(t, s, c.actor, map[string]any{"name": c.tool, "arguments": c.args}), c.code, c.names...)
		})
	}
	t.Run("a reviewer sees their own list", func(t *testing.T) {
		res := callToolAs(t, s, bob, map[string]any{"name": "list_certifications", "arguments": map[string]any{}})
		require.False(t, res.IsError, resultText(res))
		assert.Empty(t, structured[CertificationList](t, res).Certifications)
	})
}

func TestDomainErrorsAreErrorResults(t *testing.T) {
	s, b := setup(t, testConfig{})
	fail := func(method string, err error) {
		b.tenant.Fail[method] = err
		t.Cleanup(func() { delete(b.tenant.Fail, method) })
	}

	fail("ListCertifications", &certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint did not answer listIdentityCertifications",
		Upstream: &certs.Upstream{Operation: "listIdentityCertifications", Status: 503, DetailCode: "503 Service Unavailable", TrackingID: "trk-123"}})
	res := callTool(t, s, "list_certifications", map[string]any{})
	assertError(t, res, certs.EUNAVAILABLE, "SailPoint did not answer listIdentityCertifications", "trk-123", "503 Service Unavailable", "operation listIdentityCertifications")
	assert.Equal(t, 1, strings.Count(resultText(res), "trk-123"), "the tracking id is quoted once: %s", resultText(res))

	fail("ListReviewItems", &certs.Error{Code: certs.EINVALID, Message: "ISC refused the filter",
		Upstream: &certs.Upstream{Operation: "listReviewItems", Status: 400, DetailCode: "400.1 Bad Request Content", Messages: []string{"unknown field"}}})
	res = callTool(t, s, "list_review_items", map[string]any{"certification_id": "cert-1"})
	assertError(t, res, certs.EINVALID, "ISC refused the filter [operation listReviewItems, HTTP 400, detailCode 400.1 Bad Request Content, SailPoint says: unknown field]")

	fail("GetTask", certs.Errorf(certs.ERATELIMITED, "SailPoint's rate limit was reached; try again in 10s"))
	res = callTool(t, s, "get_reassignment_status", map[string]any{"task_id": "task-queued"})
	assertError(t, res, certs.ERATELIMITED, "try again in 10s")

	fail("GetCertification", assert.AnError) // not a certs.Error: internals must not leak
	res = callTool(t, s, "get_certification", map[string]any{"certification_id": "cert-1"})
	require.True(t, res.IsError)
	assert.Equal(t, "internal error: internal error", resultText(res))
}

func TestErrorPrefixesCoverEveryCode(t *testing.T) {
	for _, code := range []string{certs.EINVALID, certs.ENOTFOUND, certs.EFORBIDDEN, certs.ECONFLICT, certs.ERATELIMITED, certs.EUNAVAILABLE, certs.EUNKNOWN, certs.EINTERNAL} {
		assert.NotEmpty(t, errorPrefixes[code], code)
	}
}

// panickyTenant panics where a bug would.
type panickyTenant struct{ *certstest.Tenant }

func (panickyTenant) ListReviewers(ctx context.Context, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	panic("boom")
}

func TestPanicBecomesErrorResult(t *testing.T) {
	s, _ := setup(t, testConfig{Tenant: func(tn *certstest.Tenant) certs.Tenant { return panickyTenant{tn} }})
	res := callTool(t, s, "list_reviewers", map[string]any{"certification_id": "cert-1"})
	require.True(t, res.IsError)
	assert.Equal(t, "internal error: the tool failed unexpectedly; the failure was logged", resultText(res))
	res = callTool(t, s, "list_certifications", map[string]any{})
	assert.False(t, res.IsError, "the server keeps serving after a panic")
}

func plan(t *testing.T, res *mcp.CallToolResult) PlanOut {
	t.Helper()
	require.False(t, res.IsError, resultText(res))
	return structured[PlanOut](t, res)
}

// planMove plans moving cert-1's items to Carol.
func planMove(t *testing.T, s *server.MCPServer, items ...string) PlanOut {
	t.Helper()
	if len(items) == 0 {
		items = []string{"item-1", "item-2"}
	}
	return plan(t, callTool(t, s, "plan_reassignment", map[string]any{
		"certification_id": "cert-1", "item_ids": items, "target": "carol@example.com", "reason": "Bob moved to Carol's team",
	}))
}

func TestPlanAndReassignWithDigest(t *testing.T) {
	s, b := setup(t, testConfig{Tenant: finishTasks})
	p := planMove(t, s)
	assert.Equal(t, "id-carol", p.To.ID)
	assert.Equal(t, "Carol Chen", p.To.Name)
	assert.Equal(t, 2, p.ItemCount)
	assert.Equal(t, []string{"Bob Brown"}, p.IdentityNames)
	assert.Equal(t, 1, p.Calls)
	assert.NotEmpty(t, p.Digest)
	assert.Empty(t, b.tenant.Reassignments(), "planning submits nothing")

	t.Run("without confirmation a client that cannot elicit is refused", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID})
		assertError(t, res, certs.EINVALID, "confirm is required", "digest")
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("a wrong digest is refused", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": "digest-other"})
		assertError(t, res, certs.EINVALID, `"digest-other"`, "is not a plan digest", "mistyped", "plan "+p.PlanID+"'s digest")
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("the digest submits, and waiting follows it to the end", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest, "wait_seconds": 60})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Equal(t, "Done: 2 items moved to Carol Chen.", out.Message)
		require.NotNil(t, out.Request)
		assert.Equal(t, 2, out.Request.Progress.ItemsMoved)
		assert.True(t, out.Request.Final)
		require.Len(t, b.tenant.Reassignments(), 1, "exactly one ISC call")
		assert.Equal(t, "id-carol", b.tenant.Reassignments()[0].To)
		assert.Equal(t, 1, b.tenant.Calls("Reassign"), "at most certs.MaxSyncReassign items: one synchronous call")
		assert.Zero(t, b.tenant.Calls("ReassignAsync")+b.tenant.Calls("GetTask"), "no task to follow")
		require.Len(t, out.Request.Tasks, 1)
		assert.Equal(t, RequestTaskOut{Call: 0, Status: "SUCCESS"}, out.Request.Tasks[0])
		assert.Contains(t, resultText(res), "is completed: 2 items of \"Q4 Manager Review: Alice\" from Alice Admin to Carol Chen.")
		assert.Contains(t, resultText(res), "ISC calls: 1 done, 0 running, 0 queued, 0 failed of 1; 2 items moved.")
		assert.Contains(t, resultText(res), "- call 1: done (a synchronous call; no task)")
	})
	t.Run("a plan is carried out once", func(t *testing.T) {
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		assertError(t, res, certs.ECONFLICT, p.PlanID)
		assert.Len(t, b.tenant.Reassignments(), 1)
	})
	t.Run("a plan carried out already is refused before the person is asked", func(t *testing.T) {
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		assertError(t, res, certs.ECONFLICT, "plan "+p.PlanID+" was already filed as request "+p.PlanID+", which is completed: nothing was asked or sent",
			"get_reassignment_status with request_id "+p.PlanID)
		assert.Empty(t, res.InputRequests, "no question whose answer cannot count")
		assert.Len(t, b.tenant.Reassignments(), 1)
	})
	t.Run("the certification shows the request", func(t *testing.T) {
		res := callTool(t, s, "get_certification", map[string]any{"certification_id": "cert-1"})
		require.False(t, res.IsError, resultText(res))
		out := structured[CertificationDetailOut](t, res)
		require.Len(t, out.Requests, 1)
		assert.Equal(t, "completed", out.Requests[0].State)
		assert.Equal(t, "mcp:alice-laptop", out.Requests[0].Requester)
	})
}

// What the person is told when ISC's answer to a reassignment is lost,
// when SailPoint cannot be reached, and when it refuses: the kind of
// failure first, the request, SailPoint's tracking id once.
func TestReassignFaults(t *testing.T) {
	upstream := func(code, msg string, status int, trk string) *certs.Error {
		return &certs.Error{Code: code, Message: msg, Upstream: &certs.Upstream{Operation: "reassignCertifications", Status: status, TrackingID: trk}}
	}
	cases := []struct {
		name string
		// fault is put on the tenant before reassign is called.
		fault   func(tn *certstest.Tenant)
		code    string
		applied int
		trk     string
	}{
		{"the answer is lost after ISC applied the call", func(tn *certstest.Tenant) {
			tn.AfterReassign = func(int, certs.Reassignment) error {
				return upstream(certs.EUNKNOWN, "the connection closed after the reassignment was sent", 503, "trk-lost")
			}
		}, certs.EUNKNOWN, 1, "trk-lost"},
		{"SailPoint cannot be reached", func(tn *certstest.Tenant) {
			tn.BeforeReassign = func(int, certs.Reassignment) error {
				return upstream(certs.EUNAVAILABLE, "SailPoint could not be reached", 503, "trk-down")
			}
		}, certs.EUNAVAILABLE, 0, "trk-down"},
		{"SailPoint refuses the call", func(tn *certstest.Tenant) {
			tn.BeforeReassign = func(int, certs.Reassignment) error {
				return upstream(certs.EINVALID, "ISC refused the reassignment", 400, "trk-refused")
			}
		}, certs.EINVALID, 0, "trk-refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, b := setup(t, testConfig{Service: func(o *certs.Options) {
				// The Service retries an unreachable SailPoint within half
				// of this lease; keep that short.
				o.SubmitLease = 20 * time.Millisecond
			}})
			p := planMove(t, s)
			c.fault(b.tenant)
			res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
			assertError(t, res, c.code, p.PlanID, "tracking id "+c.trk, "operation reassignCertifications")
			assert.Equal(t, 1, strings.Count(resultText(res), c.trk), "the tracking id is quoted once: %s", resultText(res))
			assert.Len(t, b.tenant.Reassignments(), c.applied)

			st := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": p.PlanID})
			require.False(t, st.IsError, resultText(st))
			assert.Equal(t, p.PlanID, structured[ReassignmentStatus](t, st).Request.ID, "the request is there to follow")
		})
	}
}

// What get_reassignment_status and reassign say of calls that have no task:
// an answer lost, a call not sent yet because another request's outcome on
// the same certification is being settled. Their words must stay true.
func TestRequestStatusTellsOfEveryCall(t *testing.T) {
	s, b := setup(t, testConfig{})
	// 501 items: two calls; ISC's answer to the second is lost.
	first := planMove(t, s, addItems(b.tenant, certs.MaxAsyncReassign+1)...)
	b.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
		if n == 1 {
			return &certs.Error{Code: certs.EUNKNOWN, Message: "the connection closed after the call was sent",
				Upstream: &certs.Upstream{Operation: "submitReassignCertsAsync", Status: 503, TrackingID: "trk-lost"}}
		}
		return nil
	}
	res := callTool(t, s, "reassign", map[string]any{"plan_id": first.PlanID, "confirm": first.Digest})
	assertError(t, res, certs.EUNKNOWN, "call 2 of 2")

	st := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": first.PlanID})
	require.False(t, st.IsError, resultText(st))
	text := resultText(st)
	assert.Contains(t, text, "ISC calls: 0 done, 0 running, 1 queued, 0 failed, 1 outcome unknown (nothing resubmitted) of 2; 0 items moved.")
	assert.Contains(t, text, "- call 2: outcome unknown; nothing resubmitted")
	assert.Equal(t, 1, strings.Count(text, "trk-lost"), "the tracking id is quoted once: %s", text)

	t.Run("another request on the certification waits, and says so", func(t *testing.T) {
		b.tenant.BeforeReassign = nil
		second := planMove(t, s, "item-1")
		res := callTool(t, s, "reassign", map[string]any{"plan_id": second.PlanID, "confirm": second.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeSubmitted, out.Outcome)
		assert.Contains(t, out.Message, "Confirmed request "+second.PlanID+", which waits: its next call is not sent until request "+first.PlanID)
		assert.NotContains(t, out.Message, "Submitted", "nothing was sent")
		assert.Contains(t, resultText(res), "0 failed, 1 still to send of 1; 0 items moved.\nWaiting: the next call is not sent until request "+first.PlanID)
		assert.Len(t, b.tenant.Reassignments(), 1, "only the first request's first call reached ISC")
	})
}

func TestReassignWait(t *testing.T) {
	// More than certs.MaxSyncReassign items: ISC takes them as a task,
	// which reassign follows through Service.FollowRequest while it waits.
	n := certs.MaxSyncReassign + 1

	t.Run("waiting follows the tasks to the end", func(t *testing.T) {
		s, b := setup(t, testConfig{Tenant: finishTasks})
		p := planMove(t, s, addItems(b.tenant, n)...)
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest, "wait_seconds": 60})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome, resultText(res))
		require.NotNil(t, out.Request)
		assert.Equal(t, n, out.Request.Progress.ItemsMoved)
		assert.Positive(t, b.tenant.Calls("GetTask"), "the task was read: no worker runs in this test")
	})
	t.Run("without waiting the request is returned as submitted", func(t *testing.T) {
		s, b := setup(t, testConfig{})
		p := planMove(t, s, addItems(b.tenant, n)...)
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeSubmitted, out.Outcome)
		assert.Equal(t, "Submitted request "+out.Request.ID+" to ISC; follow it with get_reassignment_status.", out.Message)
		assert.False(t, out.Request.Final)

		st := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": out.Request.ID})
		require.False(t, st.IsError, resultText(st))
		assert.Equal(t, "submitted", structured[ReassignmentStatus](t, st).Request.State)
	})
	t.Run("a wait that runs out is not an error", func(t *testing.T) {
		// ISC never finishes the task: reassign answers after
		// wait_seconds with the state as it stands.
		s, b := setup(t, testConfig{})
		p := planMove(t, s, addItems(b.tenant, n)...)
		res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest, "wait_seconds": 1})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeSubmitted, out.Outcome)
		require.NotNil(t, out.Request)
		assert.Equal(t, "submitted", out.Request.State)
		assert.Positive(t, b.tenant.Calls("GetTask"), "the task was read while waiting")
	})
}

func TestReassignUnderApprovalPolicy(t *testing.T) {
	s, b := setup(t, testConfig{Policy: certs.Policy{RequireApproval: true, Approvers: []string{"slack:U123"}}})
	p := planMove(t, s, "item-1")
	assert.Contains(t, p.text(true), "requires approval")
	res := callTool(t, s, "reassign", map[string]any{"plan_id": p.PlanID, "confirm": p.Digest, "wait_seconds": 5})
	require.False(t, res.IsError, resultText(res))
	out := structured[ReassignOut](t, res)
	assert.Equal(t, outcomePendingApproval, out.Outcome)
	assert.Contains(t, out.Message, "approval by the Slack approvers")
	require.NotNil(t, out.Request)
	assert.Equal(t, "pending", out.Request.State)
	assert.Contains(t, out.Request.Approvers, "slack:U123")
	assert.NotEmpty(t, out.Request.ExpiresAt)
	assert.Contains(t, resultText(res), "Nothing has moved yet")
	assert.Empty(t, b.tenant.Reassignments(), "nothing moves before an approver approves")

	t.Run("filing it again is refused before the person is asked", func(t *testing.T) {
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		assertError(t, res, certs.ECONFLICT, "which is pending: nothing was asked or sent; it waits for an approver")
		assert.Empty(t, res.InputRequests)
	})
	t.Run("its status", func(t *testing.T) {
		res := callTool(t, s, "get_reassignment_status", map[string]any{"request_id": out.Request.ID})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "pending", structured[ReassignmentStatus](t, res).Request.State)
		assert.Contains(t, resultText(res), "Waiting for an approver's decision in Slack")
	})
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
	newPlan := func(t *testing.T) (*server.MCPServer, *testBundle, PlanOut) {
		s, b := setup(t, testConfig{Tenant: finishTasks})
		return s, b, planMove(t, s, "item-1")
	}
	ask := func(t *testing.T, s *server.MCPServer, p PlanOut) *mcp.CallToolResult {
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(true)})
		require.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		req, ok := res.InputRequests[confirmInput]
		require.True(t, ok)
		require.NotNil(t, req.Elicitation)
		assert.Contains(t, req.Elicitation.Message, "Reassign review work?\n\n"+p.Summary, "the person is shown the plan's own summary")
		assert.Equal(t, p.Digest, res.RequestState)
		return res
	}
	answer := func(t *testing.T, s *server.MCPServer, p PlanOut, state string, reply map[string]any) *mcp.CallToolResult {
		return callToolParams(t, s, map[string]any{
			"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID, "wait_seconds": 60}, "_meta": modernMeta(true),
			"inputResponses": map[string]any{confirmInput: reply}, "requestState": state,
		})
	}

	t.Run("accept submits", func(t *testing.T) {
		s, b, p := newPlan(t)
		first := ask(t, s, p)
		assert.Empty(t, b.tenant.Reassignments(), "asking submits nothing")
		res := answer(t, s, p, first.RequestState, map[string]any{"action": "accept", "content": map[string]any{"confirm": true}})
		require.False(t, res.IsError, resultText(res))
		out := structured[ReassignOut](t, res)
		assert.Equal(t, outcomeCompleted, out.Outcome)
		assert.Len(t, b.tenant.Reassignments(), 1)
		// One item, in the singular everywhere.
		assert.Equal(t, "Done: 1 item moved to Carol Chen.", out.Message)
		assert.Contains(t, resultText(res), `is completed: 1 item of "Q4 Manager Review: Alice" from Alice Admin to Carol Chen.`)
		assert.Contains(t, resultText(res), "of 1; 1 item moved.")
		confirm := first.InputRequests[confirmInput].Elicitation.RequestedSchema.(map[string]any)["properties"].(map[string]any)["confirm"].(map[string]any)
		assert.Equal(t, "Move 1 item to Carol Chen", confirm["description"])
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
			s, b, p := newPlan(t)
			first := ask(t, s, p)
			res := answer(t, s, p, first.RequestState, c.reply)
			require.False(t, res.IsError, resultText(res))
			out := structured[ReassignOut](t, res)
			assert.Equal(t, c.outcome, out.Outcome)
			assert.Contains(t, out.Message, "Nothing was changed")
			assert.Empty(t, b.tenant.Reassignments())
		})
	}
	t.Run("an answer for another plan version is refused", func(t *testing.T) {
		s, b, p := newPlan(t)
		res := answer(t, s, p, "digest-forged", map[string]any{"action": "accept"})
		assertError(t, res, certs.ECONFLICT, "another version of plan "+p.PlanID)
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("a client that can ask always asks, even given the digest", func(t *testing.T) {
		s, b, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": p.Digest}, "_meta": modernMeta(true)})
		assert.Equal(t, mcp.ResultTypeInputRequired, res.ResultType, resultText(res))
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("a client that can ask is refused a wrong digest", func(t *testing.T) {
		s, b, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID, "confirm": "0000"}, "_meta": modernMeta(true)})
		assertError(t, res, certs.EINVALID, `confirm "0000" is not plan `+p.PlanID+"'s digest", "confirm can be left out")
		assert.Empty(t, b.tenant.Reassignments())
	})
	t.Run("a modern client without elicitation must pass confirm", func(t *testing.T) {
		s, _, p := newPlan(t)
		res := callToolParams(t, s, map[string]any{"name": "reassign", "arguments": map[string]any{"plan_id": p.PlanID}, "_meta": modernMeta(false)})
		assertError(t, res, certs.EINVALID, "confirm is required")
	})
}

func TestReadOnlyServerHasNoWriteTools(t *testing.T) {
	s, _ := setup(t, testConfig{Options: Options{Tools: Selection{ReadOnly: true}}})
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
	s, _ := setup(t, testConfig{})
	out := rpc(t, s, "prompts/get", map[string]any{"name": "review_my_certifications", "arguments": map[string]any{"focus": "cert-1"}})
	require.Nil(t, out["error"])
	b := out["result"].(map[string]any)["messages"].([]any)[0].(map[string]any)["content"].(map[string]any)["text"].(string)
	assert.Contains(t, b, "plan_reassignment")
	assert.Contains(t, b, "reassign with its plan_id")
	assert.Contains(t, b, `"cert-1"`)
}
