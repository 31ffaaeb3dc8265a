package sailpoint

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox/filter"
)

// FuzzFilterRoundTrip checks the builder against an independent parser of
// ISC's filter grammar (the sandbox's): whatever a literal holds, the
// expression parses, and every comparison carries the literal unchanged.
// A literal that could break out of its quotes would show up as a parse
// error or a changed value.
func FuzzFilterRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", `o"brien`, `dom\user`, `\"`, `a" or id pr "`, "Zoë 日本", `\\fs01\finance`, `"`, `\`, "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || len(s) > filter.MaxLength/8 {
			t.Skip()
		}
		built := And(Eq("name", s), Or(In("id", s, "x"), Not(Sw("email", s))), Ca("rights", s))
		require.NoError(t, built.Err())
		expr, err := filter.Parse(built.String())
		require.NoError(t, err, "filter: %s", built)
		var comparisons int
		filter.Walk(expr, func(e filter.Expr) bool {
			c, ok := e.(*filter.Comparison)
			if !ok {
				return true
			}
			comparisons++
			if list, ok := c.Value.AsList(); ok {
				got, _ := list[0].AsString()
				assert.Equal(t, s, got, "%s %s", c.Field, c.Op)
				return true
			}
			got, _ := c.Value.AsString()
			assert.Equal(t, s, got, "%s %s", c.Field, c.Op)
			return true
		})
		assert.Equal(t, 4, comparisons)
	})
}
