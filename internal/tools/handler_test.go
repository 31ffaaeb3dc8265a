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
	"github.com/certops/certops/internal/certs/certstest"
)

// textPolicyServer is a tool server over the real certs.Service and
// certstest's fakes: Alice (the test actor) reviews cert-1, whose item-1 is
// about Bob; Carol could take it over.
func textPolicyServer(t *testing.T) (*server.MCPServer, *certstest.Tenant, *certstest.Store) {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	tn := certstest.NewTenant()
	tn.Now = now
	tn.AddIdentity("id-alice", "Alice Admin", "alice@example.com")
	tn.AddIdentity("id-bob", "Bob Brown", "bob@example.com")
	tn.AddIdentity("id-carol", "Carol Chen", "carol@example.com")
	tn.AddCertification(certs.Certification{ID: "cert-1", Name: "Q4 Manager Review: Alice", Phase: certs.PhaseActive,
		Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com", Type: certs.ReviewerIdentity}})
	tn.AddItems("cert-1", certs.ReviewItem{ID: "item-1",
		IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Brown", IdentityID: "id-bob"},
		Access:          certs.Access{Type: certs.AccessEntitlement, ID: "ent-1", Name: "db_admin", SourceName: "Oracle", HasPermissions: true}})
	st := certstest.NewStore()
	st.Now = now
	svc := certs.NewService(certs.Options{Tenant: tn, Store: st, Logger: quietLogger(), Now: now})
	return newTestServer(t, svc, Options{Now: now}), tn, st
}

// A text-direction override in a reassignment's reason is refused as an
// invalid argument naming the reason, the character and where it is;
// nothing is planned, recorded or sent.
func TestPlanReassignmentRefusesDirectionControlsInTheReason(t *testing.T) {
	s, tn, st := textPolicyServer(t)
	for _, reason := range []string{"on leave \u202Eevael no", "on leave\u2066", "\uFEFFon leave"} {
		res := callTool(t, s, "plan_reassignment", map[string]any{
			"certification_id": "cert-1", "item_ids": []string{"item-1"}, "target": "id-carol", "reason": reason,
		})
		assertInvalid(t, res, "reason contains U+", "at character", "remove it")
	}
	assert.Empty(t, st.Events(), "nothing planned or recorded")
	assert.Zero(t, tn.Calls("Reassign")+tn.Calls("ReassignAsync"), "nothing sent")
}

// Free-text arguments keep their schema bound (the tool's own words) and
// follow certs' text policy for single-line text, naming the argument.
func TestTextArgumentsFollowTheTextPolicy(t *testing.T) {
	s, _, _ := textPolicyServer(t)
	cases := []struct {
		name, tool string
		args       map[string]any
		want       []string
	}{
		{"override in a reviewer name", "list_reviewers", map[string]any{"certification_id": "cert-1", "name": "Al\u202Eice"},
			[]string{"name contains U+202E, an invisible text-direction control, at character 3"}},
		{"isolate in an email prefix", "list_reviewers", map[string]any{"certification_id": "cert-1", "email": "\u2066alice"},
			[]string{"email contains U+2066"}},
		{"zero width space in an identity name", "list_review_items", map[string]any{"certification_id": "cert-1", "identity_name": "Bo\u200Bb"},
			[]string{"identity_name contains U+200B, an invisible formatting character"}},
		{"escape in an access name", "list_review_items", map[string]any{"certification_id": "cert-1", "access_name": "db\x1b[0m"},
			[]string{"access_name contains U+001B, a control character"}},
		{"line break in a permission target", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "target": "PAYROLL\r\nX"},
			[]string{"target contains U+000D, a line break", "one line"}},
		{"NUL in a right", "get_item_permissions", map[string]any{"certification_id": "cert-1", "item_id": "item-1", "rights": []string{"SEL\x00ECT"}},
			[]string{"rights[0] contains U+0000, a NUL character"}},
		{"over the schema's maxLength, counted in characters", "list_reviewers", map[string]any{"certification_id": "cert-1", "name": strings.Repeat("é", maxFilterLen+1)},
			[]string{"name is 201 characters; at most 200 are allowed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertInvalid(t, callTool(t, s, c.tool, c.args), c.want...)
		})
	}
	t.Run("quotes, scripts and joiners are fine", func(t *testing.T) {
		for _, name := range []string{`O"Brien \ x`, "שלום", "می\u200cخواهم", strings.Repeat("é", maxFilterLen)} {
			res := callTool(t, s, "list_review_items", map[string]any{"certification_id": "cert-1", "identity_name": name})
			assert.False(t, res.IsError, "%q: %s", name, resultText(res))
		}
	})
}

// assertInvalid checks that res is an EINVALID error result in the tools'
// words ("invalid argument: ...") containing each of want.
func assertInvalid(t *testing.T, res *mcp.CallToolResult, want ...string) {
	t.Helper()
	text := resultText(res)
	require.True(t, res.IsError, "expected an invalid-argument error, got %s", text)
	assert.True(t, strings.HasPrefix(text, errorPrefixes[certs.EINVALID]+": "), "%q", text)
	for _, w := range want {
		assert.Contains(t, text, w)
	}
}
