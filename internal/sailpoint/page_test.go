package sailpoint_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest/tenanttest"
	"github.com/certops/certops/internal/sandbox"
)

func TestPagination(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			const n = 620 // three pages of 250, the last one short
			h := start(t, sandbox.Config{Certifications: n, ItemsPerCertification: 2}, version)
			c := h.client

			// The reference: one page after another, by hand.
			var want []certs.Certification
			for off := 0; ; off += certs.MaxPageLimit {
				page, err := c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: off}})
				require.NoError(t, err)
				want = append(want, page.Items...)
				if len(page.Items) < certs.MaxPageLimit {
					break
				}
			}
			require.Len(t, want, n)
			assert.Len(t, unique(tenanttest.CertificationIDs(want)), n, "no certification twice")

			t.Run("list-all returns every page in order", func(t *testing.T) {
				h.sb.ResetStats()
				got, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				assert.Equal(t, tenanttest.CertificationIDs(want), tenanttest.CertificationIDs(got))
				assert.Equal(t, 3, h.sb.Stats().Calls(opList), "one call per page, no extra")
			})

			t.Run("small pages across boundaries", func(t *testing.T) {
				got, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 7}})
				require.NoError(t, err)
				assert.Equal(t, tenanttest.CertificationIDs(want), tenanttest.CertificationIDs(got))
			})

			t.Run("from an offset", func(t *testing.T) {
				got, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: 245, Limit: 10}})
				require.NoError(t, err)
				assert.Equal(t, tenanttest.CertificationIDs(want[245:]), tenanttest.CertificationIDs(got))
			})

			t.Run("with filters", func(t *testing.T) {
				var wantActive []certs.Certification
				for _, cert := range want {
					if cert.Phase == certs.PhaseActive {
						wantActive = append(wantActive, cert)
					}
				}
				got, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive, Page: certs.PageOptions{Limit: 40}})
				require.NoError(t, err)
				assert.Equal(t, tenanttest.CertificationIDs(wantActive), tenanttest.CertificationIDs(got))

				page, err := c.ListCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive, Page: certs.PageOptions{Limit: 1, Count: true}})
				require.NoError(t, err)
				assert.Equal(t, len(wantActive), page.Total)
			})

			t.Run("items list-all in pages of one", func(t *testing.T) {
				cert := want[0]
				items, err := c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 1}})
				require.NoError(t, err)
				page, err := c.ListReviewItems(ctx, cert.ID, certs.ReviewItemFilter{})
				require.NoError(t, err)
				assert.Equal(t, tenanttest.ItemIDs(page.Items), tenanttest.ItemIDs(items))
				assert.Len(t, items, 2)
			})

			t.Run("a failing page fails list-all", func(t *testing.T) {
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault500, Count: 1})
				_, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 50}})
				require.Error(t, err)
				assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
			})
		})
	}
}

func unique(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}
