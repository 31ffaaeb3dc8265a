package sailpoint_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// TestTextPolicySendsNothing: the client applies certs' one text policy to
// every filter literal and reassignment reason, also when it is used
// directly as a library: a text-direction override, an invisible character
// or a line break in a single-line value is EINVALID naming the value, and
// nothing reaches the tenant.
func TestTextPolicySendsNothing(t *testing.T) {
	ctx := context.Background()
	h := start(t, sandbox.Config{}, sailpoint.APIv3)
	c := h.client
	good := h.firstCertID(t)
	before := totalCalls(h.sb.Stats())
	ref := []certs.Ref{{ID: "item-1", Type: certs.RefItem}}
	tests := []struct {
		name, msg string
		call      func() error
	}{
		{"override in an identity name", "identity name contains U+202E, an invisible text-direction control, at character 4", func() error {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{IdentityName: "Ana\u202Eanilas"})
			return err
		}},
		{"isolate in an access name", "access name contains U+2066", func() error {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{AccessName: "\u2066admin"})
			return err
		}},
		{"zero width space in a reviewer name", "reviewer name prefix contains U+200B, an invisible formatting character", func() error {
			_, err := c.ListReviewers(ctx, good, certs.ReviewerFilter{NameSW: "Al\u200Bice"})
			return err
		}},
		{"BOM in an email", "email contains U+FEFF", func() error {
			_, err := c.FindIdentityByEmail(ctx, "\uFEFFana@example.com")
			return err
		}},
		{"line break in a permission target", "permission target contains U+000A, a line break", func() error {
			_, err := c.ListItemPermissions(ctx, good, "item-1", certs.PermissionFilter{Target: "PAYROLL\nSALARIES"})
			return err
		}},
		{"invalid UTF-8 in a right", "permission right is not valid UTF-8 text", func() error {
			_, err := c.ListItemPermissions(ctx, good, "item-1", certs.PermissionFilter{Rights: []string{"SEL\xffECT"}})
			return err
		}},
		{"override in a sync reassignment's reason", "reason contains U+202E", func() error {
			_, err := c.Reassign(ctx, certs.Reassignment{CertificationID: good, Refs: ref, To: "someone", Reason: "on leave\u202E"})
			return err
		}},
		{"isolate in an async reassignment's reason", "reason contains U+2067", func() error {
			_, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: good, Refs: ref, To: "someone", Reason: "\u2067on leave"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%v", err)
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
		})
	}
	assert.Equal(t, before, totalCalls(h.sb.Stats()), "no refused text reached the tenant")

	t.Run("joiners, scripts and quotes are sent", func(t *testing.T) {
		for _, name := range []string{"می\u200cخواهم", "שלום", `O"Brien \ ok`} {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{IdentityName: name})
			assert.NoError(t, err, "%q", name)
		}
	})
}
