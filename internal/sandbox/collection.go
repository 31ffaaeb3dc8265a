package sandbox

import (
	"errors"
	"strconv"
	"strings"

	"github.com/certops/certops/internal/sandbox/filter"
)

// ISC's standard collection parameters: limit, offset, count, filters and
// sorters, validated exactly as the specs declare them.

const maxLimit = 250

type page struct {
	limit, offset int
	count         bool
}

// collection is a list request's standard collection parameters.
type collection struct {
	page    page
	filter  filter.Expr // nil: no filters
	sorters []sorter
}

// parseCollection reads limit/offset/count, filters (only fields as
// allowed) and, when sortable is not nil, sorters (only those fields): the
// parameters every list operation shares. Returns the 400 SailPoint gives.
func parseCollection(c *call, fields filter.Fields, sortable []string) (collection, *apiError) {
	p, e := parsePage(c)
	if e != nil {
		return collection{}, e
	}
	expr, e := parseFilters(c, fields)
	if e != nil {
		return collection{}, e
	}
	col := collection{page: p, filter: expr}
	if sortable != nil {
		if col.sorters, e = parseSorters(c, sortable); e != nil {
			return collection{}, e
		}
	}
	return col, nil
}

// parsePage reads limit (0..250, default 250), offset (≥ 0) and count.
func parsePage(c *call) (page, *apiError) {
	p := page{limit: maxLimit}
	if v, ok := c.q["limit"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil || n < 0 || n > maxLimit {
			return p, badRequest("Invalid value for limit: %q; it must be an integer from 0 to %d.", v[0], maxLimit)
		}
		p.limit = int(n)
	}
	if v, ok := c.q["offset"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil || n < 0 {
			return p, badRequest("Invalid value for offset: %q; it must be a non-negative integer.", v[0])
		}
		p.offset = int(n)
	}
	if v, ok := c.q["count"]; ok {
		b, err := parseBool(v[0])
		if err != nil {
			return p, badRequest("Invalid value for count: %q; it must be true or false.", v[0])
		}
		p.count = b
	}
	return p, nil
}

// parseBool reads a boolean query parameter the way the specs' checkers
// (and Go) do: true/false, 1/0, t/f in any of their usual cases.
func parseBool(s string) (bool, error) { return strconv.ParseBool(s) }

// window returns the [lo, hi) bounds of the page within n results.
func (p page) window(n int) (int, int) {
	lo := min(p.offset, n)
	return lo, min(n, lo+p.limit)
}

// parseFilters reads the filters parameter, allowing only the fields and
// operators an operation supports. A nil Expr means no filter.
func parseFilters(c *call, allowed filter.Fields) (filter.Expr, *apiError) {
	v, ok := c.q["filters"]
	if !ok || strings.TrimSpace(v[0]) == "" {
		return nil, nil
	}
	e, err := filter.Parse(v[0])
	if err == nil {
		err = filter.Check(e, allowed)
	}
	if err != nil {
		msg := err.Error()
		var fe *filter.Error
		if errors.As(err, &fe) {
			msg = fe.Msg
			if fe.Pos >= 0 {
				msg += " at position " + strconv.Itoa(fe.Pos)
			}
		}
		return nil, badRequest("Invalid filter %q: %s.", v[0], msg)
	}
	return e, nil
}

// sorter is one sort key.
type sorter struct {
	field string
	desc  bool
}

// parseSorters reads the sorters parameter: comma-separated fields of
// allowed, "-" prefix for descending.
func parseSorters(c *call, allowed []string) ([]sorter, *apiError) {
	v, ok := c.q["sorters"]
	if !ok || strings.TrimSpace(v[0]) == "" {
		return nil, nil
	}
	var out []sorter
	for _, part := range strings.Split(v[0], ",") {
		part = strings.TrimSpace(part)
		s := sorter{field: part}
		if strings.HasPrefix(part, "-") {
			s = sorter{field: part[1:], desc: true}
		}
		ok := false
		for _, a := range allowed {
			if a == s.field {
				ok = true
				break
			}
		}
		if !ok {
			return nil, badRequest("Invalid sorter %q: sorting by %q is not supported; supported: %s.", v[0], s.field, strings.Join(allowed, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// eqInValues returns the literal values when e is `field eq "x"` or
// `field in (...)`, or a conjunction one of whose sides is (so the caller
// can look candidates up by index and evaluate e on those only).
func eqInValues(e filter.Expr, field string) ([]string, bool) {
	switch e := e.(type) {
	case *filter.Comparison:
		if e.Field != field {
			return nil, false
		}
		switch e.Op {
		case filter.OpEq:
			s, ok := e.Value.AsString()
			return []string{s}, ok
		case filter.OpIn:
			list, _ := e.Value.AsList()
			out := make([]string, 0, len(list))
			for _, v := range list {
				s, ok := v.AsString()
				if !ok {
					return nil, false
				}
				out = append(out, s)
			}
			return out, true
		}
	case *filter.And:
		if v, ok := eqInValues(e.Left, field); ok {
			return v, true
		}
		return eqInValues(e.Right, field)
	}
	return nil, false
}

// str and boolean build filter values.
func str(s string) (filter.Value, bool) { return filter.String(s), true }

func optStr(s string) (filter.Value, bool) {
	if s == "" {
		return filter.Null(), true
	}
	return filter.String(s), true
}

func boolean(b bool) (filter.Value, bool) { return filter.Bool(b), true }
