// Package filter implements SailPoint ISC's `filters` query parameter (the
// "standard collection parameters" filter grammar) for the sandbox: Parse
// turns the text into an Expr, Check rejects fields and operators an
// operation does not support, and Eval tests one record.
//
// It is hand-written rather than generated because the grammar is tiny and
// the sandbox needs exact control over error messages and positions, which
// SailPoint's clients see in 400 bodies.
//
// # Source
//
// The grammar follows SailPoint's developer docs, "Standard Collection
// Parameters", https://developer.sailpoint.com/docs/api/standard-collection-parameters
// (repository sailpoint-oss/developer.sailpoint.com, file
// docs/api/standard-collection-parameters.md at commit
// 079e24591c936999ba9a69063c408518de7b48b4), and the per-operation filter
// tables digested in api/sailpoint/README.md. What the docs say:
//
//   - Primitive operators eq ne gt ge lt le co sw in ca pr isnull, all
//     lowercase ("specifying EQ instead of eq is not allowed").
//   - `pr` is a prefix operator (`pr accountRequestInfo`); `isnull` is a
//     postfix operator (`lastUsed isnull`). Neither takes a value.
//   - `in` and `ca` take a parenthesised, comma-separated list:
//     `groups ca ("Venezia","Firenze")`.
//   - Composite operators and, or, not. "not having higher priority than
//     and, which in turn has higher priority than or"; parentheses override
//     this. So `not a eq 1 or b eq 2 and c eq 3` is
//     `(not (a eq 1)) or ((b eq 2) and (c eq 3))`.
//   - Strings are double-quoted; `\"` and `\\` escape a quote and a
//     backslash. Date-times are ISO-8601 / RFC 3339 and appear unquoted in
//     the examples (`created gt 2018-12-18T23:05:55Z`); they compare
//     temporally. "Most comparisons are not case sensitive."
//
// # Decisions where the docs are silent
//
//   - Keywords (operators, and/or/not, true/false/null) are lowercase only;
//     `EQ`, `AND`, `TRUE` are syntax errors with a hint.
//   - Only the two escapes above exist; any other backslash sequence is an
//     error, so every string has exactly one spelling.
//   - Input must be valid UTF-8 and at most MaxLength bytes; parentheses
//     and `not` nest at most MaxDepth deep.
//   - Field names are dotted paths of identifiers ([A-Za-z_][A-Za-z0-9_]*),
//     e.g. campaign.id. The words and, or, not, pr, true, false and null
//     cannot be field names.
//   - Literals: double-quoted strings; numbers (-12, 3.5, 1e3); true and
//     false; null (eq and ne only); unquoted RFC 3339 date-times.
//     gt/ge/lt/le take a string, number or date-time; co and sw take a
//     string; in and ca take a non-empty list of non-null literals.
//   - Tokens need no whitespace between them where unambiguous
//     (`(a eq "x")and(b eq "y")`); spaces, tabs and newlines are whitespace.
//
// See Eval for the comparison rules (case-insensitive strings, nulls,
// mismatched types).
package filter
