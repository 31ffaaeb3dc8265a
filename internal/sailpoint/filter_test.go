package sailpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "abc", `"abc"`},
		{"empty", "", `""`},
		{"double quote", `o"brien`, `"o\"brien"`},
		{"backslash", `dom\user`, `"dom\\user"`},
		{"backslash before quote", `\"`, `"\\\""`},
		{"trailing backslash", `a\`, `"a\\"`},
		{"single quote kept", `o'brien@example.com`, `"o'brien@example.com"`},
		{"unicode kept", "Zoë Ångström 日本", `"Zoë Ångström 日本"`},
		{"operator words kept inside", `x" or id pr "`, `"x\" or id pr \""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Quote(tt.in))
		})
	}
}

func TestFilterBuilder(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"eq", Eq("name", "Ada"), `name eq "Ada"`},
		{"ne", Ne("name", "Ada"), `name ne "Ada"`},
		{"sw", Sw("email", "ada@"), `email sw "ada@"`},
		{"co", Co("name", "a\"b"), `name co "a\"b"`},
		{"gt", Gt("created", "2026-01-01T00:00:00Z"), `created gt "2026-01-01T00:00:00Z"`},
		{"bool", EqBool("completed", false), `completed eq false`},
		{"ne bool", NeBool("completed", true), `completed ne true`},
		{"in", In("id", "a", "b"), `id in ("a","b")`},
		{"in escapes", In("id", `a"`, `b\`), `id in ("a\"","b\\")`},
		{"ca", Ca("rights", "read", "write"), `rights ca ("read","write")`},
		{"pr", Pr("email"), `pr email`},
		{"isnull", IsNull("email"), `email isnull`},
		{"and", And(Eq("a", "1"), EqBool("b", true)), `a eq "1" and b eq true`},
		{"and skips zero", And(Filter{}, Eq("a", "1"), Filter{}), `a eq "1"`},
		{"and of nothing", And(), ``},
		{"or inside and is parenthesised", And(Or(Eq("a", "1"), Eq("a", "2")), Eq("b", "3")), `(a eq "1" or a eq "2") and b eq "3"`},
		{"single compound keeps shape", And(Or(Eq("a", "1"), Eq("a", "2"))), `a eq "1" or a eq "2"`},
		{"not", Not(Eq("a", "1")), `not (a eq "1")`},
		{"not inside and", And(Not(Eq("a", "1")), Eq("b", "2")), `not (a eq "1") and b eq "2"`},
		{"dotted field", In("campaign.id", "c1"), `campaign.id in ("c1")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.f.Err())
			assert.Equal(t, tt.want, tt.f.String())
		})
	}
}

func TestFilterBuilderErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
	}{
		{"empty in", In("id")},
		{"empty ca", Ca("rights")},
		{"empty field", Eq("", "x")},
		{"field with space", Eq("name eq \"x\" or id", "x")},
		{"field with quote", Sw(`na"me`, "x")},
		{"not of nothing", Not(Filter{})},
		{"error propagates through and", And(Eq("a", "1"), In("id"))},
		{"error propagates through or", Or(In("id"), Eq("a", "1"))},
		{"error propagates through not", Not(Pr("bad field"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, tt.f.Err())
			assert.False(t, tt.f.IsZero())
		})
	}
}
