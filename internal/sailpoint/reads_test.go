package sailpoint_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest/tenanttest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// More operation names as the sandbox counts them (see retry_test.go).
const (
	opItems      = "listIdentityAccessReviewItems"
	opIdentities = "getPublicIdentities"
)

// gate holds back the first API request it matches until open is closed,
// so that a test knows a read is in flight without timing anything.
type gate struct {
	next    http.RoundTripper
	match   func(*http.Request) bool
	arrived chan struct{} // closed when the first matching request arrived
	open    chan struct{}
	once    sync.Once
}

func newGate(match func(*http.Request) bool) *gate {
	return &gate{next: http.DefaultTransport, match: match, arrived: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.match(r) {
		first := false
		g.once.Do(func() { first = true; close(g.arrived) })
		if first {
			select {
			case <-g.open:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
	}
	return g.next.RoundTrip(r)
}

// through makes a client use the gate and the read cache.
func through(g *gate, rc *sailpoint.ReadCache) func(*sailpoint.Config, *sailpoint.Options) {
	return func(_ *sailpoint.Config, o *sailpoint.Options) {
		o.HTTPClient = &http.Client{Transport: g}
		o.Reads = rc
	}
}

// waitFor waits until n reads wait in rc. The bound only keeps a broken
// test from hanging; what is checked does not depend on time.
func waitFor(t *testing.T, rc *sailpoint.ReadCache, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return rc.Waiting() == n }, 10*time.Second, time.Millisecond, "%d reads waiting", n)
}

func isGet(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, suffix) }
}

func TestReadsInFlightAreSentOnce(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			h := start(t, sandbox.Config{}, version)
			cert := h.firstCert(t)
			rc := sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, nil)
			g := newGate(isGet("/" + cert.ID))
			c, _ := h.newClient(t, version, through(g, rc))
			h.sb.ResetStats()

			const n = 20
			got := make(chan *certs.Certification, n)
			for range n {
				go func() {
					c, err := c.GetCertification(ctx, cert.ID)
					assert.NoError(t, err)
					got <- c
				}()
			}
			<-g.arrived
			waitFor(t, rc, n)
			close(g.open)
			var all []*certs.Certification
			for range n {
				c := <-got
				require.NotNil(t, c)
				assert.Equal(t, cert, *c)
				all = append(all, c)
			}
			assert.Equal(t, 1, h.sb.Stats().Operations[opGet].Calls, "%d identical reads in flight, one ISC call", n)
			all[0].Name = "changed by one caller"
			assert.Equal(t, cert.Name, all[1].Name, "each caller has its own copy")

			_, err := c.GetCertification(ctx, cert.ID)
			require.NoError(t, err)
			assert.Equal(t, 2, h.sb.Stats().Operations[opGet].Calls, "certifications are not kept: a later read is sent")

			// A person's read never waits for a background one.
			g2 := newGate(isGet("/" + cert.ID))
			c2, _ := h.newClient(t, version, through(g2, rc))
			background := make(chan error, 1)
			go func() {
				_, err := c2.GetCertification(certs.Background(ctx), cert.ID)
				background <- err
			}()
			<-g2.arrived
			_, err = c2.GetCertification(ctx, cert.ID)
			require.NoError(t, err, "not held back by the background read")
			close(g2.open)
			require.NoError(t, <-background)
			assert.Equal(t, 4, h.sb.Stats().Operations[opGet].Calls)
		})
	}
}

func TestReadsAfterAMutationStartAfresh(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			const runFor = time.Minute
			h := start(t, sandbox.Config{Now: clk.Now, TaskQueuedFor: runFor, TaskRunningFor: runFor}, version)
			cert := h.firstCert(t)
			to, refs := h.move(t, cert, 2)
			rc := sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, nil)
			g := newGate(isGet("/" + cert.ID))
			c, _ := h.newClient(t, version, through(g, rc))
			h.sb.ResetStats()

			before := make(chan error, 1)
			go func() {
				_, err := c.GetCertification(ctx, cert.ID)
				before <- err
			}()
			<-g.arrived // a read of the certification is in flight

			moved, err := c.Reassign(ctx, certs.Reassignment{CertificationID: cert.ID, Refs: refs[:1], To: to, Reason: "fresh reads"})
			require.NoError(t, err)
			after, err := c.GetCertification(ctx, cert.ID)
			require.NoError(t, err, "not held back: it did not join the read in flight")
			assert.Equal(t, moved.DecisionsTotal, after.DecisionsTotal, "the reassignment is seen")
			assert.Equal(t, cert.DecisionsTotal-1, after.DecisionsTotal)
			close(g.open)
			require.NoError(t, <-before)
			assert.Equal(t, 2, h.sb.Stats().Operations[opGet].Calls)

			// Mutations are never shared, identical and at once.
			g2 := newGate(func(r *http.Request) bool { return r.Method == http.MethodPost })
			c2, _ := h.newClient(t, version, through(g2, rc))
			r := certs.Reassignment{CertificationID: cert.ID, Refs: refs[1:], To: to, Reason: "twice"}
			first := make(chan error, 1)
			go func() {
				_, err := c2.ReassignAsync(ctx, r)
				first <- err
			}()
			<-g2.arrived
			_, err = c2.ReassignAsync(ctx, r)
			require.NoError(t, err)
			close(g2.open)
			require.NoError(t, <-first)
			assert.Equal(t, 2, h.sb.Stats().Operations[opAsync].Calls, "both sent")
		})
	}
}

func TestIdentityLookupsAreKeptBriefly(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			h := start(t, sandbox.Config{}, version, func(_ *sailpoint.Config, o *sailpoint.Options) {
				o.Reads = sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, clk.Now)
			})
			cert := h.firstCert(t)
			calls := func() int { return h.sb.Stats().Operations[opIdentities].Calls }
			h.sb.ResetStats()

			id, err := h.client.GetIdentity(ctx, cert.Reviewer.ID)
			require.NoError(t, err)
			again, err := h.client.GetIdentity(ctx, cert.Reviewer.ID)
			require.NoError(t, err)
			assert.Equal(t, id, again)
			assert.Equal(t, 1, calls(), "the second lookup is answered from memory")
			byEmail, err := h.client.FindIdentityByEmail(ctx, id.Email)
			require.NoError(t, err)
			_, err = h.client.FindIdentityByEmail(ctx, id.Email)
			require.NoError(t, err)
			assert.Equal(t, *id, *byEmail)
			assert.Equal(t, 2, calls(), "by email: one more lookup, kept too")

			clk.Advance(sailpoint.DefaultIdentityTTL - time.Second)
			_, err = h.client.GetIdentity(ctx, cert.Reviewer.ID)
			require.NoError(t, err)
			assert.Equal(t, 2, calls(), "still kept")
			clk.Advance(time.Second)
			_, err = h.client.GetIdentity(ctx, cert.Reviewer.ID)
			require.NoError(t, err)
			assert.Equal(t, 3, calls(), "read again once the TTL is over")

			// A failure is not kept.
			other := cert.Campaign.ID // any well-formed id
			h.sb.InjectFault(sandbox.Fault{Operation: opIdentities, Kind: sandbox.Fault500})
			_, err = h.client.GetIdentity(ctx, other)
			require.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err), "%v", err)
			_, err = h.client.GetIdentity(ctx, other)
			assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err), "%v", err)
			assert.Equal(t, 5, calls())

			// Certifications are never kept.
			h.sb.ResetStats()
			for range 2 {
				_, err = h.client.GetCertification(ctx, cert.ID)
				require.NoError(t, err)
			}
			assert.Equal(t, 2, h.sb.Stats().Operations[opGet].Calls)
		})
	}
}

func TestReadCacheKeysHoldTheCredential(t *testing.T) {
	ctx := context.Background()
	h := start(t, sandbox.Config{}, sailpoint.APIv3)
	cert := h.firstCert(t)
	var reviewer sandbox.Credential
	for _, cred := range h.sb.Clients() {
		if cred.Role != sandbox.RoleAdmin {
			reviewer = cred
			break
		}
	}
	require.NotEmpty(t, reviewer.ClientID)
	rc := sailpoint.NewReadCache(sailpoint.DefaultIdentityTTL, nil)
	share := func(_ *sailpoint.Config, o *sailpoint.Options) { o.Reads = rc }
	asReviewer := func(cfg *sailpoint.Config, _ *sailpoint.Options) {
		cfg.ClientID, cfg.ClientSecret = reviewer.ClientID, reviewer.ClientSecret
	}
	admin1, _ := h.newClient(t, sailpoint.APIv3, share)
	admin2, _ := h.newClient(t, sailpoint.APIv3, share)
	rev, _ := h.newClient(t, sailpoint.APIv3, share, asReviewer)
	h.sb.ResetStats()
	byClient := func(id string) int { return h.sb.Stats().Operations[opIdentities].ByClient[id].Calls }

	for _, c := range []*sailpoint.Client{admin1, admin2, rev, rev} {
		_, err := c.GetIdentity(ctx, cert.Reviewer.ID)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, byClient(sandbox.AdminClientID), "two clients of one credential share the entry")
	assert.Equal(t, 1, byClient(reviewer.ClientID), "another credential reads for itself")

	// Nor are reads in flight shared across credentials.
	g := newGate(isGet("/" + cert.ID))
	viaGate := func(_ *sailpoint.Config, o *sailpoint.Options) { o.HTTPClient = &http.Client{Transport: g} }
	adminG, _ := h.newClient(t, sailpoint.APIv3, share, viaGate)
	revG, _ := h.newClient(t, sailpoint.APIv3, share, viaGate, asReviewer)
	h.sb.ResetStats()
	done := make(chan error, 1)
	go func() {
		_, err := adminG.GetCertification(ctx, cert.ID)
		done <- err
	}()
	<-g.arrived
	_, err := revG.GetCertification(ctx, cert.ID) // the reviewer's own answer (allowed or not)
	if err != nil {
		assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err), "%v", err)
	}
	close(g.open)
	require.NoError(t, <-done)
	st := h.sb.Stats().Operations[opGet]
	assert.Equal(t, 1, st.ByClient[sandbox.AdminClientID].Calls)
	assert.Equal(t, 1, st.ByClient[reviewer.ClientID].Calls)
}

func TestListAllPagesInOrder(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			// Jitter makes the pages come back out of order.
			h := start(t, sandbox.Config{Certifications: 2, ItemsPerCertification: 1000, Jitter: 3 * time.Millisecond}, version)
			cert := h.firstCert(t)
			var want []certs.ReviewItem
			for off := 0; ; off += certs.MaxPageLimit {
				page, err := h.client.ListReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Offset: off}})
				require.NoError(t, err)
				want = append(want, page.Items...)
				if len(page.Items) < certs.MaxPageLimit {
					break
				}
			}
			require.Len(t, want, cert.DecisionsTotal)

			h.sb.ResetStats()
			got, err := h.client.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 50}})
			require.NoError(t, err)
			assert.Equal(t, tenanttest.ItemIDs(want), tenanttest.ItemIDs(got), "every page, in order")
			assert.Len(t, got, cert.DecisionsTotal, "the total")
			assert.Equal(t, cert.DecisionsTotal/50, h.sb.Stats().Operations[opItems].Calls, "one call per page")

			// One page failing fails the read with SailPoint's answer.
			var n atomic.Int32
			failThird := func(_ *sailpoint.Config, o *sailpoint.Options) {
				o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if strings.HasSuffix(r.URL.Path, "/access-review-items") && n.Add(1) == 3 {
						h.sb.InjectFault(sandbox.Fault{Operation: opItems, Kind: sandbox.Fault500})
					}
					return http.DefaultTransport.RoundTrip(r)
				})}
			}
			c, _ := h.newClient(t, version, failThird)
			_, err = c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 50}})
			require.Error(t, err)
			assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err), "%v", err)
			up := certs.UpstreamOf(err)
			require.NotNil(t, up, "SailPoint's answer is kept: %v", err)
			assert.Equal(t, 500, up.Status)
			assert.NotEmpty(t, up.TrackingID)
			assert.Contains(t, up.Operation, opItems)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
