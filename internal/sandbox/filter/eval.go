package filter

import (
	"strings"
	"time"
)

// Eval reports whether a record matches e. get returns a field's value, or
// false when the record has no such field; an absent field is null.
//
// Comparison rules (SailPoint: "Most comparisons are not case sensitive";
// the permissions operation says so explicitly, and no operation certops
// uses documents a case-sensitive one, so the sandbox never is):
//   - Strings compare case-insensitively (Unicode lower case), for eq, ne,
//     co, sw, in, ca and the ordering operators (lexicographic).
//   - Numbers compare numerically, booleans by equality, date-times
//     temporally. A date-time and a string holding an RFC 3339 date-time
//     compare temporally, so a record may keep its dates as strings.
//   - eq null is true for a null or absent field; ne null for a present,
//     non-null one.
//   - ne is "not equal": a null field is not equal to any non-null literal,
//     so `completed ne true` matches a record without completed.
//   - Mismatched types (a number against a string, a boolean against a
//     date-time, a list against a scalar) are false for every operator,
//     including ne; never a panic.
//   - pr is true when the field is present and not null ("True if the field
//     is present, that is, not null"); isnull is its opposite. An empty
//     string or list is present.
//   - in is true when the field's value equals an item of the list; on a
//     list-valued field, when any of its items does.
//   - ca needs a list-valued field holding every item of the list.
//   - co and sw apply to string fields only.
func Eval(e Expr, get func(field string) (Value, bool)) bool {
	switch e := e.(type) {
	case *And:
		return Eval(e.Left, get) && Eval(e.Right, get)
	case *Or:
		return Eval(e.Left, get) || Eval(e.Right, get)
	case *Not:
		return !Eval(e.X, get)
	case *Comparison:
		v, ok := get(e.Field)
		if !ok {
			v = Null()
		}
		return e.match(v)
	}
	return false
}

func (c *Comparison) match(v Value) bool {
	switch c.Op {
	case OpPr:
		return !v.IsNull()
	case OpIsNull:
		return v.IsNull()
	case OpEq:
		eq, comparable := equal(v, c.Value)
		return comparable && eq
	case OpNe:
		eq, comparable := equal(v, c.Value)
		return comparable && !eq
	case OpGt, OpGe, OpLt, OpLe:
		cmp, ok := order(v, c.Value)
		if !ok {
			return false
		}
		switch c.Op {
		case OpGt:
			return cmp > 0
		case OpGe:
			return cmp >= 0
		case OpLt:
			return cmp < 0
		default:
			return cmp <= 0
		}
	case OpCo, OpSw:
		s, ok := v.AsString()
		lit, ok2 := c.Value.AsString()
		if !ok || !ok2 {
			return false
		}
		s, lit = strings.ToLower(s), strings.ToLower(lit)
		if c.Op == OpCo {
			return strings.Contains(s, lit)
		}
		return strings.HasPrefix(s, lit)
	case OpIn:
		if items, isList := v.AsList(); isList {
			for _, item := range items {
				if contains(c.Value.list, item) {
					return true
				}
			}
			return false
		}
		return contains(c.Value.list, v)
	case OpCa:
		items, isList := v.AsList()
		if !isList {
			return false
		}
		for _, want := range c.Value.list {
			if !contains(items, want) {
				return false
			}
		}
		return true
	}
	return false
}

func contains(list []Value, v Value) bool {
	for _, item := range list {
		if eq, comparable := equal(item, v); comparable && eq {
			return true
		}
	}
	return false
}

// equal compares a field's value with a literal. comparable is false when
// their types do not match (then neither eq nor ne holds). Null is
// comparable with everything and equal only to null.
func equal(v, lit Value) (eq, comparable bool) {
	if v.IsNull() || lit.IsNull() {
		return v.IsNull() && lit.IsNull(), true
	}
	if t, u, ok := times(v, lit); ok {
		return t.Equal(u), true
	}
	if v.kind != lit.kind {
		return false, false
	}
	switch v.kind {
	case KindString:
		return strings.EqualFold(v.s, lit.s), true
	case KindNumber:
		return v.n == lit.n, true
	case KindBool:
		return v.b == lit.b, true
	}
	return false, false // lists are compared with in and ca only
}

// order compares a field's value with a literal: -1, 0 or 1, and false when
// they have no order (null, booleans, lists, mismatched types).
func order(v, lit Value) (int, bool) {
	if t, u, ok := times(v, lit); ok {
		return t.Compare(u), true
	}
	if v.kind != lit.kind {
		return 0, false
	}
	switch v.kind {
	case KindString:
		return strings.Compare(strings.ToLower(v.s), strings.ToLower(lit.s)), true
	case KindNumber:
		switch {
		case v.n < lit.n:
			return -1, true
		case v.n > lit.n:
			return 1, true
		case v.n == lit.n:
			return 0, true
		}
		return 0, false // NaN
	}
	return 0, false
}

// times returns both values as instants when at least one is a date-time
// and the other is a date-time or a string holding one.
func times(v, w Value) (time.Time, time.Time, bool) {
	if v.kind != KindTime && w.kind != KindTime {
		return time.Time{}, time.Time{}, false
	}
	t, ok := asTime(v)
	u, ok2 := asTime(w)
	return t, u, ok && ok2
}

func asTime(v Value) (time.Time, bool) {
	switch v.kind {
	case KindTime:
		return v.t, true
	case KindString:
		t, err := time.Parse(time.RFC3339Nano, v.s)
		return t, err == nil
	}
	return time.Time{}, false
}
