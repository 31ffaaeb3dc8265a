package sailpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// Filter is an expression in ISC's filter language (the `filters` query
// parameter of the standard collection parameters): `field op value`,
// combined with and, or and not.
//
// Filters are built, never concatenated: every string literal goes through
// Quote, so a quote or backslash in user input cannot change the
// expression. A Filter built from a bad field name or an empty `in` list
// carries an error, which the client reports as EINVALID before sending
// anything. The zero Filter matches everything and is left out of And/Or.
type Filter struct {
	expr     string
	compound bool // an and/or at the top level: parenthesised when nested
	err      error
}

// String returns the expression as sent in `filters`.
func (f Filter) String() string { return f.expr }

// IsZero reports whether f is the empty filter.
func (f Filter) IsZero() bool { return f.expr == "" && f.err == nil }

// Err returns the problem found while building f, if any.
func (f Filter) Err() error { return f.err }

// Quote returns s as an ISC string literal: double-quoted, with backslash and
// double quote escaped by a backslash. Everything else (unicode included) is
// kept as is; the query string encoding takes care of the URL.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// Eq is `field eq "value"`.
func Eq(field, value string) Filter { return compare(field, "eq", Quote(value)) }

// Ne is `field ne "value"`.
func Ne(field, value string) Filter { return compare(field, "ne", Quote(value)) }

// Sw is `field sw "prefix"` (starts with).
func Sw(field, prefix string) Filter { return compare(field, "sw", Quote(prefix)) }

// Co is `field co "part"` (contains).
func Co(field, part string) Filter { return compare(field, "co", Quote(part)) }

// Gt, Ge, Lt and Le compare with a string literal (ISC compares dates and
// numbers given as strings).
func Gt(field, value string) Filter { return compare(field, "gt", Quote(value)) }
func Ge(field, value string) Filter { return compare(field, "ge", Quote(value)) }
func Lt(field, value string) Filter { return compare(field, "lt", Quote(value)) }
func Le(field, value string) Filter { return compare(field, "le", Quote(value)) }

// EqBool is `field eq true|false` (an unquoted boolean).
func EqBool(field string, v bool) Filter { return compare(field, "eq", strconv.FormatBool(v)) }

// NeBool is `field ne true|false`.
func NeBool(field string, v bool) Filter { return compare(field, "ne", strconv.FormatBool(v)) }

// In is `field in ("a","b")`. An empty list is an error: ISC would reject
// it, and "match nothing" is never what a caller meant.
func In(field string, values ...string) Filter { return list(field, "in", values) }

// Ca is `field ca ("a","b")`: the field (a list) contains all the values.
func Ca(field string, values ...string) Filter { return list(field, "ca", values) }

// Pr is `pr field`: the field is present (not null).
func Pr(field string) Filter {
	if err := checkField(field); err != nil {
		return Filter{err: err}
	}
	return Filter{expr: "pr " + field}
}

// IsNull is `field isnull`.
func IsNull(field string) Filter {
	if err := checkField(field); err != nil {
		return Filter{err: err}
	}
	return Filter{expr: field + " isnull"}
}

// And joins filters with `and`, skipping zero filters. With one filter left
// it returns that filter; with none, the zero Filter.
func And(fs ...Filter) Filter { return join("and", fs) }

// Or joins filters with `or`, skipping zero filters.
func Or(fs ...Filter) Filter { return join("or", fs) }

// Not is `not (f)`. Not of the zero filter would match nothing, which ISC
// cannot express, so it is an error.
func Not(f Filter) Filter {
	if f.err != nil {
		return f
	}
	if f.expr == "" {
		return Filter{err: fmt.Errorf("filter: not of an empty filter")}
	}
	return Filter{expr: "not (" + f.expr + ")"}
}

func compare(field, op, literal string) Filter {
	if err := checkField(field); err != nil {
		return Filter{err: err}
	}
	return Filter{expr: field + " " + op + " " + literal}
}

func list(field, op string, values []string) Filter {
	if err := checkField(field); err != nil {
		return Filter{err: err}
	}
	if len(values) == 0 {
		return Filter{err: fmt.Errorf("filter: %s %s needs at least one value", field, op)}
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = Quote(v)
	}
	return Filter{expr: field + " " + op + " (" + strings.Join(quoted, ",") + ")"}
}

func join(op string, fs []Filter) Filter {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.err != nil {
			return f
		}
		if f.expr == "" {
			continue
		}
		if f.compound {
			parts = append(parts, "("+f.expr+")")
		} else {
			parts = append(parts, f.expr)
		}
	}
	switch len(parts) {
	case 0:
		return Filter{}
	case 1:
		// A single compound child keeps its own shape, unparenthesised.
		for _, f := range fs {
			if f.expr != "" {
				return f
			}
		}
	}
	return Filter{expr: strings.Join(parts, " "+op+" "), compound: true}
}

// checkField accepts ISC property paths such as "campaign.id" or
// "identitySummary.name". Field names come from code, not users; the check
// catches a typo or an attempt to smuggle an operator in through one.
func checkField(field string) error {
	if field == "" {
		return fmt.Errorf("filter: empty field name")
	}
	for _, r := range field {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return fmt.Errorf("filter: field name %q may use only letters, digits, '.' and '_'", field)
		}
	}
	return nil
}
