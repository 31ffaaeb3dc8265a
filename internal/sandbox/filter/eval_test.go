package filter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// record is a certification-like record as the sandbox would expose it.
var record = map[string]Value{
	"id":                 String("2c9180846e85e4b8016eafeba20c1314"),
	"name":               String("Manager Review: Zoë Smith"),
	"phase":              String("ACTIVE"),
	"completed":          Bool(false),
	"decisionsMade":      Number(12),
	"due":                Time(time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)),
	"created":            String("2026-11-01T08:00:00Z"), // a date kept as a string
	"signed":             Null(),
	"rights":             List(String("READ"), String("Write"), String("execute")),
	"description":        String(""),
	"emptyList":          List(),
	"identitySummary.id": String("id-1"),
}

func get(field string) (Value, bool) {
	v, ok := record[field]
	return v, ok
}

func TestEval(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		// eq / ne, case-insensitive strings
		{`phase eq "ACTIVE"`, true},
		{`phase eq "active"`, true},
		{`phase eq "SIGNED"`, false},
		{`phase ne "signed"`, true},
		{`phase ne "Active"`, false},
		{`name eq "manager review: ZOË smith"`, true},
		{`identitySummary.id eq "ID-1"`, true},
		// booleans and numbers
		{`completed eq false`, true},
		{`completed eq true`, false},
		{`completed ne true`, true},
		{`decisionsMade eq 12`, true},
		{`decisionsMade eq 12.0`, true},
		{`decisionsMade gt 11.5`, true},
		{`decisionsMade ge 12`, true},
		{`decisionsMade lt 12`, false},
		{`decisionsMade le 12`, true},
		// string ordering, case-insensitive
		{`phase gt "aaa"`, true},
		{`phase lt "B"`, true},
		{`phase ge "active"`, true},
		// date-times: temporal, with Time values and with RFC 3339 strings
		{`due gt 2026-11-30T00:00:00Z`, true},
		{`due lt 2026-12-01T20:00:00+02:00`, true}, // 18:00 UTC
		{`due gt 2026-12-01T18:00:00+02:00`, true}, // 16:00 UTC
		{`due eq 2026-12-01T19:00:00+02:00`, true},
		{`due eq "2026-12-01T17:00:00Z"`, true},
		{`created lt 2026-11-01T08:00:01Z`, true},
		{`created eq 2026-11-01T09:00:00+01:00`, true},
		{`created gt "2026-10"`, true}, // both strings: lexicographic
		// co / sw
		{`name co "zoë"`, true},
		{`name co "review:"`, true},
		{`name co "jones"`, false},
		{`name sw "MANAGER"`, true},
		{`name sw "review"`, false},
		{`name co ""`, true},
		{`rights co "READ"`, false}, // co is for strings, not lists
		// in
		{`phase in ("STAGED","active")`, true},
		{`phase in ("STAGED","SIGNED")`, false},
		{`decisionsMade in (1,12)`, true},
		{`rights in ("write","other")`, true}, // any item of a list field
		{`rights in ("other")`, false},
		// ca
		{`rights ca ("read","write")`, true},
		{`rights ca ("read","delete")`, false},
		{`rights ca ("EXECUTE")`, true},
		{`phase ca ("ACTIVE")`, false}, // ca needs a list field
		{`emptyList ca ("a")`, false},
		// null, absent, pr, isnull
		{`signed isnull`, true},
		{`missing isnull`, true},
		{`pr signed`, false},
		{`pr missing`, false},
		{`pr phase`, true},
		{`pr description`, true}, // empty is present
		{`pr emptyList`, true},
		{`description isnull`, false},
		{`signed eq null`, true},
		{`missing eq null`, true},
		{`phase eq null`, false},
		{`phase ne null`, true},
		{`signed ne null`, false},
		{`signed eq "x"`, false},
		{`signed ne "x"`, true}, // null is not equal to any value
		{`missing ne "x"`, true},
		{`missing gt 1`, false},
		{`missing lt 1`, false},
		{`missing co "x"`, false},
		{`missing in ("x")`, false},
		// mismatched types are false, even for ne
		{`completed eq "false"`, false},
		{`completed ne "false"`, false},
		{`decisionsMade eq "12"`, false},
		{`decisionsMade ne "12"`, false},
		{`phase gt 1`, false},
		{`completed gt 2026-01-01T00:00:00Z`, false},
		{`phase eq 2026-01-01T00:00:00Z`, false}, // not a date-time string
		{`rights eq "READ"`, false},
		{`rights ne "READ"`, false},
		{`phase in (1,true)`, false},
		// composites
		{`phase eq "ACTIVE" and completed eq false`, true},
		{`phase eq "ACTIVE" and completed eq true`, false},
		{`phase eq "SIGNED" or completed eq false`, true},
		{`not phase eq "SIGNED"`, true},
		{`not (phase eq "ACTIVE" or completed eq true)`, false},
		{`not phase eq "ACTIVE" or decisionsMade eq 12 and pr missing`, false},
		{`(not phase eq "ACTIVE" or decisionsMade eq 12) and pr phase`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(tt.filter)
			require.NoError(t, err)
			assert.Equal(t, tt.want, Eval(e, get))
		})
	}
}

func TestEvalNotIsNegation(t *testing.T) {
	// For every comparison on a field of matching type, `not x` and the
	// complementary operator agree; this pins ne as the negation of eq.
	pairs := [][2]string{
		{`phase eq "x"`, `phase ne "x"`},
		{`signed eq "x"`, `signed ne "x"`},
		{`missing eq null`, `missing ne null`},
		{`decisionsMade gt 3`, `decisionsMade le 3`},
		{`pr signed`, `signed isnull`},
	}
	for _, p := range pairs {
		a, err := Parse(p[0])
		require.NoError(t, err)
		b, err := Parse(p[1])
		require.NoError(t, err)
		assert.NotEqual(t, Eval(a, get), Eval(b, get), "%s vs %s", p[0], p[1])
	}
}

func TestValue(t *testing.T) {
	assert.Equal(t, `"a\"b"`, String(`a"b`).String())
	assert.Equal(t, `1.5`, Number(1.5).String())
	assert.Equal(t, `true`, Bool(true).String())
	assert.Equal(t, `null`, Null().String())
	assert.Equal(t, `("a",2)`, List(String("a"), Number(2)).String())
	assert.Equal(t, `2018-12-18T23:05:55Z`, Time(time.Date(2018, 12, 18, 23, 5, 55, 0, time.UTC)).String())
	assert.Equal(t, KindList, List().Kind())
	assert.True(t, Value{}.IsNull())
	s, ok := Number(1).AsString()
	assert.False(t, ok)
	assert.Empty(t, s)
	assert.False(t, String("a").Equal(String("A")), "Equal is exact; Eval folds case")
}
