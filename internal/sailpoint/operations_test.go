package sailpoint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// TestOperations calls every certs.Tenant method in both API flavours
// against the sandbox and checks what a caller relies on.
func TestOperations(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := start(t, sandbox.Config{TaskQueuedFor: time.Millisecond, TaskRunningFor: time.Millisecond}, version)
			c := h.client

			t.Run("list certifications", func(t *testing.T) {
				page, err := c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 5, Count: true}})
				require.NoError(t, err)
				assert.Len(t, page.Items, 5)
				assert.Equal(t, sandbox.SmallCertifications, page.Total)
				for _, cert := range page.Items {
					assert.NotEmpty(t, cert.ID)
					assert.NotEmpty(t, cert.Name)
					assert.NotEmpty(t, cert.Campaign.ID)
					assert.Contains(t, certs.CampaignTypes, cert.Campaign.CampaignType)
					assert.NotEmpty(t, cert.Reviewer.ID)
					assert.Contains(t, []certs.Phase{certs.PhaseStaged, certs.PhaseActive, certs.PhaseSigned}, cert.Phase)
					assert.False(t, cert.Created.IsZero())
				}
				page, err = c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 5}})
				require.NoError(t, err)
				assert.Equal(t, -1, page.Total, "no count asked")
			})

			t.Run("list certifications with filters and sorters", func(t *testing.T) {
				all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				require.Len(t, all, sandbox.SmallCertifications)

				active, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive, Completed: ptr(false)})
				require.NoError(t, err)
				want := 0
				for _, cert := range all {
					if cert.Phase == certs.PhaseActive && !cert.Completed {
						want++
					}
				}
				assert.Len(t, active, want)
				for _, cert := range active {
					assert.Equal(t, certs.PhaseActive, cert.Phase)
				}

				byID, err := c.ListAllCertifications(ctx, certs.CertificationFilter{IDs: []string{all[3].ID, all[1].ID}})
				require.NoError(t, err)
				assert.ElementsMatch(t, []string{all[1].ID, all[3].ID}, ids(byID))

				inCampaign, err := c.ListAllCertifications(ctx, certs.CertificationFilter{CampaignIDs: []string{all[0].Campaign.ID}})
				require.NoError(t, err)
				require.NotEmpty(t, inCampaign)
				for _, cert := range inCampaign {
					assert.Equal(t, all[0].Campaign.ID, cert.Campaign.ID)
				}

				byName, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Sorters: []string{"-name"}})
				require.NoError(t, err)
				for i := 1; i < len(byName); i++ {
					assert.GreaterOrEqual(t, strings.ToLower(byName[i-1].Name), strings.ToLower(byName[i].Name))
				}

				mine, err := c.ListAllCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: all[0].Reviewer.ID})
				require.NoError(t, err)
				require.NotEmpty(t, mine)
				for _, cert := range mine {
					assert.Equal(t, all[0].Reviewer.ID, cert.Reviewer.ID)
				}
			})

			t.Run("get certification", func(t *testing.T) {
				first := h.firstCert(t)
				got, err := c.GetCertification(ctx, first.ID)
				require.NoError(t, err)
				assert.Equal(t, first, *got)

				_, err = c.GetCertification(ctx, "0123456789abcdef0123456789abcdef")
				require.Error(t, err)
				assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err))
				assert.Contains(t, certs.ErrorMessage(err), "certification 0123456789abcdef0123456789abcdef not found")
				up := certs.UpstreamOf(err)
				require.NotNil(t, up)
				assert.Equal(t, 404, up.Status)
				assert.NotEmpty(t, up.TrackingID)
				apiErr := sailpoint.AsAPIError(err)
				require.NotNil(t, apiErr)
				assert.Equal(t, map[string]string{sailpoint.APIv3: "getIdentityCertification", sailpoint.APIv1: "getIdentityCertificationV1"}[version], apiErr.Operation)
			})

			t.Run("list reviewers", func(t *testing.T) {
				first := h.firstCert(t)
				page, err := c.ListReviewers(ctx, first.ID, certs.ReviewerFilter{Page: certs.PageOptions{Count: true}})
				require.NoError(t, err)
				require.NotEmpty(t, page.Items)
				assert.Equal(t, len(page.Items), page.Total)
				assert.Contains(t, reviewerIDs(page.Items), first.Reviewer.ID)

				byEmail, err := c.ListReviewers(ctx, first.ID, certs.ReviewerFilter{Email: first.Reviewer.Email, Sorters: []string{"name"}})
				require.NoError(t, err)
				require.Len(t, byEmail.Items, 1)
				assert.Equal(t, first.Reviewer.ID, byEmail.Items[0].ID)

				prefix, err := c.ListAllReviewers(ctx, first.ID, certs.ReviewerFilter{NameSW: first.Reviewer.Name[:3]})
				require.NoError(t, err)
				assert.Contains(t, reviewerIDs(prefix), first.Reviewer.ID)

				_, err = c.ListReviewers(ctx, "0123456789abcdef0123456789abcdef", certs.ReviewerFilter{})
				assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err))
			})

			t.Run("list review items", func(t *testing.T) {
				first := h.firstCert(t)
				page, err := c.ListReviewItems(ctx, first.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Count: true}})
				require.NoError(t, err)
				require.Len(t, page.Items, sandbox.SmallItemsPerCert)
				assert.Equal(t, sandbox.SmallItemsPerCert, page.Total)
				for _, it := range page.Items {
					assert.NotEmpty(t, it.ID)
					assert.Contains(t, certs.AccessTypes, it.Access.Type)
					assert.NotEmpty(t, it.Access.ID)
					assert.NotEmpty(t, it.IdentitySummary.IdentityID)
				}
				for _, typ := range certs.AccessTypes {
					got, err := c.ListAllReviewItems(ctx, first.ID, certs.ReviewItemFilter{AccessType: typ, Sorters: []string{"access.name"}})
					require.NoError(t, err)
					for _, it := range got {
						assert.Equal(t, typ, it.Access.Type)
					}
				}
				one := page.Items[2]
				got, err := c.ListAllReviewItems(ctx, first.ID, certs.ReviewItemFilter{IDs: []string{one.ID}})
				require.NoError(t, err)
				require.Len(t, got, 1)
				assert.Equal(t, one, got[0])

				got, err = c.ListAllReviewItems(ctx, first.ID, certs.ReviewItemFilter{IdentitySummaryIDs: []string{one.IdentitySummary.ID}, IdentityName: one.IdentitySummary.Name})
				require.NoError(t, err)
				assert.Contains(t, itemIDs(got), one.ID)

				got, err = c.ListAllReviewItems(ctx, first.ID, certs.ReviewItemFilter{AccessIDs: []string{one.Access.ID}, AccessName: one.Access.Name})
				require.NoError(t, err)
				assert.Contains(t, itemIDs(got), one.ID)
			})

			t.Run("review item selectors", func(t *testing.T) {
				first := h.firstCert(t)
				items, err := c.ListAllReviewItems(ctx, first.ID, certs.ReviewItemFilter{})
				require.NoError(t, err)
				for _, it := range items {
					f := certs.ReviewItemFilter{}
					switch it.Access.Type {
					case certs.AccessEntitlement:
						f.Entitlements = []string{it.Access.ID}
					case certs.AccessAccessProfile:
						f.AccessProfiles = []string{it.Access.ID}
					case certs.AccessRole:
						f.Roles = []string{it.Access.ID}
					}
					got, err := c.ListAllReviewItems(ctx, first.ID, f)
					require.NoError(t, err, "selector %s", it.Access.Type)
					assert.Contains(t, itemIDs(got), it.ID)
					for _, g := range got {
						assert.Equal(t, it.Access.ID, g.Access.ID)
					}
				}
				_, err = c.ListReviewItems(ctx, first.ID, certs.ReviewItemFilter{Entitlements: []string{"a"}, Roles: []string{"b"}})
				assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
			})

			t.Run("item permissions", func(t *testing.T) {
				it, cert := entitlementWithPermissions(t, h)
				page, err := c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{Page: certs.PageOptions{Count: true}})
				require.NoError(t, err)
				require.NotEmpty(t, page.Items)
				assert.Equal(t, len(page.Items), page.Total)
				p := page.Items[0]
				got, err := c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{Target: p.Target, Rights: p.Rights})
				require.NoError(t, err)
				require.NotEmpty(t, got.Items)
				assert.Equal(t, p.Target, got.Items[0].Target)
				got, err = c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{Target: p.Target[:2], TargetPrefix: true})
				require.NoError(t, err)
				assert.NotEmpty(t, got.Items)
				got, err = c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{Target: `no "such" \target`})
				require.NoError(t, err)
				assert.Empty(t, got.Items)
			})

			t.Run("reassign async, get task, pending tasks", func(t *testing.T) {
				all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
				require.NoError(t, err)
				cert := all[1]
				to, refs := h.move(t, cert, 2)
				task, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: cert.ID, Refs: refs, To: to, Reason: "on leave"})
				require.NoError(t, err)
				assert.Equal(t, cert.ID, task.TargetID)
				assert.Contains(t, []certs.TaskType{certs.TaskReassign, certs.TaskAdminReassign}, task.Type)

				got, err := c.GetTask(ctx, task.ID)
				require.NoError(t, err)
				assert.Equal(t, task.ID, got.ID)

				done, err := pollTask(ctx, c, task.ID, time.Millisecond)
				require.NoError(t, err)
				assert.Equal(t, certs.TaskSuccess, done.Status, "errors: %v", done.Errors)
				left, err := c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{IDs: []string{refs[0].ID, refs[1].ID}})
				require.NoError(t, err)
				assert.Empty(t, left, "the items moved")

				_, err = c.GetTask(ctx, "0123456789abcdef0123456789abcdef")
				assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err))
			})

			t.Run("pending tasks of a certification", func(t *testing.T) {
				slow := start(t, sandbox.Config{TaskQueuedFor: time.Hour}, version)
				all, err := slow.client.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
				require.NoError(t, err)
				cert := all[0]
				to, refs := slow.move(t, cert, 3)
				var want []string
				for _, ref := range refs {
					task, err := slow.client.ReassignAsync(ctx, certs.Reassignment{CertificationID: cert.ID, Refs: []certs.Ref{ref}, To: to, Reason: "split"})
					require.NoError(t, err)
					want = append(want, task.ID)
				}
				pending, err := slow.client.ListPendingTasks(ctx, cert.ID)
				require.NoError(t, err)
				assert.ElementsMatch(t, want, taskIDs(pending))
				for _, p := range pending {
					assert.Equal(t, certs.TaskQueued, p.Status)
					require.Len(t, p.Trail, 1)
					assert.Equal(t, to, p.Trail[0].NewOwner)
				}
				other, err := slow.client.ListPendingTasks(ctx, all[1].ID)
				require.NoError(t, err)
				assert.Empty(t, other)
			})

			t.Run("reassign sync", func(t *testing.T) {
				all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
				require.NoError(t, err)
				cert := all[2]
				to, refs := h.move(t, cert, 1)
				updated, err := c.Reassign(ctx, certs.Reassignment{CertificationID: cert.ID, Refs: refs, To: to, Reason: "expertise"})
				require.NoError(t, err)
				assert.Equal(t, cert.ID, updated.ID)
				left, err := c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{IDs: []string{refs[0].ID}})
				require.NoError(t, err)
				assert.Empty(t, left)

				// SailPoint's own refusal comes back with its details.
				_, err = c.Reassign(ctx, certs.Reassignment{CertificationID: cert.ID, Refs: refs, To: to, Reason: "again"})
				require.Error(t, err)
				assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
				up := certs.UpstreamOf(err)
				require.NotNil(t, up)
				assert.Equal(t, 400, up.Status)
				assert.NotEmpty(t, up.TrackingID)
			})

			t.Run("identities", func(t *testing.T) {
				first := h.firstCert(t)
				id, err := c.GetIdentity(ctx, first.Reviewer.ID)
				require.NoError(t, err)
				assert.Equal(t, first.Reviewer.Name, id.Name)
				assert.True(t, id.Active())

				byEmail, err := c.FindIdentityByEmail(ctx, strings.ToUpper(id.Email))
				require.NoError(t, err)
				assert.Equal(t, id.ID, byEmail.ID)

				_, err = c.GetIdentity(ctx, "0123456789abcdef0123456789abcdef")
				assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err))
				_, err = c.FindIdentityByEmail(ctx, "nobody@acme.example")
				assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err))
			})
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

func ids(cs []certs.Certification) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func itemIDs(its []certs.ReviewItem) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.ID
	}
	return out
}

func reviewerIDs(rs []certs.IdentityRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func taskIDs(ts []certs.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}
