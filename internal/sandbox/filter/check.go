package filter

import (
	"slices"
	"strings"
)

// Fields lists what one operation lets a filter use: field name → allowed
// primitive operators (as written: "eq", "in", "pr", …). The composite
// operators and, or and not are always allowed; callers with stricter rules
// (the permissions operation) walk the Expr themselves.
type Fields map[string][]string

// Check returns an *Error (Pos -1) naming the first comparison, left to
// right, whose field or operator allowed does not list; ISC answers such a
// filter with 400.
func Check(e Expr, allowed Fields) error {
	var err error
	Walk(e, func(e Expr) bool {
		if err != nil {
			return false
		}
		c, ok := e.(*Comparison)
		if !ok {
			return true
		}
		ops, ok := allowed[c.Field]
		if !ok {
			err = &Error{Pos: -1, Msg: "field '" + c.Field + "' is not supported here; supported: " + supportedFields(allowed)}
			return false
		}
		if !slices.Contains(ops, string(c.Op)) {
			err = &Error{Pos: -1, Msg: "operator '" + string(c.Op) + "' is not supported for field '" + c.Field + "'; supported: " + strings.Join(ops, ", ")}
			return false
		}
		return true
	})
	return err
}

func supportedFields(allowed Fields) string {
	if len(allowed) == 0 {
		return "none"
	}
	names := make([]string, 0, len(allowed))
	for name := range allowed {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
