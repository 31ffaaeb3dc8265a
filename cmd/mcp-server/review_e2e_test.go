package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A reviewer finishes a certification from an assistant alone: the
// evidence, a plan, decide (the person accepts; another time declines),
// then the rest, then sign-off. Through the go-sdk client against the
// sandbox, checking every result against its tool's output schema and
// the sandbox's own count of ISC calls.

// reviewFixture is a certification the sandbox identity can finish.
type reviewFixture struct {
	certID, certName, reviewerID string
	open                         []map[string]any // its open items
	total                        int
}

// asker answers elicitations as a person would, keeping what was asked.
type asker struct {
	mu       sync.Mutex
	action   string // accept, decline
	messages []string
}

func (a *asker) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.messages = append(a.messages, req.Params.Message)
	if a.action == "accept" {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
	}
	return &mcp.ElicitResult{Action: a.action}, nil
}

func (a *asker) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.messages)
}

// transcript logs what an assistant reads (go test -v shows it).
func transcript(t *testing.T, tool string, args map[string]any, res *mcp.CallToolResult) {
	t.Helper()
	t.Logf("> %s %v\n%s", tool, args, text(res))
}

// reviewable finds one of my ACTIVE certifications with at least three
// open items, none about me, and no ISC task pending.
func reviewable(t *testing.T, cs *mcp.ClientSession, rs map[string]*jsonschema.Resolved) reviewFixture {
	t.Helper()
	mine := validated(t, cs, rs, "list_certifications", map[string]any{"limit": 100})
	for _, c := range list(mine, "certifications") {
		if str(c, "phase") != "ACTIVE" {
			continue
		}
		fx := reviewFixture{certID: str(c, "id"), certName: str(c, "name"), reviewerID: str(c, "reviewer", "id")}
		all := validated(t, cs, rs, "list_review_items", map[string]any{"certification_id": fx.certID, "status": "all", "limit": 100})
		if all["nextCursor"] != nil {
			continue
		}
		own := false
		for _, it := range list(all, "items") {
			own = own || str(it, "identity", "identityId") == fx.reviewerID
		}
		tasks := validated(t, cs, rs, "list_pending_tasks", map[string]any{"certification_id": fx.certID})
		if own || len(list(tasks, "tasks")) > 0 {
			continue
		}
		open := validated(t, cs, rs, "list_review_items", map[string]any{"certification_id": fx.certID, "limit": 100})
		fx.open = list(open, "items")
		fx.total = len(list(all, "items"))
		if len(fx.open) >= 3 {
			return fx
		}
	}
	t.Fatal("the sandbox identity reviews no ACTIVE certification with three open items, none its own, and no pending task")
	return reviewFixture{}
}

func itemIDs(items []map[string]any) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, str(it, "id"))
	}
	return ids
}

func TestHTTPReviewEndToEnd(t *testing.T) {
	testEnv(t)
	s := startHTTP(t)
	person := &asker{action: "accept"}
	cs := connectHTTP(t, s, clientOptions{elicit: person.handle})
	rs := schemas(t, cs)
	fx := reviewable(t, cs, rs)
	first, second, third := fx.open[0], fx.open[1], fx.open[2]
	decideCalls := func() int { return sandboxStats(t, s.SandboxURL).Calls("makeIdentityDecision") }
	signOffCalls := func() int { return sandboxStats(t, s.SandboxURL).Calls("signOffIdentityCertification") }
	callLogged := func(cs *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
		res := call(t, cs, tool, args)
		transcript(t, tool, args, res)
		return res
	}
	valid := func(cs *mcp.ClientSession, tool string, args map[string]any) map[string]any {
		res := callLogged(cs, tool, args)
		m := ok(t, res)
		require.NoError(t, rs[tool].Validate(m), "%s result does not match its output schema", tool)
		return m
	}

	t.Run("the evidence: facts, and remarks naming them", func(t *testing.T) {
		args := map[string]any{"certification_id": fx.certID, "item_id": str(first, "id")}
		res := callLogged(cs, "get_review_item", args)
		m := ok(t, res)
		require.NoError(t, rs["get_review_item"].Validate(m))
		items := list(m, "items")
		require.Len(t, items, 1)
		assert.Equal(t, str(first, "identity", "identityId"), str(items[0], "identity", "identityId"))
		assert.Contains(t, text(res), "Evidence for review item "+str(first, "id")+" of certification "+fx.certID+" (facts only; certops recommends no decision):")
		assert.Contains(t, text(res), "Not decided yet.")
		for _, r := range list(items[0], "remarks") {
			assert.NotEmpty(t, r["facts"], "remark %q names its facts", r["text"])
		}

		byIdentity := valid(cs, "get_review_item", map[string]any{"certification_id": fx.certID, "identity_summary_id": str(first, "identity", "summaryId"), "limit": 5})
		require.NotEmpty(t, list(byIdentity, "items"))
		for _, it := range list(byIdentity, "items") {
			assert.Equal(t, str(first, "identity", "summaryId"), str(it, "identity", "summaryId"))
			assert.Nil(t, it["decision"], "open items only")
		}
	})

	var planID string
	t.Run("plan, then decide: the person accepts, one makeIdentityDecision call", func(t *testing.T) {
		before := decideCalls()
		p := valid(cs, "plan_decisions", map[string]any{"certification_id": fx.certID, "decisions": []map[string]any{
			{"item_id": str(first, "id"), "decision": "APPROVE", "comments": "Still needed for the quarter close"},
			{"item_id": str(second, "id"), "decision": "REVOKE", "comments": "Moved to another team in October"},
		}})
		planID = str(p, "planId")
		assert.EqualValues(t, 1, p["approve"])
		assert.EqualValues(t, 1, p["revoke"])
		assert.EqualValues(t, 1, p["calls"])
		assert.Equal(t, before, decideCalls(), "planning sends nothing")

		out := valid(cs, "decide", map[string]any{"plan_id": planID})
		asked := person.asked()
		require.Len(t, asked, 1, "the person was asked once")
		assert.Contains(t, asked[0], "Record these decisions in SailPoint?\n\n"+str(p, "summary"))
		assert.Contains(t, asked[0], "- REVOKE ")
		assert.Contains(t, asked[0], "["+str(second, "id")+`], comment "Moved to another team in October"`)
		assert.Contains(t, asked[0], "- APPROVE ")
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
		assert.Contains(t, str(out, "message"), fmt.Sprintf("Recorded in ISC: 1 item approved and 1 item revoked in certification %q. Revocations take effect when the certification is signed off.", fx.certName))
		assert.Contains(t, str(out, "message"), "Not ready to sign off yet: ")
		assert.Equal(t, before+1, decideCalls(), "one makeIdentityDecision call")

		done := ok(t, call(t, cs, "list_review_items", map[string]any{"certification_id": fx.certID, "status": "completed", "limit": 100}))
		decided := map[string]string{}
		for _, it := range list(done, "items") {
			decided[str(it, "id")] = str(it, "decision")
		}
		assert.Equal(t, "APPROVE", decided[str(first, "id")])
		assert.Equal(t, "REVOKE", decided[str(second, "id")])
	})

	t.Run("the person declines: nothing is sent", func(t *testing.T) {
		no := &asker{action: "decline"}
		other := connectHTTP(t, s, clientOptions{elicit: no.handle})
		before := decideCalls()
		p := valid(other, "plan_decisions", map[string]any{"certification_id": fx.certID, "decisions": []map[string]any{
			{"item_id": str(third, "id"), "decision": "REVOKE", "comments": "Not used in 90 days"},
		}})
		out := valid(other, "decide", map[string]any{"plan_id": str(p, "planId")})
		assert.Len(t, no.asked(), 1)
		assert.Equal(t, "declined", str(out, "outcome"))
		assert.Equal(t, "The person declined the decisions. Nothing was sent.", str(out, "message"))
		assert.Nil(t, out["request"])
		assert.Equal(t, before, decideCalls(), "no makeIdentityDecision call")
		open := ok(t, call(t, other, "list_review_items", map[string]any{"certification_id": fx.certID, "limit": 100}))
		assert.Contains(t, itemIDs(list(open, "items")), str(third, "id"), "the item is still open")
	})

	t.Run("sign-off is refused while items remain, saying how many", func(t *testing.T) {
		left := len(fx.open) - 2
		res := callLogged(cs, "sign_off", map[string]any{"certification_id": fx.certID})
		require.True(t, res.IsError)
		want := fmt.Sprintf("invalid argument: certification %s cannot be signed off: %d review items are still to decide. Nothing was signed.", fx.certID, left)
		if left == 1 {
			want = fmt.Sprintf("invalid argument: certification %s cannot be signed off: 1 review item is still to decide. Nothing was signed.", fx.certID)
		}
		assert.True(t, strings.HasPrefix(text(res), want), "%s", text(res))
		assert.Zero(t, signOffCalls())
	})

	t.Run("arguments are named in what the assistant reads", func(t *testing.T) {
		for _, c := range []struct {
			tool string
			args map[string]any
			want string
		}{
			{"plan_decisions", map[string]any{"certification_id": fx.certID, "decisions": []map[string]any{{"item_id": str(third, "id"), "decision": "MAYBE"}}},
				`invalid argument: decisions[0].decision must be APPROVE or REVOKE, got "MAYBE"`},
			{"plan_decisions", map[string]any{"certification_id": fx.certID, "select": map[string]any{"exclude_privileged": true}}, "invalid argument: select.decision is required"},
			{"decide", map[string]any{}, "invalid argument: plan_id is required"},
			{"decide", map[string]any{"plan_id": planID}, "conflict (the state changed; read it again before acting): plan " + planID + " was already filed"},
			{"sign_off", map[string]any{"certification_id": "../etc"}, "invalid argument: certification_id \"../etc\" contains '/'"},
		} {
			res := call(t, cs, c.tool, c.args)
			require.True(t, res.IsError, "%s %v: %s", c.tool, c.args, text(res))
			assert.True(t, strings.HasPrefix(text(res), c.want), "%s", text(res))
		}
		assert.Len(t, person.asked(), 1, "a plan already carried out is refused before the person is asked again")
	})

	t.Run("decide the rest, then sign off", func(t *testing.T) {
		person.mu.Lock()
		person.messages = nil
		person.mu.Unlock()
		before := decideCalls()
		p := valid(cs, "plan_decisions", map[string]any{"certification_id": fx.certID, "select": map[string]any{"decision": "APPROVE"}, "comments": "Reviewed with the team lead"})
		assert.EqualValues(t, len(fx.open)-2, p["approve"])
		out := valid(cs, "decide", map[string]any{"plan_id": str(p, "planId")})
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
		assert.Contains(t, str(out, "message"), "Every item is decided: when the person is ready, sign_off signs the certification off (final).")
		assert.Equal(t, before+1, decideCalls())

		signed := valid(cs, "sign_off", map[string]any{"certification_id": fx.certID})
		asked := person.asked()
		require.Len(t, asked, 2)
		assert.Contains(t, asked[1], fmt.Sprintf("Sign off certification %q? This is final.", fx.certName))
		assert.Regexp(t, `It makes final: \d+ items approved and \d+ items? revoked\.\nAccess ISC removes after sign-off:\n`, asked[1])
		assert.Contains(t, asked[1], `comment "Moved to another team in October"`)
		assert.Equal(t, "completed", str(signed, "outcome"), "%v", signed)
		assert.Equal(t, 1, signOffCalls(), "one signOffIdentityCertification call")

		detail := valid(cs, "get_certification", map[string]any{"certification_id": fx.certID})
		assert.Equal(t, "SIGNED", str(detail, "certification", "phase"))
		res := call(t, cs, "plan_decisions", map[string]any{"certification_id": fx.certID, "decisions": []map[string]any{{"item_id": str(first, "id"), "decision": "REVOKE", "comments": "late"}}})
		require.True(t, res.IsError)
		assert.Contains(t, text(res), "is signed off; its decisions are final")
	})
}

func TestHTTPReadOnlyOffersNoReviewWrites(t *testing.T) {
	testEnv(t)
	s := startHTTP(t, "--read-only")
	cs := connectHTTP(t, s, clientOptions{})
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	assert.Contains(t, names, "get_review_item")
	assert.Contains(t, names, "plan_decisions")
	for _, w := range []string{"decide", "sign_off"} {
		assert.NotContains(t, names, w)
		_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: w, Arguments: map[string]any{"plan_id": "x", "certification_id": "y"}})
		assert.Error(t, err, "a hidden tool cannot be called")
	}
}

func TestStdioOlderRevisionDecides(t *testing.T) {
	// On 2025-06-18 the confirmation is an elicitation/create request.
	testEnv(t)
	person := &asker{action: "accept"}
	s := connectStdio(t, clientOptions{elicit: person.handle, protocol: "2025-06-18"}, "--sandbox")
	rs := schemas(t, s.ClientSession)
	fx := reviewable(t, s.ClientSession, rs)
	p := validated(t, s.ClientSession, rs, "plan_decisions", map[string]any{"certification_id": fx.certID, "decisions": []map[string]any{
		{"item_id": str(fx.open[0], "id"), "decision": "APPROVE", "comments": "Needed for payroll"},
	}})
	out := validated(t, s.ClientSession, rs, "decide", map[string]any{"plan_id": str(p, "planId")})
	assert.Len(t, person.asked(), 1, "the server asked with elicitation/create")
	assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
}
