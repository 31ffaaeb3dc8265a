package certs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
)

func TestErrorMessage(t *testing.T) {
	upstream := func(status int, detail string) error {
		return fmt.Errorf("wrapped: %w", &certs.Error{
			Code: certs.EUNAVAILABLE, Message: "SailPoint is unavailable",
			Upstream: &certs.Upstream{Status: status, DetailCode: detail, TrackingID: "trk-1"},
			Err:      errors.New("socket detail for the logs"),
		})
	}
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"domain error", certs.Errorf(certs.EINVALID, "reason is required"), certs.EINVALID, "reason is required"},
		{"other error hides internals", errors.New("pq: relation does not exist"), certs.EINTERNAL, "internal error"},
		{"detail code carries the status", upstream(503, "503 Service Unavailable"), certs.EUNAVAILABLE, "SailPoint is unavailable (SailPoint 503 Service Unavailable, tracking id trk-1)"},
		{"detail code without the status", upstream(500, "Internal Fault"), certs.EUNAVAILABLE, "SailPoint is unavailable (SailPoint 500 Internal Fault, tracking id trk-1)"},
		{"no detail code", upstream(502, ""), certs.EUNAVAILABLE, "SailPoint is unavailable (SailPoint 502, tracking id trk-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, certs.ErrorCode(tt.err))
			assert.Equal(t, tt.message, certs.ErrorMessage(tt.err))
		})
	}
}
