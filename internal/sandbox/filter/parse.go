package filter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxLength is the longest filter Parse accepts, in bytes. ISC documents no
// limit. 16 KiB holds an `in` list of a full page of ids (250 ids of 32 hex
// characters is about 8.8 KB), the longest filter certops builds, and keeps
// a hostile query cheap (parsing is linear; 16 KiB takes well under a
// millisecond).
const MaxLength = 16 << 10

// MaxDepth caps how deeply parentheses and `not` nest, so "((((…" cannot
// exhaust the stack. and/or chains are parsed iteratively and do not count.
const MaxDepth = 32

// Error is a filter that cannot be parsed or is not allowed by Check.
type Error struct {
	Msg string
	// Pos is the byte offset (0-based) in the filter text where the problem
	// was found, or -1 when the problem is not about one place (Check
	// errors name the field instead).
	Pos int
}

func (e *Error) Error() string {
	if e.Pos < 0 {
		return "filters: " + e.Msg
	}
	return fmt.Sprintf("filters: %s at position %d", e.Msg, e.Pos)
}

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Pos: pos}
}

// Parse reads a filter. Errors are *Error.
func Parse(s string) (Expr, error) {
	if len(s) > MaxLength {
		return nil, errorf(-1, "the filter is %d bytes long; at most %d are allowed", len(s), MaxLength)
	}
	if !utf8.ValidString(s) {
		for i, r := range s {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
					return nil, errorf(i, "invalid UTF-8")
				}
			}
		}
	}
	p := &parser{src: s}
	p.next()
	e := p.parseOr()
	if p.err == nil && p.tok.kind != tokEOF {
		p.failf(p.tok.pos, "expected 'and', 'or' or the end of the filter, found %s", p.tok.describe())
	}
	if p.err != nil {
		return nil, p.err
	}
	return e, nil
}

type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // identifier, keyword or dotted field name
	tokBare           // an unquoted literal starting with a digit or '-': number or date-time
	tokString         // a quoted string; text holds the unescaped value
	tokLParen
	tokRParen
	tokComma
	tokInvalid // a character that starts no token
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end of the filter"
	case tokString:
		return "a quoted string"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokComma:
		return "','"
	}
	return "'" + short(t.text) + "'"
}

func short(s string) string {
	if utf8.RuneCountInString(s) > 30 {
		r := []rune(s)
		return string(r[:30]) + "…"
	}
	return s
}

// parser is a recursive-descent parser over a one-token lookahead lexer. The
// first error sticks; after it every method returns quickly.
type parser struct {
	src   string
	off   int // next unread byte
	tok   token
	depth int
	err   *Error
}

func (p *parser) failf(pos int, format string, args ...any) {
	if p.err == nil {
		p.err = errorf(pos, format, args...)
	}
}

// next reads the next token into p.tok.
func (p *parser) next() {
	if p.err != nil {
		p.tok = token{kind: tokEOF, pos: len(p.src)}
		return
	}
	for p.off < len(p.src) && isSpace(p.src[p.off]) {
		p.off++
	}
	start := p.off
	if start == len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	c := p.src[start]
	switch {
	case c == '(':
		p.off++
		p.tok = token{kind: tokLParen, text: "(", pos: start}
	case c == ')':
		p.off++
		p.tok = token{kind: tokRParen, text: ")", pos: start}
	case c == ',':
		p.off++
		p.tok = token{kind: tokComma, text: ",", pos: start}
	case c == '"':
		p.tok = p.lexString()
	case isWordStart(c) || c >= utf8.RuneSelf && unicode.IsLetter(firstRune(p.src[start:])):
		for p.off < len(p.src) && isWordByte(p.src[p.off]) {
			p.off++
		}
		p.tok = token{kind: tokWord, text: p.src[start:p.off], pos: start}
	case isDigit(c) || c == '-':
		for p.off < len(p.src) && isBareByte(p.src[p.off]) {
			p.off++
		}
		p.tok = token{kind: tokBare, text: p.src[start:p.off], pos: start}
	default:
		_, size := utf8.DecodeRuneInString(p.src[start:])
		p.off += size
		p.tok = token{kind: tokInvalid, text: p.src[start:p.off], pos: start}
	}
}

func (p *parser) lexString() token {
	start := p.off
	p.off++ // opening quote
	// Most strings have no escapes: return a slice of the input.
	if end := strings.IndexAny(p.src[p.off:], `"\`); end >= 0 && p.src[p.off+end] == '"' {
		text := p.src[p.off : p.off+end]
		p.off += end + 1
		return token{kind: tokString, text: text, pos: start}
	}
	var b strings.Builder
	for p.off < len(p.src) {
		c := p.src[p.off]
		switch c {
		case '"':
			p.off++
			return token{kind: tokString, text: b.String(), pos: start}
		case '\\':
			if p.off+1 >= len(p.src) {
				p.failf(p.off, "unterminated string")
				return token{kind: tokEOF, pos: len(p.src)}
			}
			esc := p.src[p.off+1]
			if esc != '"' && esc != '\\' {
				_, size := utf8.DecodeRuneInString(p.src[p.off+1:])
				p.failf(p.off, `unknown escape '\%s' in a string; only \" and \\ are allowed`, p.src[p.off+1:p.off+1+size])
				return token{kind: tokEOF, pos: len(p.src)}
			}
			b.WriteByte(esc)
			p.off += 2
		default:
			b.WriteByte(c)
			p.off++
		}
	}
	p.failf(start, "unterminated string")
	return token{kind: tokEOF, pos: len(p.src)}
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func isSpace(c byte) bool     { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isLetter(c byte) bool    { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isWordStart(c byte) bool { return isLetter(c) }
func isWordByte(c byte) bool  { return isLetter(c) || isDigit(c) || c == '.' || c >= utf8.RuneSelf }

// isBareByte covers numbers (1.5e-3) and RFC 3339 date-times
// (2018-12-18T23:05:55.5+02:00).
func isBareByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '.' || c == '-' || c == '+' || c == ':'
}

// keywords cannot be field names.
var keywords = map[string]bool{"and": true, "or": true, "not": true, "pr": true, "true": true, "false": true, "null": true}

func (p *parser) enter(pos int) bool {
	p.depth++
	if p.depth > MaxDepth {
		p.failf(pos, "the filter nests parentheses and 'not' more than %d deep", MaxDepth)
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

// parseOr: and { "or" and }
func (p *parser) parseOr() Expr {
	left := p.parseAnd()
	for p.err == nil && p.isWord("or") {
		p.next()
		right := p.parseAnd()
		left = &Or{Left: left, Right: right}
	}
	return left
}

// parseAnd: unary { "and" unary }
func (p *parser) parseAnd() Expr {
	left := p.parseUnary()
	for p.err == nil && p.isWord("and") {
		p.next()
		right := p.parseUnary()
		left = &And{Left: left, Right: right}
	}
	return left
}

// parseUnary: "not" unary | "(" or ")" | "pr" field | field op [value]
func (p *parser) parseUnary() Expr {
	if p.err != nil {
		return nil
	}
	t := p.tok
	switch {
	case t.kind == tokWord && t.text == "not":
		if !p.enter(t.pos) {
			return nil
		}
		defer p.leave()
		p.next()
		return &Not{X: p.parseUnary()}
	case t.kind == tokLParen:
		if !p.enter(t.pos) {
			return nil
		}
		defer p.leave()
		p.next()
		e := p.parseOr()
		if p.err == nil && p.tok.kind != tokRParen {
			p.failf(p.tok.pos, "expected ')' to close the '(' at position %d, found %s", t.pos, p.tok.describe())
		}
		p.next()
		return e
	case t.kind == tokWord && t.text == "pr":
		p.next()
		field, ok := p.parseField("after 'pr'")
		if !ok {
			return nil
		}
		return &Comparison{Field: field, Op: OpPr, Pos: t.pos}
	case t.kind == tokWord && (t.text == "NOT" || t.text == "PR"):
		p.failf(t.pos, "operator '%s' must be lowercase: '%s'", t.text, strings.ToLower(t.text))
		return nil
	}
	field, ok := p.parseField("")
	if !ok {
		return nil
	}
	return p.parseComparison(field, t.pos)
}

// isIdentifier matches [A-Za-z_][A-Za-z0-9_]*.
func isIdentifier(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// parseField reads a dotted field name.
func (p *parser) parseField(after string) (string, bool) {
	t := p.tok
	if after != "" {
		after = " " + after
	}
	if t.kind != tokWord || keywords[t.text] {
		p.failf(t.pos, "expected a field name%s, found %s", after, t.describe())
		return "", false
	}
	for _, seg := range strings.Split(t.text, ".") {
		if !isIdentifier(seg) {
			p.failf(t.pos, "'%s' is not a field name; use ASCII identifiers separated by dots, like campaign.id", short(t.text))
			return "", false
		}
	}
	p.next()
	return t.text, true
}

func (p *parser) parseComparison(field string, pos int) Expr {
	t := p.tok
	if t.kind != tokWord {
		p.failf(t.pos, "expected an operator after '%s', found %s", short(field), t.describe())
		return nil
	}
	op := Op(t.text)
	switch op {
	case OpIsNull:
		p.next()
		return &Comparison{Field: field, Op: op, Pos: pos}
	case OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpCo, OpSw, OpIn, OpCa:
	case OpPr:
		p.failf(t.pos, "'pr' comes before the field: 'pr %s'", short(field))
		return nil
	default:
		lower := Op(strings.ToLower(t.text))
		for _, o := range Ops {
			if o == lower {
				p.failf(t.pos, "operator '%s' must be lowercase: '%s'", t.text, lower)
				return nil
			}
		}
		p.failf(t.pos, "unknown operator '%s' after '%s' (operators are eq, ne, gt, ge, lt, le, co, sw, in, ca, pr, isnull)", short(t.text), short(field))
		return nil
	}
	p.next()
	var v Value
	switch op {
	case OpIn, OpCa:
		v = p.parseList(op)
	default:
		v = p.parseScalar(op)
	}
	if p.err != nil {
		return nil
	}
	return &Comparison{Field: field, Op: op, Value: v, Pos: pos}
}

func (p *parser) parseList(op Op) Value {
	open := p.tok
	if open.kind != tokLParen {
		p.failf(open.pos, `expected a list like ("a","b") after '%s', found %s`, op, open.describe())
		return Value{}
	}
	p.next()
	var items []Value
	for p.err == nil {
		v := p.parseScalar(op)
		if p.err != nil {
			break
		}
		items = append(items, v)
		switch p.tok.kind {
		case tokComma:
			p.next()
			continue
		case tokRParen:
			p.next()
			return List(items...)
		}
		p.failf(p.tok.pos, "expected ',' or ')' in the list after '%s', found %s", op, p.tok.describe())
	}
	return Value{}
}

// parseScalar reads one literal and checks it suits op (for in and ca, it
// is a list item).
func (p *parser) parseScalar(op Op) Value {
	t := p.tok
	var v Value
	switch t.kind {
	case tokString:
		v = String(t.text)
	case tokBare:
		var ok bool
		if v, ok = parseBare(t.text); !ok {
			p.failf(t.pos, "'%s' is not a number or an RFC 3339 date-time (strings need double quotes)", short(t.text))
			return Value{}
		}
	case tokWord:
		switch t.text {
		case "true":
			v = Bool(true)
		case "false":
			v = Bool(false)
		case "null":
			v = Null()
		case "TRUE", "FALSE", "NULL", "True", "False", "Null":
			p.failf(t.pos, "'%s' must be lowercase: '%s'", t.text, strings.ToLower(t.text))
			return Value{}
		default:
			p.failf(t.pos, "expected a value after '%s', found '%s'; strings need double quotes", op, short(t.text))
			return Value{}
		}
	default:
		if op == OpCo || op == OpSw {
			p.failf(t.pos, "expected a quoted string after '%s', found %s", op, t.describe())
		} else {
			p.failf(t.pos, "expected a value after '%s', found %s", op, t.describe())
		}
		return Value{}
	}
	if msg := operandProblem(op, v.kind); msg != "" {
		p.failf(t.pos, "%s", msg)
		return Value{}
	}
	p.next()
	return v
}

func operandProblem(op Op, k Kind) string {
	switch op {
	case OpCo, OpSw:
		if k != KindString {
			return fmt.Sprintf("'%s' needs a quoted string, not a %s", op, k)
		}
	case OpGt, OpGe, OpLt, OpLe:
		if k != KindString && k != KindNumber && k != KindTime {
			return fmt.Sprintf("'%s' needs a string, number or date-time, not a %s", op, k)
		}
	case OpIn, OpCa:
		if k == KindNull {
			return fmt.Sprintf("the list after '%s' cannot hold null", op)
		}
	}
	return ""
}

// parseBare reads an unquoted number (-12, 3.5, 1e3) or RFC 3339 date-time.
func parseBare(s string) (Value, bool) {
	if isNumber(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil { // out of range
			return Value{}, false
		}
		return Number(f), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Time(t), true
	}
	return Value{}, false
}

// isNumber matches -?digits(.digits)?([eE][+-]?digits)?, stricter than
// strconv.ParseFloat (no hex, underscores, Inf or NaN).
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i > start
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

func (p *parser) isWord(w string) bool {
	if p.tok.kind != tokWord {
		return false
	}
	if p.tok.text == w {
		return true
	}
	if strings.EqualFold(p.tok.text, w) {
		p.failf(p.tok.pos, "'%s' must be lowercase: '%s'", p.tok.text, w)
	}
	return false
}
