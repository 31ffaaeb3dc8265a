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

// What every certs.Tenant does is checked by the conformance suite
// (conformance_test.go). TestSailPointDetails checks what the client adds:
// a refusal carries SailPoint's operationId in the flavour's spelling, its
// status and its tracking id, for people to quote to support.
func TestSailPointDetails(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := start(t, sandbox.Config{}, version)
			c := h.client
			opID := func(v3 string) string {
				if version == sailpoint.APIv1 {
					return v3 + "V1"
				}
				return v3
			}
			requireDetails := func(t *testing.T, err error, code, op string, status int) {
				t.Helper()
				require.Equal(t, code, certs.ErrorCode(err), "%v", err)
				up := certs.UpstreamOf(err)
				require.NotNil(t, up)
				assert.Equal(t, status, up.Status)
				assert.NotEmpty(t, up.TrackingID)
				assert.Equal(t, op, up.Operation)
				apiErr := sailpoint.AsAPIError(err)
				require.NotNil(t, apiErr, "the APIError is in the chain")
				assert.Equal(t, op, apiErr.Operation)
				assert.Equal(t, status, apiErr.Status)
			}

			_, err := c.GetCertification(ctx, "0123456789abcdef0123456789abcdef")
			requireDetails(t, err, certs.ENOTFOUND, opID("getIdentityCertification"), 404)
			assert.Contains(t, certs.ErrorMessage(err), "certification 0123456789abcdef0123456789abcdef not found")

			_, err = c.GetTask(ctx, "0123456789abcdef0123456789abcdef")
			requireDetails(t, err, certs.ENOTFOUND, opID("getCertificationTask"), 404)

			all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
			require.NoError(t, err)
			to, refs := h.move(t, all[0], 1)
			r := certs.Reassignment{CertificationID: all[0].ID, Refs: refs, To: to, Reason: "expertise"}
			_, err = c.Reassign(ctx, r)
			require.NoError(t, err)
			_, err = c.Reassign(ctx, r)
			requireDetails(t, err, certs.EINVALID, opID("reassignIdentityCertifications"), 400)
			_, err = c.ReassignAsync(ctx, r)
			requireDetails(t, err, certs.EINVALID, opID("submitReassignCertsAsync"), 400)
		})
	}
}

// entitlementWithPermissions finds an entitlement item that has permissions.
func entitlementWithPermissions(t *testing.T, h *harness) (certs.ReviewItem, string) {
	t.Helper()
	ctx := context.Background()
	all, err := h.client.ListAllCertifications(ctx, certs.CertificationFilter{})
	require.NoError(t, err)
	for _, cert := range all {
		items, err := h.client.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{AccessType: certs.AccessEntitlement})
		require.NoError(t, err)
		for _, it := range items {
			if it.Access.HasPermissions {
				return it, cert.ID
			}
		}
	}
	t.Fatal("no entitlement item with permissions in the sandbox")
	return certs.ReviewItem{}, ""
}
