package certs_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// pageByPage reads every page of review items one after another, as the
// Service did before Tenant.ListAllReviewItems and as SailPoint's SDK
// paginators do.
type pageByPage struct{ certs.Tenant }

func (p pageByPage) ListAllReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) ([]certs.ReviewItem, error) {
	var all []certs.ReviewItem
	limit := f.Page.Limit
	if limit == 0 {
		limit = certs.DefaultPageLimit
	}
	for f.Page = (certs.PageOptions{Offset: f.Page.Offset, Limit: limit}); ; f.Page.Offset += limit {
		page, err := p.ListReviewItems(ctx, certID, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if len(page.Items) < limit {
			return all, nil
		}
	}
}

// BenchmarkPlanIdentityItems plans the reassignment of every open item of
// one identity in a 5,000-item certification (20 pages of 250, read whole:
// ISC cannot filter on the identity) at 50 ms of tenant latency, through
// certs.Service and sailpoint.Client: "sequential" reads the pages one
// after another (the Service's former loop, the SDK's way), "concurrent"
// is Tenant.ListAllReviewItems. Both run in one process on one client, one
// after the other in each iteration, and are reported with their ratio.
//
// "defaults" is the client as production makes it (sailpoint.LoadConfig
// with only the tenant and credentials set: the rate limit of 100 per 10 s
// on; the ReadCache internal/app gives it) against a sandbox limiting at
// 100 per 10 s as ISC does, each plan starting with an empty window (so
// each iteration waits 2 windows, untimed); "unpaced" switches the limit
// off on both sides, to show what the reads alone cost.
//
//	go test ./internal/certs -run '^$' -bench PlanIdentityItems -benchtime 3x
func BenchmarkPlanIdentityItems(b *testing.B) {
	for _, bc := range []struct {
		name    string
		sbLimit int    // sandbox.Config.RateLimit: 0 its default (100 per 10 s), -1 none
		pace    string // SAIL_RATE_LIMIT: "" the default
	}{
		{"defaults", 0, ""},
		{"unpaced", -1, "0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sb := sandbox.New(sandbox.Config{Certifications: 3, ItemsPerCertification: 5000, RateLimit: bc.sbLimit})
			// Without the contract check: validating 250-item pages would
			// be measured instead of the client.
			srv := httptest.NewServer(sb)
			b.Cleanup(srv.Close)
			b.Setenv("SAIL_BASE_URL", srv.URL)
			b.Setenv("SAIL_CLIENT_ID", sandbox.AdminClientID)
			b.Setenv("SAIL_CLIENT_SECRET", sandbox.AdminClientSecret)
			if bc.pace != "" {
				b.Setenv("SAIL_RATE_LIMIT", bc.pace)
			}
			cfg, err := sailpoint.LoadConfig()
			require.NoError(b, err)
			// As internal/app makes it.
			client, err := sailpoint.New(cfg, sailpoint.Options{Logger: quiet(), Reads: sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, nil)})
			require.NoError(b, err)
			in := identityWork(b, client)
			sb.SetLatency(50*time.Millisecond, 0)

			service := func(tn certs.Tenant) *certs.Service {
				return certs.NewService(certs.Options{Tenant: tn, Store: certstest.NewStore(), Logger: quiet()})
			}
			sequential, concurrent := service(pageByPage{client}), service(client)
			ctx := context.Background()
			plan := func(svc *certs.Service) time.Duration {
				start := time.Now()
				p, err := svc.PlanReassignment(ctx, mcpAdmin, in)
				took := time.Since(start)
				require.NoError(b, err)
				require.Positive(b, p.ItemCount)
				return took
			}
			plan(concurrent) // the connections a running process keeps
			// Under the limit each plan starts with the window empty, as
			// one person's plan on a quiet tenant does: otherwise the
			// plans before it decide how long it waits.
			fresh := func() {
				if cfg.RateLimit > 0 {
					b.StopTimer()
					time.Sleep(cfg.RateWindow + 100*time.Millisecond)
					b.StartTimer()
				}
			}

			var seq, conc time.Duration
			sb.ResetStats()
			for b.Loop() {
				fresh()
				seq += plan(sequential)
				fresh()
				conc += plan(concurrent)
			}
			st := sb.Stats()
			b.ReportMetric(seq.Seconds()/float64(b.N), "sequential-s/plan")
			b.ReportMetric(conc.Seconds()/float64(b.N), "concurrent-s/plan")
			b.ReportMetric(float64(seq)/float64(conc), "speedup")
			b.ReportMetric(float64(st.Clients[sandbox.AdminClientID].Calls)/float64(2*b.N), "ISC-calls/plan")
			b.ReportMetric(float64(st.Clients[sandbox.AdminClientID].RateLimited), "429s")
		})
	}
}

// identityWork finds, without latency, an identity with open items in a
// 5,000-item certification and an active target who may take them.
func identityWork(b *testing.B, c *sailpoint.Client) certs.PlanInput {
	b.Helper()
	ctx := context.Background()
	all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
	require.NoError(b, err)
	for _, cert := range all {
		if cert.Phase != certs.PhaseActive || cert.Completed || cert.DecisionsTotal < 5000 {
			continue
		}
		items, err := c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Completed: new(false)})
		require.NoError(b, err)
		if len(items) == 0 {
			continue
		}
		subject := items[0].IdentitySummary.IdentityID
		for _, other := range all {
			r := other.Reviewer
			if r.ID == cert.Reviewer.ID || r.ID == subject || r.Type == certs.ReviewerGovernanceGroup {
				continue
			}
			if to, err := c.GetIdentity(ctx, r.ID); err == nil && to.Active() {
				return certs.PlanInput{CertificationID: cert.ID, IdentityIDs: []string{subject}, Target: to.ID, Reason: "benchmark"}
			}
		}
	}
	b.Fatal("no certification of 5,000 items to plan from")
	return certs.PlanInput{}
}
