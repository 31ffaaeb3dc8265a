package certs_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
)

func TestValidateReason(t *testing.T) {
	tests := []struct {
		name, reason, msg string
	}{
		{"plain", "Bob moved to Carol's team", ""},
		{"line breaks and tabs", "Bob moved.\n\tCarol owns payroll now.\r\n", ""},
		{"quotes, backslashes and emoji", `He said "\u0000" ✅`, ""},
		{"exactly the cap", strings.Repeat("é", certs.MaxReasonLength), ""},
		{"empty", "", "a reason is required"},
		{"blank", " \t\n", "a reason is required"},
		{"one over the cap", strings.Repeat("a", certs.MaxReasonLength+1), "at most 1000"},
		{"NUL", "ok\x00then", "control character U+0000 at position 2"},
		{"escape", "\x1b[31mred", "control character U+001B"},
		{"invalid UTF-8", "caf\xe9", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := certs.ValidateReason(tt.reason)
			if tt.msg == "" {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
		})
	}
}
