package filter

import (
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value. The zero Value is Null.
const (
	KindNull Kind = iota
	KindString
	KindNumber
	KindBool
	KindTime
	KindList
)

var kindNames = [...]string{"null", "string", "number", "boolean", "date-time", "list"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a literal in a filter, or a field's value handed to Eval.
type Value struct {
	kind Kind
	s    string
	n    float64
	b    bool
	t    time.Time
	list []Value
}

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Number returns a numeric value.
func Number(f float64) Value { return Value{kind: KindNumber, n: f} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// Time returns a date-time value. Date-times compare temporally, with each
// other and with strings that hold an RFC 3339 date-time.
func Time(t time.Time) Value { return Value{kind: KindTime, t: t} }

// Null returns the null value (the same as an absent field).
func Null() Value { return Value{} }

// List returns a list value (a collection-valued field, or the operand of
// in and ca).
func List(vs ...Value) Value { return Value{kind: KindList, list: vs} }

// Kind returns the type of v.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// AsString returns v's string, if v is a string.
func (v Value) AsString() (string, bool) { return v.s, v.kind == KindString }

// AsNumber returns v's number, if v is a number.
func (v Value) AsNumber() (float64, bool) { return v.n, v.kind == KindNumber }

// AsBool returns v's boolean, if v is a boolean.
func (v Value) AsBool() (bool, bool) { return v.b, v.kind == KindBool }

// AsTime returns v's date-time, if v is a date-time.
func (v Value) AsTime() (time.Time, bool) { return v.t, v.kind == KindTime }

// AsList returns v's items, if v is a list.
func (v Value) AsList() ([]Value, bool) { return v.list, v.kind == KindList }

// Equal reports whether v and w are the same literal: same kind and value,
// strings compared exactly, date-times as instants.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindString:
		return v.s == w.s
	case KindNumber:
		return v.n == w.n
	case KindBool:
		return v.b == w.b
	case KindTime:
		return v.t.Equal(w.t)
	case KindList:
		if len(v.list) != len(w.list) {
			return false
		}
		for i := range v.list {
			if !v.list[i].Equal(w.list[i]) {
				return false
			}
		}
	}
	return true
}

// String returns v in filter syntax: `"a \"b\""`, `12.5`, `true`, `null`,
// `2018-12-18T23:05:55Z`, `("a","b")`.
func (v Value) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v Value) write(b *strings.Builder) {
	switch v.kind {
	case KindNull:
		b.WriteString("null")
	case KindString:
		Quote(b, v.s)
	case KindNumber:
		b.WriteString(strconv.FormatFloat(v.n, 'g', -1, 64))
	case KindBool:
		b.WriteString(strconv.FormatBool(v.b))
	case KindTime:
		b.WriteString(v.t.Format(time.RFC3339Nano))
	case KindList:
		b.WriteByte('(')
		for i, item := range v.list {
			if i > 0 {
				b.WriteByte(',')
			}
			item.write(b)
		}
		b.WriteByte(')')
	}
}

// Quote writes s as a filter string literal: in double quotes, with `"` and
// `\` escaped by a backslash. Clients building filters use it so a value
// can never end the literal early.
func Quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
