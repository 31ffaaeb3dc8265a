package filter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cmp(field string, op Op, v Value) *Comparison {
	return &Comparison{Field: field, Op: op, Value: v}
}

func TestParse(t *testing.T) {
	created := time.Date(2018, 12, 18, 23, 5, 55, 0, time.UTC)
	a := cmp("a", OpEq, Number(1))
	b := cmp("b", OpEq, Number(2))
	c := cmp("c", OpEq, Number(3))
	tests := []struct {
		name  string
		in    string
		want  Expr
		canon string // String() of the result; "" means the same as in
	}{
		{"eq string", `identitySummary.id eq "2c9180846e85e4b8016eafeba20c1314"`, cmp("identitySummary.id", OpEq, String("2c9180846e85e4b8016eafeba20c1314")), ""},
		{"ne string", `type ne "ROLE"`, cmp("type", OpNe, String("ROLE")), ""},
		{"number", `daysUntilEscalation ge 7`, cmp("daysUntilEscalation", OpGe, Number(7)), ""},
		{"negative fraction exponent", `x lt -1.5e3`, cmp("x", OpLt, Number(-1500)), `x lt -1500`},
		{"string ordering", `name gt "Genaro"`, cmp("name", OpGt, String("Genaro")), ""},
		{"unquoted date-time", `created gt 2018-12-18T23:05:55Z`, cmp("created", OpGt, Time(created)), ""},
		{"date-time with offset", `created le 2018-12-19T01:05:55.5+02:00`, cmp("created", OpLe, Time(created.Add(500*time.Millisecond))), `created le 2018-12-19T01:05:55.5+02:00`},
		{"bool", `completed eq true`, cmp("completed", OpEq, Bool(true)), ""},
		{"false", `completed ne false`, cmp("completed", OpNe, Bool(false)), ""},
		{"null", `due eq null`, cmp("due", OpEq, Null()), ""},
		{"co", `name co "Rajesh"`, cmp("name", OpCo, String("Rajesh")), ""},
		{"sw", `name sw "Raj"`, cmp("name", OpSw, String("Raj")), ""},
		{"in", `id in ("a","b")`, cmp("id", OpIn, List(String("a"), String("b"))), ""},
		{"in with spaces", `id in ( "a" , "b" )`, cmp("id", OpIn, List(String("a"), String("b"))), `id in ("a","b")`},
		{"in one item", `id in ("a")`, cmp("id", OpIn, List(String("a"))), ""},
		{"ca", `groups ca ("Venezia","Firenze")`, cmp("groups", OpCa, List(String("Venezia"), String("Firenze"))), ""},
		{"in numbers", `n in (1,2.5)`, cmp("n", OpIn, List(Number(1), Number(2.5))), ""},
		{"pr prefix", `pr accountRequestInfo`, cmp("accountRequestInfo", OpPr, Value{}), ""},
		{"isnull postfix", `lastUsed isnull`, cmp("lastUsed", OpIsNull, Value{}), ""},
		{"escaped quote", `name eq "\"Employees\""`, cmp("name", OpEq, String(`"Employees"`)), ""},
		{"escaped backslash", `name eq "a\\b"`, cmp("name", OpEq, String(`a\b`)), ""},
		{"empty string", `name eq ""`, cmp("name", OpEq, String("")), ""},
		{"unicode", `name eq "Zoë 日本"`, cmp("name", OpEq, String("Zoë 日本")), ""},
		{"hash and percent stay literal", `name eq "#Employees 100%"`, cmp("name", OpEq, String("#Employees 100%")), ""},
		{"field named like an operator", `in eq "x"`, cmp("in", OpEq, String("x")), ""},
		{"whitespace", " \ta\n eq\r\n1 ", a, "a eq 1"},
		{"no space around parens", `(a eq 1)and(b eq 2)`, &And{a, b}, "a eq 1 and b eq 2"},
		{"and", `a eq 1 and b eq 2`, &And{a, b}, ""},
		{"or", `a eq 1 or b eq 2`, &Or{a, b}, ""},
		{"and is left-associative", `a eq 1 and b eq 2 and c eq 3`, &And{&And{a, b}, c}, ""},
		{"right grouping kept", `a eq 1 and (b eq 2 and c eq 3)`, &And{a, &And{b, c}}, ""},
		{"and binds tighter than or", `a eq 1 or b eq 2 and c eq 3`, &Or{a, &And{b, c}}, ""},
		{"and before or", `a eq 1 and b eq 2 or c eq 3`, &Or{&And{a, b}, c}, ""},
		{"parens override", `(a eq 1 or b eq 2) and c eq 3`, &And{&Or{a, b}, c}, ""},
		{"redundant parens dropped", `((a eq 1))`, a, "a eq 1"},
		// The two precedence examples from SailPoint's docs.
		{"docs: not binds tightest", `not a eq 1 or b eq 2 and c eq 3`, &Or{&Not{a}, &And{b, c}}, ""},
		{"docs: not of a group", `not (a eq 1 or b eq 2) and c eq 3`, &And{&Not{&Or{a, b}}, c}, ""},
		{"double not", `not not a eq 1`, &Not{&Not{a}}, ""},
		{"not pr", `not pr x`, &Not{cmp("x", OpPr, Value{})}, ""},
		{"permissions filter", `target sw "sys" and rights ca ("READ","write")`, &And{cmp("target", OpSw, String("sys")), cmp("rights", OpCa, List(String("READ"), String("write")))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, Equal(tt.want, got), "want %s\n got %s", tt.want, got)
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			assert.Equal(t, canon, got.String())
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string // a substring of Error()
		pos  int
	}{
		{"empty", ``, "expected a field name, found the end of the filter", 0},
		{"blank", `   `, "expected a field name, found the end of the filter", 3},
		{"uppercase operator", `name EQ "x"`, "operator 'EQ' must be lowercase: 'eq'", 5},
		{"uppercase and", `a eq 1 AND b eq 2`, "'AND' must be lowercase: 'and'", 7},
		{"uppercase not", `NOT a eq 1`, "operator 'NOT' must be lowercase: 'not'", 0},
		{"uppercase true", `a eq TRUE`, "'TRUE' must be lowercase: 'true'", 5},
		{"unknown operator", `name like "x"`, "unknown operator 'like' after 'name'", 5},
		{"missing operator", `name`, "expected an operator after 'name', found the end of the filter", 4},
		{"missing value", `name eq`, "expected a value after 'eq', found the end of the filter", 7},
		{"unquoted string", `name eq john`, "expected a value after 'eq', found 'john'; strings need double quotes", 8},
		{"single quotes", `name eq 'john'`, "expected a value after 'eq', found '''", 8},
		{"co needs a quoted string", `name co 12`, "'co' needs a quoted string, not a number", 8},
		{"co at the end", `name co`, "expected a quoted string after 'co', found the end of the filter", 7},
		{"gt on boolean", `a gt true`, "'gt' needs a string, number or date-time, not a boolean", 5},
		{"unterminated string", `name eq "abc`, "unterminated string", 8},
		{"trailing backslash", `name eq "abc\`, "unterminated string", 12},
		{"unknown escape", `name eq "a\nb"`, `unknown escape '\n'`, 10},
		{"in without list", `id in "a"`, `expected a list like ("a","b") after 'in', found a quoted string`, 6},
		{"empty list", `id in ()`, "expected a value after 'in', found ')'", 7},
		{"unclosed list", `id in ("a","b"`, "expected ',' or ')' in the list after 'in', found the end of the filter", 14},
		{"trailing comma", `id in ("a",)`, "expected a value after 'in', found ')'", 11},
		{"list missing comma", `id in ("a" "b")`, "expected ',' or ')' in the list after 'in', found a quoted string", 11},
		{"null in list", `id in ("a",null)`, "the list after 'in' cannot hold null", 11},
		{"nested list", `id in (("a"))`, "expected a value after 'in', found '('", 7},
		{"unclosed paren", `(a eq 1`, "expected ')' to close the '(' at position 0, found the end of the filter", 7},
		{"stray close paren", `a eq 1)`, "expected 'and', 'or' or the end of the filter, found ')'", 6},
		{"two comparisons without and", `a eq 1 b eq 2`, "expected 'and', 'or' or the end of the filter, found 'b'", 7},
		{"dangling and", `a eq 1 and`, "expected a field name, found the end of the filter", 10},
		{"dangling not", `not`, "expected a field name, found the end of the filter", 3},
		{"pr postfix", `x pr`, "'pr' comes before the field: 'pr x'", 2},
		{"pr without field", `pr`, "expected a field name after 'pr', found the end of the filter", 2},
		{"isnull prefix", `isnull x`, "unknown operator 'x' after 'isnull'", 7},
		{"keyword as field", `and eq 1`, "expected a field name, found 'and'", 0},
		{"bad dotted field", `a..b eq 1`, "'a..b' is not a field name", 0},
		{"trailing dot", `a. eq 1`, "'a.' is not a field name", 0},
		{"non-ASCII field", `nämé eq 1`, "'nämé' is not a field name; use ASCII identifiers", 0},
		{"non-ASCII after an operator", `a eqé 1`, "unknown operator 'eqé'", 2},
		{"digit after a dot", `a.1 eq 1`, "'a.1' is not a field name", 0},
		{"bad number", `a eq 1.2.3`, "'1.2.3' is not a number or an RFC 3339 date-time", 5},
		{"number out of range", `a eq 1e999`, "'1e999' is not a number or an RFC 3339 date-time", 5},
		{"date without time", `a gt 2018-12-18`, "'2018-12-18' is not a number or an RFC 3339 date-time", 5},
		{"invalid character", `a eq 1 & b eq 2`, "found '&'", 7},
		{"invalid UTF-8", "a eq \"\xff\"", "invalid UTF-8", 6},
		{"too long", `a eq "` + strings.Repeat("x", MaxLength) + `"`, "at most 16384 are allowed", -1},
		{"too deep parens", strings.Repeat("(", MaxDepth+1) + "a eq 1" + strings.Repeat(")", MaxDepth+1), "nests parentheses and 'not' more than 32 deep", MaxDepth},
		{"too deep not", strings.Repeat("not ", MaxDepth+1) + "a eq 1", "more than 32 deep", 4 * MaxDepth},
		{"very deep parens", strings.Repeat("(", MaxLength), "more than 32 deep", MaxDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			require.Error(t, err, "parsed as %v", got)
			var ferr *Error
			require.True(t, errors.As(err, &ferr), "error %T is not *Error", err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "filters: "), err.Error())
			assert.Equal(t, tt.pos, ferr.Pos, err.Error())
			assert.Nil(t, got)
		})
	}
}

func TestParseAtLimits(t *testing.T) {
	t.Run("exactly MaxLength bytes", func(t *testing.T) {
		s := `a eq "` + strings.Repeat("x", MaxLength-7) + `"`
		require.Len(t, s, MaxLength)
		_, err := Parse(s)
		assert.NoError(t, err)
	})
	t.Run("exactly MaxDepth deep", func(t *testing.T) {
		s := strings.Repeat("(not ", MaxDepth/2) + "a eq 1" + strings.Repeat(")", MaxDepth/2)
		_, err := Parse(s)
		assert.NoError(t, err)
	})
	t.Run("long and chain is not nesting", func(t *testing.T) {
		s := "a eq 1" + strings.Repeat(" and a eq 1", 300)
		e, err := Parse(s)
		require.NoError(t, err)
		assert.Equal(t, s, e.String())
	})
}

func TestErrorWithoutPosition(t *testing.T) {
	err := &Error{Msg: "field 'x' is not supported here", Pos: -1}
	assert.Equal(t, "filters: field 'x' is not supported here", err.Error())
	err = &Error{Msg: "expected a quoted string after 'co'", Pos: 12}
	assert.Equal(t, "filters: expected a quoted string after 'co' at position 12", err.Error())
}

func TestWalk(t *testing.T) {
	e, err := Parse(`not a eq 1 or b eq 2 and pr c`)
	require.NoError(t, err)
	var fields []string
	var composites int
	Walk(e, func(e Expr) bool {
		switch e := e.(type) {
		case *Comparison:
			fields = append(fields, e.Field)
		case *And, *Or:
			composites++
		}
		return true
	})
	assert.Equal(t, []string{"a", "b", "c"}, fields)
	assert.Equal(t, 2, composites)

	var visited int
	Walk(e, func(Expr) bool { visited++; return false })
	assert.Equal(t, 1, visited, "returning false stops the walk below the node")
}

func TestQuote(t *testing.T) {
	var b strings.Builder
	Quote(&b, `say "hi" \ bye`)
	assert.Equal(t, `"say \"hi\" \\ bye"`, b.String())
	e, err := Parse("name eq " + b.String())
	require.NoError(t, err)
	s, _ := e.(*Comparison).Value.AsString()
	assert.Equal(t, `say "hi" \ bye`, s)
}

func TestComparisonPos(t *testing.T) {
	e, err := Parse(`a eq 1 and (pr b or c isnull)`)
	require.NoError(t, err)
	var pos []int
	Walk(e, func(e Expr) bool {
		if c, ok := e.(*Comparison); ok {
			pos = append(pos, c.Pos)
		}
		return true
	})
	assert.Equal(t, []int{0, 12, 20}, pos)
}
