package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/metrics/metricstest"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/tools"
)

var allTools = []string{"decide", "export_review_evidence", "find_people", "get_certification", "get_item_permissions", "get_reassignment_status", "get_review_item", "list_certifications",
	"list_pending_tasks", "list_review_items", "list_reviewers", "plan_decisions", "plan_reassignment", "reassign", "sign_off"}

// fixture is what a tour of the read tools finds to reassign.
type fixture struct {
	certID, reviewerID    string
	openItems             []string // open items not about the target
	targetID, targetEmail string
}

// readTour calls every read tool against the sandbox, checks each result
// against the tool's output schema, and finds work to reassign.
func readTour(t *testing.T, cs *mcp.ClientSession, rs map[string]*jsonschema.Resolved) fixture {
	t.Helper()
	mine := validated(t, cs, rs, "list_certifications", map[string]any{})
	rows := list(mine, "certifications")
	require.NotEmpty(t, rows, "the sandbox identity reviews nothing")
	fx := fixture{certID: str(rows[0], "id"), reviewerID: str(rows[0], "reviewer", "id")}
	for _, r := range rows {
		assert.Equal(t, fx.reviewerID, str(r, "reviewer", "id"), "my certifications are mine")
	}

	detail := validated(t, cs, rs, "get_certification", map[string]any{"certification_id": fx.certID})
	assert.Equal(t, fx.certID, str(detail, "certification", "id"))
	reviewers := validated(t, cs, rs, "list_reviewers", map[string]any{"certification_id": fx.certID})
	assert.NotEmpty(t, list(reviewers, "reviewers"))

	all := validated(t, cs, rs, "list_review_items", map[string]any{"certification_id": fx.certID, "status": "all", "limit": 100})
	items := list(all, "items")
	require.NotEmpty(t, items)
	for _, it := range items {
		if str(it, "access", "type") == "ENTITLEMENT" {
			if has, _ := it["access"].(map[string]any)["hasPermissions"].(bool); has {
				perms := validated(t, cs, rs, "get_item_permissions", map[string]any{"certification_id": fx.certID, "item_id": str(it, "id")})
				assert.NotEmpty(t, list(perms, "permissions"), "an entitlement with permissions shows them")
				break
			}
		}
	}
	validated(t, cs, rs, "list_pending_tasks", map[string]any{"certification_id": fx.certID})
	assert.NotEmpty(t, str(validated(t, cs, rs, "export_review_evidence", map[string]any{"certification_id": fx.certID}), "content"))

	// The new reviewer: another reviewer of the same campaign.
	campaign := validated(t, cs, rs, "list_certifications", map[string]any{"campaign_id": str(rows[0], "campaign", "id"), "status": "all", "limit": 100})
	var targetName string
	for _, r := range list(campaign, "certifications") {
		if id := str(r, "reviewer", "id"); id != fx.reviewerID && str(r, "reviewer", "email") != "" {
			fx.targetID, fx.targetEmail, targetName = id, str(r, "reviewer", "email"), str(r, "reviewer", "name")
			break
		}
	}
	require.NotEmpty(t, fx.targetEmail, "no other reviewer in the campaign")
	// Known only by name, the new reviewer is found with their id and email.
	people := validated(t, cs, rs, "find_people", map[string]any{"query": targetName})
	var found []string
	for _, p := range list(people, "people") {
		if str(p, "id") == fx.targetID {
			found = append(found, str(p, "email"))
		}
	}
	assert.Equal(t, []string{fx.targetEmail}, found, "find_people %q", targetName)

	open := validated(t, cs, rs, "list_review_items", map[string]any{"certification_id": fx.certID, "limit": 100})
	for _, it := range list(open, "items") {
		if str(it, "identity", "identityId") != fx.targetID {
			fx.openItems = append(fx.openItems, str(it, "id"))
		}
	}
	require.GreaterOrEqual(t, len(fx.openItems), 3, "need open items to move")
	return fx
}

func planMove(t *testing.T, cs *mcp.ClientSession, rs map[string]*jsonschema.Resolved, fx fixture, items []string) map[string]any {
	t.Helper()
	p := validated(t, cs, rs, "plan_reassignment", map[string]any{
		"certification_id": fx.certID, "item_ids": items, "target": fx.targetEmail, "reason": "Reviewer is on leave; moving to a peer",
	})
	require.NotEmpty(t, str(p, "planId"))
	require.NotEmpty(t, str(p, "digest"))
	assert.Equal(t, fx.targetID, str(p, "to", "id"))
	assert.EqualValues(t, len(items), p["itemCount"])
	return p
}

func accept(count *atomic.Int32, messages *[]string) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		count.Add(1)
		if messages != nil {
			*messages = append(*messages, req.Params.Message)
		}
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
	}
}

func decline(count *atomic.Int32) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		count.Add(1)
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
}

// requestIDs returns the ids of the reassignment requests a certification
// shows.
func requestIDs(t *testing.T, cs *mcp.ClientSession, certID string) []string {
	t.Helper()
	d := ok(t, call(t, cs, "get_certification", map[string]any{"certification_id": certID}))
	var ids []string
	for _, r := range list(d, "requests") {
		ids = append(ids, str(r, "id"))
	}
	return ids
}

// sandboxStats reads the sandbox's counters.
func sandboxStats(t *testing.T, sandboxURL string) sandbox.Stats {
	t.Helper()
	resp, err := http.Get(sandboxURL + "/_sandbox/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st sandbox.Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func TestHTTPEndToEnd(t *testing.T) {
	testEnv(t)
	s := startHTTP(t)

	var asked atomic.Int32
	var messages []string
	cs := connectHTTP(t, s, clientOptions{elicit: accept(&asked, &messages)})
	assert.Equal(t, "2026-07-28", cs.InitializeResult().ProtocolVersion, "the newest revision is negotiated")

	rs := schemas(t, cs)
	names := make([]string, 0, len(rs))
	for n := range rs {
		names = append(names, n)
	}
	slices.Sort(names)
	assert.Equal(t, allTools, names)

	fx := readTour(t, cs, rs)

	t.Run("plan then reassign, confirmed through elicitation, in one synchronous call", func(t *testing.T) {
		p := planMove(t, cs, rs, fx, fx.openItems[:1])
		before := requestIDs(t, cs, fx.certID)
		out := validated(t, cs, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "wait_seconds": 60})
		assert.EqualValues(t, 1, asked.Load(), "the person was asked once")
		require.Len(t, messages, 1)
		assert.Contains(t, messages[0], str(p, "summary"), "the question shows the plan's summary")
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
		reqID := str(out, "request", "id")

		st := validated(t, cs, rs, "get_reassignment_status", map[string]any{"request_id": reqID})
		assert.Equal(t, "completed", str(st, "request", "state"))
		calls := list(st["request"].(map[string]any), "tasks")
		require.Len(t, calls, 1, "one ISC call")
		assert.Empty(t, str(calls[0], "taskId"), "a synchronous call leaves no task to follow")
		assert.Equal(t, "SUCCESS", str(calls[0], "status"))
		// The first reassignment of this tenant: the sandbox saw one
		// synchronous reassign, no asynchronous one and no task polling.
		stats := sandboxStats(t, s.SandboxURL)
		assert.Equal(t, 1, stats.Calls("reassignIdentityCertifications"))
		assert.Zero(t, stats.Calls("submitReassignCertsAsync"))
		assert.Zero(t, stats.Calls("getCertificationTask"))

		after := requestIDs(t, cs, fx.certID)
		assert.Contains(t, after, reqID, "the certification's history shows the request")
		assert.Len(t, after, len(before)+1)

		moved := ok(t, call(t, cs, "list_review_items", map[string]any{"certification_id": fx.certID, "status": "all", "limit": 100}))
		for _, it := range list(moved, "items") {
			assert.NotEqual(t, fx.openItems[0], str(it, "id"), "the moved item left the certification")
		}
	})

	t.Run("plan by identity: all of one person's open items", func(t *testing.T) {
		open := ok(t, call(t, cs, "list_review_items", map[string]any{"certification_id": fx.certID, "limit": 100}))
		counts := map[string]int{}
		names := map[string]string{}
		for _, it := range list(open, "items") {
			if id := str(it, "identity", "identityId"); id != fx.targetID {
				counts[id]++
				names[id] = str(it, "identity", "name")
			}
		}
		require.NotEmpty(t, counts)
		var who string
		for id := range counts {
			who = id
			break
		}
		p := validated(t, cs, rs, "plan_reassignment", map[string]any{
			"certification_id": fx.certID, "identity_ids": []string{who}, "target": fx.targetID, "reason": "Moved to a new manager",
		})
		assert.EqualValues(t, counts[who], p["itemCount"], "every open item of %s", names[who])
		assert.Contains(t, p["identityNames"], names[who])
	})

	t.Run("declining changes nothing", func(t *testing.T) {
		var n atomic.Int32
		decliner := connectHTTP(t, s, clientOptions{elicit: decline(&n)})
		p := planMove(t, decliner, rs, fx, fx.openItems[1:2])
		before := requestIDs(t, decliner, fx.certID)
		out := validated(t, decliner, rs, "reassign", map[string]any{"plan_id": str(p, "planId")})
		assert.EqualValues(t, 1, n.Load())
		assert.Equal(t, "declined", str(out, "outcome"))
		assert.Contains(t, str(out, "message"), "Nothing was changed")
		assert.Equal(t, before, requestIDs(t, decliner, fx.certID))
	})

	t.Run("a client without elicitation confirms with the digest", func(t *testing.T) {
		plain := connectHTTP(t, s, clientOptions{})
		p := planMove(t, plain, rs, fx, fx.openItems[2:3])
		res := call(t, plain, "reassign", map[string]any{"plan_id": str(p, "planId")})
		require.True(t, res.IsError)
		assert.Contains(t, text(res), "confirm is required")

		res = call(t, plain, "reassign", map[string]any{"plan_id": str(p, "planId"), "confirm": "0000"})
		require.True(t, res.IsError, "a wrong digest is refused")

		out := validated(t, plain, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "confirm": str(p, "digest"), "wait_seconds": 60})
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
	})

	for _, rev := range []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"} {
		t.Run("revision "+rev+" still works", func(t *testing.T) {
			old := connectHTTP(t, s, clientOptions{protocol: rev})
			assert.Equal(t, rev, old.InitializeResult().ProtocolVersion)
			tl, err := old.ListTools(context.Background(), nil)
			require.NoError(t, err)
			assert.Len(t, tl.Tools, len(allTools))
			validated(t, old, rs, "list_certifications", map[string]any{"limit": 2})
		})
	}

	t.Run("an older revision confirms through elicitation/create", func(t *testing.T) {
		var n atomic.Int32
		old := connectHTTP(t, s, clientOptions{elicit: accept(&n, nil), protocol: "2025-11-25"})
		assert.Equal(t, "2025-11-25", old.InitializeResult().ProtocolVersion)
		p := planMove(t, old, rs, fx, fx.openItems[1:2])
		out := validated(t, old, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "wait_seconds": 60})
		assert.EqualValues(t, 1, n.Load())
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
	})

	t.Run("prompt", func(t *testing.T) {
		res, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "review_my_certifications"})
		require.NoError(t, err)
		require.NotEmpty(t, res.Messages)
		assert.Contains(t, res.Messages[0].Content.(*mcp.TextContent).Text, "plan_reassignment")
	})

	t.Run("metrics: served without a token, counting what happened", func(t *testing.T) {
		f := metricstest.Scrape(t, strings.TrimSuffix(s.URL, "/mcp")+"/metrics")
		calls := "certops_tool_calls_total"
		assert.GreaterOrEqual(t, f.Value(calls, map[string]string{"tool": "reassign", "outcome": "ok"}), 4.0, f.Series(calls))
		assert.GreaterOrEqual(t, f.Value(calls, map[string]string{"tool": "reassign", "outcome": "invalid"}), 2.0, "missing and wrong digests: %v", f.Series(calls))
		assert.Positive(t, f.Value(calls, map[string]string{"tool": "plan_reassignment", "outcome": "ok"}), f.Series(calls))
		sp := "certops_sailpoint_requests_total"
		assert.Positive(t, f.Value(sp, map[string]string{"status": "200"}), f.Series(sp))
		assert.Positive(t, f.Value(sp, map[string]string{"operation": "listIdentityCertifications"}), f.Series(sp))
		assert.Positive(t, f.Value("certops_ratelimiter_wait_seconds", nil), "every request waited (or not) for the limiter")
		assert.GreaterOrEqual(t, f.Value("certops_request_age_seconds", map[string]string{"state": "completed"}), 3.0, f.Series("certops_request_age_seconds"))
		assert.Positive(t, f.Value("certops_http_requests_total", map[string]string{"handler": "mcp", "code": "200"}), f.Series("certops_http_requests_total"))
	})
}

func TestHTTPReadOnlyHidesWriteTools(t *testing.T) {
	testEnv(t)
	s := startHTTP(t, "--read-only")
	cs := connectHTTP(t, s, clientOptions{})
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, res.Tools)
	for _, tool := range res.Tools {
		assert.NotEqual(t, "reassign", tool.Name)
		require.NotNil(t, tool.Annotations)
		assert.True(t, tool.Annotations.ReadOnlyHint, "%s in read-only mode", tool.Name)
	}
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "reassign", Arguments: map[string]any{"plan_id": "x", "confirm": "y"}})
	assert.Error(t, err, "a hidden tool cannot be called")
}

func TestHTTPToolSelectionFromEnvironment(t *testing.T) {
	testEnv(t)
	t.Setenv("CERTOPS_MCP_DENY_TOOLS", "reassign, plan_reassignment")
	s := startHTTP(t)
	cs := connectHTTP(t, s, clientOptions{})
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, res.Tools, len(allTools)-2)
	for _, tool := range res.Tools {
		assert.NotContains(t, []string{"reassign", "plan_reassignment"}, tool.Name)
	}
}

func TestUnknownToolNameFailsStartUp(t *testing.T) {
	testEnv(t)
	t.Setenv("CERTOPS_MCP_TOOLS", "list_certifications,list_certs")
	err := run(context.Background(), []string{"mcp-server", "--sandbox", "--http", "127.0.0.1:0"}, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "list_certs")
}

func TestHTTPRefusesBadTokensAndOrigins(t *testing.T) {
	testEnv(t)
	s := startHTTP(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	post := func(mod func(*http.Request)) *http.Response {
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "server/discover")
		req.Header.Set("Authorization", "Bearer "+s.Token)
		mod(req)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res := post(func(r *http.Request) {})
	assert.Equal(t, http.StatusOK, res.StatusCode, "the sandbox token works")

	res = post(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+s.Token+"x") })
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `Bearer realm="certops"`)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	res = post(func(r *http.Request) { r.Header.Del("Authorization") })
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, `Bearer realm="certops"`, res.Header.Get("WWW-Authenticate"))

	res = post(func(r *http.Request) { r.Header.Set("Origin", "https://attacker.example") })
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	res = post(func(r *http.Request) { r.Host = "attacker.example" })
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(strings.TrimSuffix(s.URL, "/mcp") + path)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
	}
	assert.NotContains(t, s.Logs.String(), s.Token, "the token is never logged")
}

func TestStdioEndToEnd(t *testing.T) {
	testEnv(t)
	var asked atomic.Int32
	s := connectStdio(t, clientOptions{elicit: accept(&asked, nil)}, "--sandbox")
	assert.Equal(t, "2026-07-28", s.InitializeResult().ProtocolVersion)
	rs := schemas(t, s.ClientSession)
	fx := readTour(t, s.ClientSession, rs)

	t.Run("bad arguments are error results", func(t *testing.T) {
		for _, c := range []struct {
			name, tool string
			args       map[string]any
		}{
			{"missing", "get_certification", map[string]any{}},
			{"wrong type", "list_review_items", map[string]any{"certification_id": 7}},
			{"out of range", "list_certifications", map[string]any{"limit": 251}},
			{"unknown enum", "list_review_items", map[string]any{"certification_id": fx.certID, "access_type": "GROUP"}},
			{"filter injection in id", "get_certification", map[string]any{"certification_id": `abc" or id pr`}},
			{"path traversal", "list_pending_tasks", map[string]any{"certification_id": "../x"}},
			{"injection in filter", "list_reviewers", map[string]any{"certification_id": fx.certID, "name": "a\"\x00"}},
			{"unknown certification", "get_certification", map[string]any{"certification_id": "0123456789abcdef0123456789abcdef"}},
			{"unknown argument", "list_certifications", map[string]any{"filters": "id eq \"x\""}},
		} {
			res := call(t, s.ClientSession, c.tool, c.args)
			assert.True(t, res.IsError, "%s: %s", c.name, text(res))
		}
		validated(t, s.ClientSession, rs, "list_certifications", map[string]any{"limit": 1})
	})

	t.Run("an upstream failure names SailPoint's tracking id", func(t *testing.T) {
		m := sandboxURLPattern.FindStringSubmatch(s.stderr.String())
		require.NotNil(t, m)
		fault := `{"operation":"listIdentityCertifications","kind":"503","count":20}`
		res, err := http.Post(m[1]+"/_sandbox/faults", "application/json", strings.NewReader(fault))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		out := call(t, s.ClientSession, "list_certifications", map[string]any{})
		require.True(t, out.IsError)
		assert.Contains(t, text(out), "unavailable")
		assert.Contains(t, text(out), "tracking id")
		req, _ := http.NewRequest(http.MethodDelete, m[1]+"/_sandbox/faults", nil)
		res, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		validated(t, s.ClientSession, rs, "list_certifications", map[string]any{"limit": 1})
	})

	t.Run("reassign confirmed through elicitation", func(t *testing.T) {
		p := planMove(t, s.ClientSession, rs, fx, fx.openItems[:2])
		out := validated(t, s.ClientSession, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "wait_seconds": 60})
		assert.EqualValues(t, 1, asked.Load())
		assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
	})

	require.NoError(t, s.Close())
	assertOnlyJSONRPC(t, s.stdoutFile)
	logs := s.stderr.String()
	assert.Contains(t, logs, "level=WARN", "warnings were logged during the session")
	assert.Contains(t, logs, "level=INFO")
}

func TestStdioOlderRevisionWithElicitation(t *testing.T) {
	testEnv(t)
	var asked atomic.Int32
	db := filepath.Join(t.TempDir(), "kept.db")
	s := connectStdio(t, clientOptions{elicit: accept(&asked, nil), protocol: "2025-06-18"}, "--sandbox", "--sqlite", db)
	assert.Equal(t, "2025-06-18", s.InitializeResult().ProtocolVersion)
	rs := schemas(t, s.ClientSession)
	fx := readTour(t, s.ClientSession, rs)
	p := planMove(t, s.ClientSession, rs, fx, fx.openItems[:1])
	out := validated(t, s.ClientSession, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "wait_seconds": 60})
	assert.EqualValues(t, 1, asked.Load(), "the server asked with elicitation/create")
	assert.Equal(t, "completed", str(out, "outcome"), "%v", out)
	require.NoError(t, s.Close())
	assertOnlyJSONRPC(t, s.stdoutFile)
	info, err := os.Stat(db)
	require.NoError(t, err, "--sqlite keeps the store where asked")
	assert.Positive(t, info.Size())
}

// assertOnlyJSONRPC checks that every line the server wrote to stdout is a
// JSON-RPC 2.0 message.
func assertOnlyJSONRPC(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		var msg map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(sc.Bytes(), &msg), "stdout line %d is not JSON: %q", n, truncate(sc.Text()))
		assert.Equal(t, `"2.0"`, string(msg["jsonrpc"]), "line %d", n)
		_, hasID := msg["id"]
		_, hasMethod := msg["method"]
		assert.True(t, hasID || hasMethod, "line %d is neither a request, a response nor a notification", n)
	}
	require.NoError(t, sc.Err())
	assert.Greater(t, n, 10, "the session wrote messages")
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestHTTPApprovalPolicyAndReviewerTokens(t *testing.T) {
	testEnv(t)
	t.Setenv("CERTOPS_REQUIRE_APPROVAL", "true")
	t.Setenv("CERTOPS_APPROVERS", "slack:U0APPROVER")
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("tokens:\n  - name: nobody-laptop\n    sha256: "+tools.HashToken("nobody-secret")+
		"\n    identityId: 00000000000000000000000000000000\n    role: reviewer\n"), 0o600))
	t.Setenv("CERTOPS_MCP_TOKENS_FILE", tokens)
	s := startHTTP(t)

	admin := connectHTTP(t, s, clientOptions{})
	rs := schemas(t, admin)
	fx := readTour(t, admin, rs)

	t.Run("reassign files a request for the approvers", func(t *testing.T) {
		p := planMove(t, admin, rs, fx, fx.openItems[:1])
		out := validated(t, admin, rs, "reassign", map[string]any{"plan_id": str(p, "planId"), "confirm": str(p, "digest"), "wait_seconds": 5})
		assert.Equal(t, "pending_approval", str(out, "outcome"))
		assert.Contains(t, str(out, "message"), "approval")
		st := validated(t, admin, rs, "get_reassignment_status", map[string]any{"request_id": str(out, "request", "id")})
		assert.Equal(t, "pending", str(st, "request", "state"))
		items := ok(t, call(t, admin, "list_review_items", map[string]any{"certification_id": fx.certID, "limit": 100}))
		var ids []string
		for _, it := range list(items, "items") {
			ids = append(ids, str(it, "id"))
		}
		assert.Contains(t, ids, fx.openItems[0], "nothing moved before approval")
	})

	t.Run("a reviewer token sees only its own work", func(t *testing.T) {
		reviewer := connectHTTP(t, &httpServer{URL: s.URL, Token: "nobody-secret"}, clientOptions{})
		mine := call(t, reviewer, "list_certifications", map[string]any{})
		if !mine.IsError {
			assert.Empty(t, list(ok(t, mine), "certifications"), "this identity reviews nothing")
		}
		res := call(t, reviewer, "get_certification", map[string]any{"certification_id": fx.certID})
		assert.True(t, res.IsError, "another reviewer's certification is not visible: %s", text(res))
		res = call(t, reviewer, "list_certifications", map[string]any{"reviewer": fx.reviewerID})
		assert.True(t, res.IsError, "listing another reviewer's certifications is refused: %s", text(res))
	})
}

func TestSIGTERMShutsDownGracefully(t *testing.T) {
	testEnv(t)
	cmd := exec.Command(binary, "--sandbox", "--http", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "certops MCP server listening on "); ok {
			url = u
			break
		}
	}
	require.NotEmpty(t, url, "stderr:\n%s", stderr.String())
	res, err := http.Get(strings.TrimSuffix(url, "/mcp") + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	go io.Copy(io.Discard, stdout)
	require.NoError(t, cmd.Wait(), "exit after SIGTERM; stderr:\n%s", stderr.String())
	assert.Contains(t, stderr.String(), "shutting down HTTP")
}

func TestStartUpErrorsNameTheSetting(t *testing.T) {
	testEnv(t)
	cases := map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no tenant configured":                       {nil, nil, "SAIL_BASE_URL"},
		"bad role":                                   {map[string]string{"CERTOPS_MCP_ROLE": "root"}, []string{"--sandbox"}, "CERTOPS_MCP_ROLE"},
		"reviewer without identity":                  {map[string]string{"CERTOPS_MCP_ROLE": "reviewer", "CERTOPS_MCP_IDENTITY_ID": ""}, nil, "CERTOPS_MCP_IDENTITY_ID"},
		"HTTP on a public address, no allowed hosts": {nil, []string{"--sandbox", "--http", "0.0.0.0:0"}, "CERTOPS_MCP_ALLOWED_HOSTS"},
		"unreadable tokens file":                     {map[string]string{"CERTOPS_MCP_TOKENS_FILE": "/nonexistent/tokens.yaml"}, []string{"--sandbox", "--http", "127.0.0.1:0"}, "CERTOPS_MCP_TOKENS_FILE"},
		"stray argument":                             {nil, []string{"--sandbox", "extra"}, "unexpected arguments"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), append([]string{"mcp-server"}, c.args...), strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
