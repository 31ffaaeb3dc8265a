package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestFindPeople(t *testing.T) {
	s, b := setup(t, testConfig{})
	b.tenant.AddIdentity("id-bobby", "Bobby Tables", "bobby@example.com")
	b.tenant.AddIdentity("id-gone", "Bob Gone", "bob.gone@example.com")
	b.tenant.SetIdentityState("id-gone", "INACTIVE_LONG_TERM")

	t.Run("by a first name: ids and emails, inactive people marked", func(t *testing.T) {
		res := callTool(t, s, "find_people", map[string]any{"query": "bob"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "People matching \"bob\": 1-3 of 3.\n"+
			"- Bob Brown <bob@example.com> [id-bob]\n"+
			"- Bob Gone <bob.gone@example.com> [id-gone] · inactive: cannot take review work\n"+
			"- Bobby Tables <bobby@example.com> [id-bobby]\n", resultText(res))
		out := structured[PeopleList](t, res)
		assert.Equal(t, 3, out.Total)
		assert.Equal(t, []PersonFound{
			{ID: "id-bob", Name: "Bob Brown", Email: "bob@example.com", Active: true},
			{ID: "id-gone", Name: "Bob Gone", Email: "bob.gone@example.com"},
			{ID: "id-bobby", Name: "Bobby Tables", Email: "bobby@example.com", Active: true},
		}, out.People)
	})
	t.Run("by a first name and the start of a last name, or an email", func(t *testing.T) {
		for query, want := range map[string]string{"Bob B": "id-bob", "tables": "id-bobby", "bob.g": "id-gone", "BOBBY@": "id-bobby"} {
			res := callTool(t, s, "find_people", map[string]any{"query": query})
			require.False(t, res.IsError, resultText(res))
			out := structured[PeopleList](t, res)
			require.Len(t, out.People, 1, query)
			assert.Equal(t, want, out.People[0].ID, query)
		}
	})
	t.Run("a short page says how many more match", func(t *testing.T) {
		res := callTool(t, s, "find_people", map[string]any{"query": "bob", "limit": 1})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), "1-1 of 3.\n- Bob Brown <bob@example.com> [id-bob]\n2 more: add to the query")
	})
	t.Run("nobody", func(t *testing.T) {
		res := callTool(t, s, "find_people", map[string]any{"query": "zed"})
		require.False(t, res.IsError, resultText(res))
		assert.Equal(t, "People matching \"zed\": none.\nNobody: try the start of the first or last name only, or of the email.\n", resultText(res))
		assert.Equal(t, PeopleList{People: []PersonFound{}, Total: 0}, structured[PeopleList](t, res))
	})
	t.Run("a reviewer may search too", func(t *testing.T) {
		res := callToolAs(t, s, certs.Actor{ID: "bob-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-bob"},
			map[string]any{"name": "find_people", "arguments": map[string]any{"query": "carol"}})
		require.False(t, res.IsError, resultText(res))
		assert.Contains(t, resultText(res), "- Carol Chen <carol@example.com> [id-carol]")
	})
	t.Run("refusals name the argument", func(t *testing.T) {
		before := b.tenant.Calls("SearchIdentities")
		for _, c := range []struct {
			args  map[string]any
			names []string
		}{
			{map[string]any{}, []string{"query is required"}},
			{map[string]any{"query": "  "}, []string{"query is required"}},
			{map[string]any{"query": "a b c d e"}, []string{"query has 5 words; at most 4"}},
			{map[string]any{"query": "bob\nbrown"}, []string{"query"}},
			{map[string]any{"query": "bob", "limit": 26}, []string{"limit must be between 1 and 25"}},
			{map[string]any{"query": 7}, []string{"query must be a string"}},
		} {
			assertError(t, callTool(t, s, "find_people", c.args), certs.EINVALID, c.names...)
		}
		assert.Equal(t, before, b.tenant.Calls("SearchIdentities"), "nothing asked of ISC")
	})
}
