package filter

import (
	"strings"
)

// Op is a primitive operator.
type Op string

// The primitive operators, as written in a filter.
const (
	OpEq     Op = "eq"
	OpNe     Op = "ne"
	OpGt     Op = "gt"
	OpGe     Op = "ge"
	OpLt     Op = "lt"
	OpLe     Op = "le"
	OpCo     Op = "co"     // contains (substring)
	OpSw     Op = "sw"     // starts with
	OpIn     Op = "in"     // the field's value is one of a list
	OpCa     Op = "ca"     // the list-valued field contains all of a list
	OpPr     Op = "pr"     // present: prefix, `pr field`
	OpIsNull Op = "isnull" // postfix, `field isnull`
)

// Ops lists every primitive operator.
var Ops = []Op{OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpCo, OpSw, OpIn, OpCa, OpPr, OpIsNull}

// Expr is a parsed filter: a *Comparison, *And, *Or or *Not. String returns
// the canonical text, which Parse reads back to an equal Expr.
type Expr interface {
	String() string
	isExpr()
}

// Comparison is one primitive test: `Field Op Value`, `pr Field` or
// `Field isnull`. Value is a list for in and ca and unset (null) for pr and
// isnull.
type Comparison struct {
	Field string
	Op    Op
	Value Value
	// Pos is the byte offset of the comparison in the parsed text.
	Pos int
}

// And is true when both sides are.
type And struct{ Left, Right Expr }

// Or is true when either side is.
type Or struct{ Left, Right Expr }

// Not is true when X is false.
type Not struct{ X Expr }

func (*Comparison) isExpr() {}
func (*And) isExpr()        {}
func (*Or) isExpr()         {}
func (*Not) isExpr()        {}

func (c *Comparison) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}
func (e *And) String() string { return exprString(e) }
func (e *Or) String() string  { return exprString(e) }
func (e *Not) String() string { return exprString(e) }

func exprString(e Expr) string {
	var b strings.Builder
	write(&b, e)
	return b.String()
}

func (c *Comparison) write(b *strings.Builder) {
	switch c.Op {
	case OpPr:
		b.WriteString("pr ")
		b.WriteString(c.Field)
	case OpIsNull:
		b.WriteString(c.Field)
		b.WriteString(" isnull")
	default:
		b.WriteString(c.Field)
		b.WriteByte(' ')
		b.WriteString(string(c.Op))
		b.WriteByte(' ')
		c.Value.write(b)
	}
}

// write prints e with the fewest parentheses that keep its shape: and/or
// are left-associative, so a right operand of the same operator (or a
// looser one) needs them; not binds tightest.
func write(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Comparison:
		e.write(b)
	case *And:
		writeOperand(b, e.Left, isOr(e.Left))
		b.WriteString(" and ")
		writeOperand(b, e.Right, isOr(e.Right) || isAnd(e.Right))
	case *Or:
		write(b, e.Left)
		b.WriteString(" or ")
		writeOperand(b, e.Right, isOr(e.Right))
	case *Not:
		b.WriteString("not ")
		writeOperand(b, e.X, isOr(e.X) || isAnd(e.X))
	}
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	write(b, e)
	if paren {
		b.WriteByte(')')
	}
}

func isAnd(e Expr) bool { _, ok := e.(*And); return ok }
func isOr(e Expr) bool  { _, ok := e.(*Or); return ok }

// Walk calls fn for e and, while fn returns true, for each sub-expression,
// depth first, left to right.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *And:
		Walk(e.Left, fn)
		Walk(e.Right, fn)
	case *Or:
		Walk(e.Left, fn)
		Walk(e.Right, fn)
	case *Not:
		Walk(e.X, fn)
	}
}

// Equal reports whether a and b are the same expression, ignoring positions.
func Equal(a, b Expr) bool {
	switch a := a.(type) {
	case *Comparison:
		b, ok := b.(*Comparison)
		return ok && a.Field == b.Field && a.Op == b.Op && a.Value.Equal(b.Value)
	case *And:
		b, ok := b.(*And)
		return ok && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	case *Or:
		b, ok := b.(*Or)
		return ok && Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
	case *Not:
		b, ok := b.(*Not)
		return ok && Equal(a.X, b.X)
	case nil:
		return b == nil
	}
	return false
}
