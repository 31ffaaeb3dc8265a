package certs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

var (
	reasonRule = certs.TextRule{Required: true, MaxRunes: certs.MaxReasonLength, Multiline: true}
	nameRule   = certs.TextRule{MaxRunes: certs.MaxNameLength}
)

func TestValidateText(t *testing.T) {
	tests := []struct {
		name string
		rule certs.TextRule
		text string
		msg  string // "" when the text is allowed
	}{
		// Allowed.
		{"plain", reasonRule, "Bob moved to Carol's team", ""},
		{"CRLF and tabs in a reason", reasonRule, "Bob moved.\r\n\tCarol owns payroll now.\r\n", ""},
		{"quotes, backslashes and emoji", reasonRule, `He said "\u0000" ✅`, ""},
		{"right-to-left script", reasonRule, "העובד עבר לצוות אחר", ""},
		{"ZWNJ in Persian", reasonRule, "می\u200cخواهم", ""},
		{"ZWJ in an emoji sequence", reasonRule, "on call 👩\u200d💻", ""},
		{"variation selector", reasonRule, "ok ✔\ufe0f", ""},
		{"exactly the cap, counted in runes", reasonRule, strings.Repeat("é", certs.MaxReasonLength), ""},
		{"empty optional name", nameRule, "", ""},
		{"name at the cap", nameRule, strings.Repeat("ß", certs.MaxNameLength), ""},

		// Required and length.
		{"empty", reasonRule, "", "a reason is required"},
		{"blank", reasonRule, " \t\r\n", "a reason is required"},
		{"blank with no-break spaces", reasonRule, "\u00a0\u3000", "a reason is required"},
		{"one over the cap", reasonRule, strings.Repeat("a", certs.MaxReasonLength+1), "reason is 1001 characters; at most 1000 are allowed"},
		{"one rune over the cap in multibyte text", reasonRule, strings.Repeat("é", certs.MaxReasonLength+1), "reason is 1001 characters"},
		{"name one over the cap", nameRule, strings.Repeat("a", certs.MaxNameLength+1), "reason is 257 characters; at most 256"},

		// Text-direction controls and invisible characters.
		{"RIGHT-TO-LEFT OVERRIDE", reasonRule, "invoice_\u202Etxt.exe", "reason contains U+202E, an invisible text-direction control, at character 9: remove it"},
		{"LEFT-TO-RIGHT ISOLATE", reasonRule, "a\u2066b", "U+2066, an invisible text-direction control, at character 2"},
		{"POP DIRECTIONAL ISOLATE", reasonRule, "a\u2069", "U+2069, an invisible text-direction control"},
		{"RIGHT-TO-LEFT MARK", reasonRule, "a\u200Fb", "U+200F, an invisible text-direction control"},
		{"ARABIC LETTER MARK", reasonRule, "a\u061Cb", "U+061C, an invisible text-direction control"},
		{"ZERO WIDTH SPACE", reasonRule, "ap\u200Bprove", "U+200B, an invisible formatting character, at character 3"},
		{"WORD JOINER", reasonRule, "a\u2060b", "U+2060, an invisible formatting character"},
		{"BOM", reasonRule, "\uFEFFreason", "U+FEFF, an invisible formatting character, at character 1"},
		{"SOFT HYPHEN", reasonRule, "re\u00ADason", "U+00AD, an invisible formatting character"},
		{"tag character", reasonRule, "ok\U000E0041", "U+E0041, an invisible formatting character"},
		{"LINE SEPARATOR", reasonRule, "a\u2028b", "U+2028, a line or paragraph separator, at character 2: use an ordinary line break"},

		// Controls.
		{"NUL", reasonRule, "ok\x00then", "reason contains U+0000, a NUL character, at character 3: remove it"},
		{"escape", reasonRule, "\x1b[31mred", "reason contains U+001B, a control character, at character 1: remove it; only printable text, line breaks and tabs are allowed"},
		{"DEL", reasonRule, "a\x7f", "U+007F, a control character"},
		{"C1 NEXT LINE", reasonRule, "a\u0085b", "U+0085, a control character"},
		{"position counts characters, not bytes", reasonRule, "ééé\x00", "at character 4"},

		// Single-line text.
		{"CRLF in a name", nameRule, "Ana\r\nSilva", "reason contains U+000D, a line break, at character 4: this field is one line"},
		{"LF in a name", nameRule, "Ana\nSilva", "U+000A, a line break"},
		{"tab in a name", nameRule, "Ana\tSilva", "U+0009, a tab, at character 4: this field is one line; use a space"},
		{"control in a name", nameRule, "Ana\x07", "U+0007, a control character, at character 4: remove it; only printable text is allowed"},
		{"bidi in a name", nameRule, "Ana\u202E", "U+202E, an invisible text-direction control"},

		// Encoding.
		{"invalid UTF-8", reasonRule, "caf\xe9", "reason is not valid UTF-8 text (byte 0xE9 at byte 4): send it as UTF-8"},
		{"invalid UTF-8 after valid multibyte text", reasonRule, "é\xff", "byte 0xFF at byte 3"},
		{"a lone surrogate's encoding", reasonRule, "a\xed\xa0\x80", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := certs.ValidateText("reason", tt.text, tt.rule)
			if tt.msg == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var e *certs.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, certs.EINVALID, e.Code)
			assert.Contains(t, e.Message, tt.msg)
			assert.True(t, strings.HasPrefix(e.Message, "reason ") || strings.HasPrefix(e.Message, "a reason "), "the message names the field: %s", e.Message)
		})
	}
}

func TestValidateReason(t *testing.T) {
	assert.NoError(t, certs.ValidateReason("Bob moved.\r\n\tCarol owns payroll now."))
	for text, msg := range map[string]string{
		"":           "a reason is required",
		" \n":        "a reason is required",
		"away\u202E": "reason contains U+202E",
		"away\x00":   "reason contains U+0000",
		"caf\xe9":    "reason is not valid UTF-8",
		strings.Repeat("x", certs.MaxReasonLength+1): "reason is 1001 characters; at most 1000",
	} {
		err := certs.ValidateReason(text)
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%q", text)
		assert.Contains(t, certs.ErrorMessage(err), msg)
	}
}

func TestValidateOptionalReason(t *testing.T) {
	for _, ok := range []string{"", "  ", "not needed any more\nsee ticket 42"} {
		assert.NoError(t, certs.ValidateOptionalReason(ok), "%q", ok)
	}
	for text, msg := range map[string]string{
		"no\u2066": "reason contains U+2066, an invisible text-direction control",
		"no\x1b":   "reason contains U+001B",
		"\xff":     "reason is not valid UTF-8",
		strings.Repeat("x", certs.MaxReasonLength+1): "reason is 1001 characters",
	} {
		err := certs.ValidateOptionalReason(text)
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%q", text)
		assert.Contains(t, certs.ErrorMessage(err), msg)
	}
}

func TestValidateComment(t *testing.T) {
	assert.NoError(t, certs.ValidateComment(""))
	assert.NoError(t, certs.ValidateComment("Still needed.\r\nSee INC-1."))
	assert.NoError(t, certs.ValidateComment(strings.Repeat("é", certs.MaxCommentLength)))
	for text, msg := range map[string]string{
		"ok\uFEFF": "comment contains U+FEFF, an invisible formatting character, at character 3",
		"ok\x00":   "comment contains U+0000, a NUL character",
		strings.Repeat("x", certs.MaxCommentLength+1): "comment is 1001 characters; at most 1000",
	} {
		err := certs.ValidateComment(text)
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%q", text)
		assert.Contains(t, certs.ErrorMessage(err), msg)
	}
}

func TestValidateName(t *testing.T) {
	assert.NoError(t, certs.ValidateName("identity name", "José O'Brien-Smith"))
	assert.NoError(t, certs.ValidateName("identity name", ""))
	err := certs.ValidateName("identity name", "Ana\r\nSilva")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "identity name contains U+000D, a line break")
	err = certs.ValidateName("access name", "a\u200Bb")
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "access name contains U+200B")
}

// The store's check refuses only what a database cannot hold: everything
// else is the text policy's business, applied before the store.
func TestValidateStorable(t *testing.T) {
	for _, ok := range []string{"", "plain", "bidi \u202E and escape \x1b and DEL \x7f", "line\r\nbreaks", `literal \u0000`} {
		assert.NoError(t, certs.ValidateStorable("event detail", ok), "%q", ok)
	}
	for text, msg := range map[string]string{
		"on leave\x00":  "event detail contains U+0000, a NUL character, at character 9: it cannot be stored; remove it",
		"ééé\x00":       "at character 4",
		"on leave \xff": "event detail is not valid UTF-8 text (byte 0xFF at byte 10): it cannot be stored",
	} {
		err := certs.ValidateStorable("event detail", text)
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%q", text)
		assert.Contains(t, certs.ErrorMessage(err), msg)
	}
}

// A bidi override in a reassignment reason is refused by the service before
// anything is looked up, recorded or sent: every front end plans through
// here, so every front end refuses it.
func TestPlanReassignment_refusesDirectionControlsInTheReason(t *testing.T) {
	for _, reason := range []string{"Bob is on leave \u202Eevael no", "Bob\u2066 is on leave", "Bob\u200B is on leave"} {
		f := setup(t, certs.Policy{})
		p, err := f.svc.PlanReassignment(context.Background(), admin, certs.PlanInput{
			CertificationID: certID, ItemIDs: []string{"item-a1"}, Target: "id-carol", Reason: reason,
		})
		assert.Nil(t, p)
		requireCode(t, certs.EINVALID, err)
		assert.Regexp(t, `^reason contains U\+(202E|2066|200B), an invisible`, certs.ErrorMessage(err))
		assert.Empty(t, f.store.Events(), "nothing recorded")
		assert.Zero(t, f.tenant.Calls("ReassignAsync")+f.tenant.Calls("Reassign"))
	}
}

// Reassignment.Validate, which the ISC client applies to every call, uses
// the same policy.
func TestReassignmentValidate_usesTheTextPolicy(t *testing.T) {
	r := certs.Reassignment{CertificationID: "cert-1", Refs: []certs.Ref{{ID: "i1", Type: certs.RefItem}}, To: "id-carol", Reason: "leave\u202E"}
	err := r.Validate(certs.MaxSyncReassign)
	assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	assert.Contains(t, certs.ErrorMessage(err), "reason contains U+202E")
}
