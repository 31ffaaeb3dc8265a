package certs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/certs"
)

// Filter texts reach ISC inside filter expressions: the domain's text
// policy refuses what a person cannot see (bidi overrides, zero-width
// characters, controls) before any call, naming the field.
func TestFilterTexts_followTheTextPolicy(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	_, err := f.svc.ListReviewers(ctx, admin, certID, certs.ReviewerFilter{Name: "Bob\u202eevil"})
	requireCode(t, certs.EINVALID, err)
	assert.Contains(t, certs.ErrorMessage(err), "name contains U+202E")

	_, err = f.svc.ListReviewItems(ctx, admin, certID, certs.ReviewItemFilter{AccessName: "Pay\u200broll"})
	requireCode(t, certs.EINVALID, err)
	assert.Contains(t, certs.ErrorMessage(err), "access name contains U+200B")

	_, err = f.svc.ListItemPermissions(ctx, admin, certID, "item-a1", certs.PermissionFilter{Rights: []string{"read\nwrite"}})
	requireCode(t, certs.EINVALID, err)
	assert.Contains(t, certs.ErrorMessage(err), "right")

	assert.Zero(t, f.tenant.Calls("ListReviewers")+f.tenant.Calls("ListReviewItems")+f.tenant.Calls("ListItemPermissions"), "nothing sent to ISC")
}
