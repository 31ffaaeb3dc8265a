package filter

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, fails only with *Error, and that
// the canonical text of whatever it accepts parses back to an equal
// expression with the same text. CI runs it for a few seconds; the corpus
// grown locally is committed under testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`identitySummary.id eq "2c9180846e85e4b8016eafeba20c1314"`,
		`id in ("a","b") and not completed eq true`,
		`not a eq 1 or b eq 2 and c eq 3`,
		`not (a eq 1 or b eq 2) and c eq 3`,
		`target sw "sys" and rights ca ("READ","write")`,
		`pr accountRequestInfo or lastUsed isnull`,
		`created gt 2018-12-18T23:05:55.123+02:00 and n le -1.5e-3`,
		`name eq "\"quoted\" \\ back"`,
		`(a eq 1)and(b eq null)`,
		`name EQ "x"`,
		`((((a eq 1`,
	} {
		f.Add(s)
	}
	record := func(string) (Value, bool) { return String("x"), true }
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var ferr *Error
			if !errors.As(err, &ferr) {
				t.Fatalf("Parse(%q) error %T is not *Error: %v", s, err, err)
			}
			if ferr.Pos > len(s) {
				t.Fatalf("Parse(%q): position %d beyond the input", s, ferr.Pos)
			}
			return
		}
		canon := e.String()
		e2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, canon, err)
		}
		if !Equal(e, e2) {
			t.Fatalf("Parse(%q) = %s, which parses to a different expression %s", s, canon, e2)
		}
		if again := e2.String(); again != canon {
			t.Fatalf("canonical text is not stable: %q then %q", canon, again)
		}
		Eval(e, record) // must not panic
	})
}
