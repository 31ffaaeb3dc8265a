package certs

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// People's text: the one policy for every reason, comment and name that
// reaches ISC or the store, whichever front end it came from. Front ends
// keep only their own schema bounds (a tool argument's maxLength, a Slack
// field's size) and pass the text here; the ISC client and the store call
// the same functions rather than judging characters themselves.
//
// What is refused, everywhere:
//   - text that is not valid UTF-8;
//   - NUL and every other C0 and C1 control character (U+0000–U+001F,
//     U+007F–U+009F), except line feed, carriage return and tab in
//     multi-line text (reasons, comments);
//   - Unicode format characters (category Cf): the text-direction controls
//     (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which make an
//     approval message read differently from what it says, and the
//     invisible ones (U+00AD, U+200B, U+2060–U+2064, U+FEFF, the tag
//     characters U+E0001 and U+E0020–U+E007F, …), which hide text from the
//     person reading it but not from a model or a filter. ZERO WIDTH NON-JOINER
//     and ZERO WIDTH JOINER (U+200C, U+200D) are the exception: Persian and
//     Indic spelling and emoji sequences need them, and they reorder or
//     hide nothing;
//   - the line and paragraph separators U+2028 and U+2029 (a line break
//     must be a line feed).
//
// Lengths are counted in characters (runes), as people count them.
//
// Every refusal is EINVALID naming the field, the character (U+XXXX), its
// position (the n-th character, from 1) and what to do.

const (
	// MaxCommentLength caps a review decision's comment. ISC's spec sets no
	// limit (ReviewDecision.comments is a plain string); like a reason, 1000
	// characters is ample and keeps messages and audit rows readable.
	MaxCommentLength = 1000
	// MaxNameLength caps single-line text such as a name, an email address
	// or a filter value: above any ISC display name and any email address
	// (254). Front ends may bound their own fields lower.
	MaxNameLength = 256
)

// TextRule says what one field of people's text may be. The zero rule is
// optional, single-line text of any length.
type TextRule struct {
	// Required refuses empty and blank (whitespace-only) text.
	Required bool
	// MaxRunes caps the length in characters; 0 is no cap.
	MaxRunes int
	// Multiline allows line feeds, carriage returns and tabs.
	Multiline bool
}

// ValidateText checks s against rule and the characters refused everywhere
// (see above). field names the text in the error ("reason", "identity
// name"). Returns EINVALID.
func ValidateText(field, s string, rule TextRule) error {
	if err := checkUTF8(field, s, "send it as UTF-8"); err != nil {
		return err
	}
	if rule.Required && isBlank(s) {
		return Errorf(EINVALID, "%s %s is required", article(field), field)
	}
	if rule.MaxRunes > 0 {
		if n := utf8.RuneCountInString(s); n > rule.MaxRunes {
			return Errorf(EINVALID, "%s is %d characters; at most %d are allowed", field, n, rule.MaxRunes)
		}
	}
	pos := 0
	for _, r := range s {
		pos++
		if what, advice := refusedRune(r, rule.Multiline); what != "" {
			return runeError(field, r, pos, what, advice)
		}
	}
	return nil
}

// ValidateReason checks a reassignment reason: required, at most
// MaxReasonLength characters, line breaks and tabs allowed. Returns
// EINVALID naming "reason".
func ValidateReason(reason string) error {
	return ValidateText("reason", reason, TextRule{Required: true, MaxRunes: MaxReasonLength, Multiline: true})
}

// ValidateOptionalReason checks a reason that may be left out, such as an
// approver's reason for denying a request: empty or blank is fine (no
// reason), otherwise the rules of ValidateReason. Returns EINVALID naming
// "reason".
func ValidateOptionalReason(reason string) error {
	return ValidateText("reason", reason, TextRule{MaxRunes: MaxReasonLength, Multiline: true})
}

// ValidateComment checks a review decision's comment sent to ISC: optional
// (whether a decision needs one is the campaign's rule, not the text's), at
// most MaxCommentLength characters, line breaks and tabs allowed. Returns
// EINVALID naming "comment".
func ValidateComment(comment string) error {
	return ValidateText("comment", comment, TextRule{MaxRunes: MaxCommentLength, Multiline: true})
}

// ValidateName checks optional single-line text such as a name, an email
// address or a filter value: at most MaxNameLength characters, no line
// breaks or tabs. field names it in the error. Returns EINVALID.
func ValidateName(field, s string) error {
	return ValidateText(field, s, TextRule{MaxRunes: MaxNameLength})
}

// ValidateStorable checks only what a database cannot hold: text that is
// not valid UTF-8, and NUL (PostgreSQL has neither in text, nor NUL in
// jsonb). It is the store's check, for text whose content rules are
// ValidateText's and were applied, or not, by whoever wrote it. Returns
// EINVALID naming field.
func ValidateStorable(field, s string) error {
	if err := checkUTF8(field, s, "it cannot be stored"); err != nil {
		return err
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return runeError(field, 0, utf8.RuneCountInString(s[:i])+1, "a NUL character", "it cannot be stored; remove it")
	}
	return nil
}

// checkUTF8 refuses invalid UTF-8, naming the first bad byte and its
// offset (there is no character to name).
func checkUTF8(field, s, advice string) error {
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return Errorf(EINVALID, "%s is not valid UTF-8 text (byte 0x%02X at byte %d): %s", field, s[i], i+1, advice)
		}
		i += n
	}
	return Errorf(EINVALID, "%s is not valid UTF-8 text: %s", field, advice)
}

// refusedRune says what r is and what to do about it when the policy
// refuses it, or "" when r is allowed.
func refusedRune(r rune, multiline bool) (what, advice string) {
	switch {
	case r == '\n' || r == '\r':
		if multiline {
			return "", ""
		}
		return "a line break", "this field is one line; remove it"
	case r == '\t':
		if multiline {
			return "", ""
		}
		return "a tab", "this field is one line; use a space instead"
	case r == 0:
		return "a NUL character", "remove it"
	case unicode.IsControl(r):
		return "a control character", "remove it; only printable text" + allowedBreaks(multiline)
	case r == '\u2028' || r == '\u2029':
		if multiline {
			return "a line or paragraph separator", "use an ordinary line break instead"
		}
		return "a line or paragraph separator", "this field is one line; remove it"
	case r == '\u200C' || r == '\u200D':
		// Joiners: needed for Persian and Indic spelling and emoji.
		return "", ""
	case isDirectionControl(r):
		return "an invisible text-direction control", "remove it; it can make the text display differently from what it says"
	case unicode.Is(unicode.Cf, r):
		return "an invisible formatting character", "remove it; only visible text" + allowedBreaks(multiline)
	}
	return "", ""
}

func allowedBreaks(multiline bool) string {
	if multiline {
		return ", line breaks and tabs are allowed"
	}
	return " is allowed"
}

// isDirectionControl reports the bidirectional formatting characters:
// ARABIC LETTER MARK, LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK, the embeddings
// and overrides (U+202A–U+202E) and the isolates (U+2066–U+2069).
func isDirectionControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' ||
		r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

func runeError(field string, r rune, pos int, what, advice string) error {
	return Errorf(EINVALID, "%s contains %U, %s, at character %d: %s", field, r, what, pos, advice)
}

// isBlank reports whether s is empty or only white space.
func isBlank(s string) bool {
	return strings.TrimFunc(s, unicode.IsSpace) == ""
}

// article is "an" before a field name starting with a vowel, else "a".
func article(field string) string {
	if field != "" && strings.ContainsRune("aeiouAEIOU", rune(field[0])) {
		return "an"
	}
	return "a"
}
