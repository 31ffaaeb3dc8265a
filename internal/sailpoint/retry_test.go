package sailpoint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest/tenanttest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store/storetest"
)

// Operation names as the sandbox counts them (no V1 suffix).
const (
	opList  = "listIdentityCertifications"
	opGet   = "getIdentityCertification"
	opAsync = "submitReassignCertsAsync"
	opSync  = "reassignIdentityCertifications"
)

func TestReadFaults(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()

			t.Run("a run of 503s is retried", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault503, Count: 3})
				page, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				assert.Len(t, page.Items, sandbox.SmallCertifications)
				assert.Equal(t, 4, h.sb.Stats().Calls(opList))
			})

			t.Run("503s beyond the budget surface SailPoint's details", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault503, Count: 10})
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
				apiErr := sailpoint.AsAPIError(err)
				require.NotNil(t, apiErr)
				assert.Equal(t, 503, apiErr.Status)
				assert.NotEmpty(t, apiErr.TrackingID)
				assert.Equal(t, 1+h.cfg.MaxRetries, h.sb.Stats().Calls(opList), "one call and MaxRetries retries")
			})

			t.Run("a 500 is not retried", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault500})
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
				up := certs.UpstreamOf(err)
				require.NotNil(t, up)
				assert.Equal(t, 500, up.Status)
				assert.Equal(t, "500.0 Internal Fault", up.DetailCode)
				assert.Equal(t, 1, h.sb.Stats().Calls(opList))
			})

			t.Run("a 429 waits for Retry-After, then succeeds", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault429, RetryAfter: 1})
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				st := h.sb.Stats()
				assert.Equal(t, 2, st.Calls(opList))
				assert.Equal(t, 1, st.Operations[opList].RateLimited)
			})

			t.Run("429s beyond the budget say so, not when to try again", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version, func(c *sailpoint.Config, _ *sailpoint.Options) { c.MaxRetries = 1 })
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault429, RetryAfter: 1, Count: 2})
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.Equal(t, certs.ERATELIMITED, certs.ErrorCode(err))
				assert.Equal(t, "SailPoint's rate limit was still reached after 2 tries", certs.ErrorMessage(err))
				assert.Equal(t, 2, h.sb.Stats().Calls(opList))
			})

			t.Run("a 429 longer than the caller's deadline fails at once", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault429, RetryAfter: 120})
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.Equal(t, certs.ERATELIMITED, certs.ErrorCode(err))
				apiErr := sailpoint.AsAPIError(err)
				require.NotNil(t, apiErr)
				assert.Equal(t, 120*time.Second, apiErr.RetryAfter)
				assert.Contains(t, certs.ErrorMessage(err), "try again in 2m0s")
				assert.Equal(t, 1, h.sb.Stats().Calls(opList))
			})

			t.Run("a hang ends with the caller's deadline", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.FaultHang, Count: 100})
				ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
			})

			t.Run("a hung attempt times out and is retried", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version, func(c *sailpoint.Config, _ *sailpoint.Options) { c.Timeout = 100 * time.Millisecond })
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.FaultHang})
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				assert.Equal(t, 2, h.sb.Stats().Calls(opList))
			})

			t.Run("a closed connection on a read is retried", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				cert := h.firstCert(t)
				h.sb.InjectFault(sandbox.Fault{Operation: opGet, Kind: sandbox.FaultCloseAfterApply})
				got, err := h.client.GetCertification(ctx, cert.ID)
				require.NoError(t, err)
				assert.Equal(t, cert.ID, got.ID)
				assert.Equal(t, 2, h.sb.Stats().Calls(opGet))
			})

			t.Run("cancellation stops a hung call", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.FaultHang})
				ctx, cancel := context.WithCancel(ctx)
				go func() {
					// Cancel once the call is at the sandbox.
					for h.sb.Stats().Calls(opList) == 0 {
						time.Sleep(time.Millisecond)
					}
					cancel()
				}()
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				require.Error(t, err)
				assert.ErrorIs(t, err, context.Canceled)
				assert.Equal(t, 1, h.sb.Stats().Calls(opList), "not retried after cancellation")
			})

			t.Run("cancellation stops list-all", func(t *testing.T) {
				h := start(t, sandbox.Config{Certifications: 3000}, version)
				h.sb.SetLatency(20*time.Millisecond, 0)
				ctx, cancel := context.WithCancel(ctx)
				go func() {
					for h.sb.Stats().Calls(opList) < 3 {
						time.Sleep(time.Millisecond)
					}
					cancel()
				}()
				_, err := h.client.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 10}})
				require.Error(t, err)
				assert.ErrorIs(t, err, context.Canceled)
				// The client's goroutines have all returned (errgroup.Wait);
				// only a few pages were ever asked for.
				assert.Less(t, h.sb.Stats().Calls(opList), 300, "most of the 300 pages were never asked for")
			})

			t.Run("an already canceled context sends nothing", func(t *testing.T) {
				h := start(t, sandbox.Config{}, version)
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := h.client.ListCertifications(ctx, certs.CertificationFilter{})
				assert.ErrorIs(t, err, context.Canceled)
				assert.Zero(t, h.sb.Stats().Calls(opList))
			})
		})
	}
}

// TestReassignFaults checks the mutation rules of the package doc: a call
// is sent once; when its outcome is unknown the answer is EUNKNOWN saying
// what was sent and why nothing is known, with SailPoint's details, and the
// client reads nothing to settle it (the certs Service does).
func TestReassignFaults(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			// setup: a sandbox whose tasks run when the test moves its
			// clock, and a reassignment of 2 items of an active
			// certification.
			setup := func(t *testing.T, tweak ...func(*sailpoint.Config, *sailpoint.Options)) (*harness, *storetest.Clock, certs.Reassignment) {
				clk := newClock()
				h := start(t, sandbox.Config{Now: clk.Now, TaskQueuedFor: time.Minute, TaskRunningFor: time.Minute}, version, tweak...)
				all, err := h.client.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
				require.NoError(t, err)
				to, refs := h.move(t, all[0], 2)
				return h, clk, certs.Reassignment{CertificationID: all[0].ID, Refs: refs, To: to, Reason: "coverage"}
			}
			// applied runs every task and returns how many reassignments
			// the sandbox applied.
			applied := func(h *harness, clk *storetest.Clock) int {
				clk.Advance(time.Hour)
				return h.sb.Stats().ReassignmentsApplied
			}
			// requireUnknown checks the EUNKNOWN a lost call gives: what
			// was sent, why the outcome is unknown, no claim that
			// SailPoint was unreachable.
			requireUnknown := func(t *testing.T, r certs.Reassignment, err error, why string) {
				t.Helper()
				require.Error(t, err)
				require.Equal(t, certs.EUNKNOWN, certs.ErrorCode(err), "%v", err)
				msg := certs.ErrorMessage(err)
				assert.Contains(t, msg, fmt.Sprintf("the reassignment of %d references of certification %s to identity %s was sent to SailPoint", len(r.Refs), r.CertificationID, r.To))
				assert.Contains(t, msg, why)
				assert.Contains(t, msg, "it was not sent again")
				assert.NotContains(t, msg, "could not reach")
			}
			// sentOnce checks that the call went out once and nothing
			// else was read after it.
			sentOnce := func(t *testing.T, h *harness, op string, before int) {
				t.Helper()
				st := h.sb.Stats()
				assert.Equal(t, 1, st.Calls(op), "sent once")
				assert.Equal(t, before+1, totalCalls(st), "nothing read to settle it")
			}

			t.Run("async: connection closed after apply is EUNKNOWN, and the task runs once", func(t *testing.T) {
				h, clk, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.FaultCloseAfterApply})
				_, err := h.client.ReassignAsync(ctx, r)
				requireUnknown(t, r, err, "the connection to SailPoint broke before its answer arrived")
				assert.Nil(t, certs.UpstreamOf(err), "SailPoint never answered")
				sentOnce(t, h, opAsync, before)
				assert.Equal(t, 1, applied(h, clk), "SailPoint applied it, once")
			})

			t.Run("async: a 503 is EUNKNOWN with SailPoint's details, once", func(t *testing.T) {
				h, clk, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.Fault503})
				_, err := h.client.ReassignAsync(ctx, r)
				requireUnknown(t, r, err, "SailPoint answered 503 Service Unavailable")
				up := certs.UpstreamOf(err)
				require.NotNil(t, up, "SailPoint's answer is kept")
				assert.Equal(t, 503, up.Status)
				require.NotEmpty(t, up.TrackingID)
				assert.Equal(t, 1, strings.Count(certs.ErrorMessage(err), up.TrackingID), "the tracking id once: %s", certs.ErrorMessage(err))
				sentOnce(t, h, opAsync, before)
				assert.Zero(t, applied(h, clk))
			})

			t.Run("async: a 500 is EUNKNOWN, not resent", func(t *testing.T) {
				h, _, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.Fault500})
				_, err := h.client.ReassignAsync(ctx, r)
				requireUnknown(t, r, err, "SailPoint answered 500 Internal Server Error")
				assert.Equal(t, 500, certs.UpstreamOf(err).Status)
				sentOnce(t, h, opAsync, before)
			})

			t.Run("async: a 429 is resent (it was not applied)", func(t *testing.T) {
				h, clk, r := setup(t)
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.Fault429, RetryAfter: 1})
				task, err := h.client.ReassignAsync(ctx, r)
				require.NoError(t, err)
				assert.Equal(t, r.CertificationID, task.TargetID)
				assert.Equal(t, 2, h.sb.Stats().Calls(opAsync))
				assert.Equal(t, 1, applied(h, clk))
			})

			t.Run("async: a hang past the attempt timeout is EUNKNOWN, not resent", func(t *testing.T) {
				h, _, r := setup(t, func(c *sailpoint.Config, _ *sailpoint.Options) { c.Timeout = 200 * time.Millisecond })
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.FaultHang})
				_, err := h.client.ReassignAsync(ctx, r)
				requireUnknown(t, r, err, "SailPoint did not answer within 200ms")
				sentOnce(t, h, opAsync, before)
			})

			t.Run("async: the caller's deadline during a hang is EUNKNOWN at once", func(t *testing.T) {
				h, _, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.FaultHang})
				ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				_, err := h.client.ReassignAsync(ctx, r)
				requireUnknown(t, r, err, "certops stopped waiting for the answer (the operation ran out of time)")
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				sentOnce(t, h, opAsync, before)
			})

			t.Run("sync: connection closed after apply is EUNKNOWN, applied once", func(t *testing.T) {
				h, clk, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opSync, Kind: sandbox.FaultCloseAfterApply})
				_, err := h.client.Reassign(ctx, r)
				requireUnknown(t, r, err, "the connection to SailPoint broke before its answer arrived")
				sentOnce(t, h, opSync, before)
				assert.Equal(t, 1, applied(h, clk))
			})

			t.Run("sync: a 503 is EUNKNOWN, not resent", func(t *testing.T) {
				h, clk, r := setup(t)
				before := totalCalls(h.sb.Stats())
				h.sb.InjectFault(sandbox.Fault{Operation: opSync, Kind: sandbox.Fault503})
				_, err := h.client.Reassign(ctx, r)
				requireUnknown(t, r, err, "SailPoint answered 503 Service Unavailable")
				assert.Equal(t, 503, certs.UpstreamOf(err).Status)
				sentOnce(t, h, opSync, before)
				assert.Zero(t, applied(h, clk))
			})

			t.Run("sync: a 429 is resent", func(t *testing.T) {
				h, clk, r := setup(t)
				h.sb.InjectFault(sandbox.Fault{Operation: opSync, Kind: sandbox.Fault429, RetryAfter: 1})
				cert, err := h.client.Reassign(ctx, r)
				require.NoError(t, err)
				assert.Equal(t, r.CertificationID, cert.ID)
				assert.Equal(t, 2, h.sb.Stats().Calls(opSync))
				assert.Equal(t, 1, applied(h, clk))
			})
		})
	}
}

func TestInvalidInputSendsNothing(t *testing.T) {
	ctx := context.Background()
	h := start(t, sandbox.Config{}, sailpoint.APIv3)
	c := h.client
	good := h.firstCertID(t)
	callsBefore := totalCalls(h.sb.Stats())
	long := make([]byte, 600)
	for i := range long {
		long[i] = 'a'
	}
	refs := func(n int) []certs.Ref {
		out := make([]certs.Ref, n)
		for i := range out {
			out[i] = certs.Ref{ID: "item" + string(rune('a'+i%26)), Type: certs.RefItem}
		}
		return out
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"path traversal id", func() error { _, err := c.GetCertification(ctx, "../x"); return err }},
		{"dot-dot id", func() error { _, err := c.GetCertification(ctx, ".."); return err }},
		{"quote in id", func() error { _, err := c.GetCertification(ctx, `a"b`); return err }},
		{"slash in task id", func() error { _, err := c.GetTask(ctx, "a/b"); return err }},
		{"empty identity id", func() error { _, err := c.GetIdentity(ctx, ""); return err }},
		{"quote in filter id", func() error {
			_, err := c.ListCertifications(ctx, certs.CertificationFilter{IDs: []string{`x") or (id pr`}})
			return err
		}},
		{"bad reviewer identity", func() error {
			_, err := c.ListCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: "me or you"})
			return err
		}},
		{"limit 251", func() error {
			_, err := c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 251}})
			return err
		}},
		{"negative offset", func() error {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{Page: certs.PageOptions{Offset: -1}})
			return err
		}},
		{"unknown sorter", func() error {
			_, err := c.ListCertifications(ctx, certs.CertificationFilter{Sorters: []string{"created"}})
			return err
		}},
		{"unknown phase", func() error {
			_, err := c.ListCertifications(ctx, certs.CertificationFilter{Phase: "DONE"})
			return err
		}},
		{"unknown access type", func() error {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{AccessType: "ACCOUNT"})
			return err
		}},
		{"two selectors", func() error {
			_, err := c.ListReviewItems(ctx, good, certs.ReviewItemFilter{AccessProfiles: []string{"a"}, Roles: []string{"b"}})
			return err
		}},
		{"control character in a name", func() error {
			_, err := c.ListReviewers(ctx, good, certs.ReviewerFilter{Name: "a\nb"})
			return err
		}},
		{"overlong email", func() error { _, err := c.FindIdentityByEmail(ctx, string(long)+"@x"); return err }},
		{"empty email", func() error { _, err := c.FindIdentityByEmail(ctx, ""); return err }},
		{"51 refs sync", func() error {
			_, err := c.Reassign(ctx, certs.Reassignment{CertificationID: good, Refs: refs(51), To: "someone", Reason: "r"})
			return err
		}},
		{"501 refs async", func() error {
			_, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: good, Refs: refs(501), To: "someone", Reason: "r"})
			return err
		}},
		{"no reason", func() error {
			_, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: good, Refs: refs(1), To: "someone"})
			return err
		}},
		{"bad ref type", func() error {
			_, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: good, Refs: []certs.Ref{{ID: "x", Type: "ALL"}}, To: "someone", Reason: "r"})
			return err
		}},
		{"bad target", func() error {
			_, err := c.ReassignAsync(ctx, certs.Reassignment{CertificationID: good, Refs: refs(1), To: "../admin", Reason: "r"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Equal(t, certs.EINVALID, certs.ErrorCode(err), "%v", err)
		})
	}
	assert.Equal(t, callsBefore, totalCalls(h.sb.Stats()), "no invalid input reached the tenant")
}

// TestFilterLiteralsRoundTrip sends quotes, backslashes and unicode in
// filter literals: they match what they should and nothing else.
func TestFilterLiteralsRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			h := start(t, sandbox.Config{Certifications: 120}, version)
			c := h.client

			t.Run("quotes and backslashes find nothing, cleanly", func(t *testing.T) {
				for _, email := range []string{`o"brien@acme.example`, `back\slash@acme.example`, `x" or email sw "`, `\"`, `"`} {
					_, err := c.FindIdentityByEmail(ctx, email)
					assert.Equal(t, certs.ENOTFOUND, certs.ErrorCode(err), "%q: %v", email, err)
				}
				cert := h.firstCertID(t)
				page, err := c.ListReviewers(ctx, cert, certs.ReviewerFilter{NameSW: `a" or name sw "`})
				require.NoError(t, err)
				assert.Empty(t, page.Items)
			})

			t.Run("backslashes match a permission target", func(t *testing.T) {
				it, cert := entitlementWithPermissions(t, h)
				all, err := c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{})
				require.NoError(t, err)
				for _, p := range all.Items {
					got, err := c.ListItemPermissions(ctx, cert, it.ID, certs.PermissionFilter{Target: p.Target})
					require.NoError(t, err)
					require.Len(t, got.Items, 1, "target %q", p.Target)
					assert.Equal(t, p.Target, got.Items[0].Target)
				}
			})

			t.Run("unicode names match", func(t *testing.T) {
				all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
				require.NoError(t, err)
				var found certs.ReviewItem
				var certID string
				for _, cc := range all {
					items, err := c.ListAllReviewItems(ctx, cc.ID, certs.ReviewItemFilter{})
					require.NoError(t, err)
					for _, it := range items {
						if !isASCII(it.IdentitySummary.Name) {
							found, certID = it, cc.ID
						}
					}
					if certID != "" {
						break
					}
				}
				require.NotEmpty(t, certID, "an identity with a non-ASCII name")
				name := []rune(found.IdentitySummary.Name)
				got, err := c.ListAllReviewItems(ctx, certID, certs.ReviewItemFilter{IdentityName: found.IdentitySummary.Name})
				require.NoError(t, err)
				assert.Contains(t, tenanttest.ItemIDs(got), found.ID, "full name %q", string(name))
				for _, it := range got {
					assert.Equal(t, found.IdentitySummary.Name, it.IdentitySummary.Name)
				}
			})
		})
	}
}

func TestAPIErrorsAreReachable(t *testing.T) {
	h := start(t, sandbox.Config{}, sailpoint.APIv3)
	_, err := h.client.GetTask(context.Background(), "nope")
	var apiErr *sailpoint.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 404, apiErr.Status)
	assert.Equal(t, "getCertificationTask", apiErr.Operation)
	assert.Equal(t, "/v3/certification-tasks/nope", apiErr.Path)
}

func (h *harness) firstCertID(t testing.TB) string { return h.firstCert(t).ID }

func totalCalls(st sandbox.Stats) int {
	n := 0
	for _, op := range st.Operations {
		n += op.Calls
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 127 {
			return false
		}
	}
	return true
}

// TestRateLimitNeverTripped runs concurrent readers against the sandbox's
// rate limit with jittery latency: the client's pacing keeps every
// request inside the limit (no 429 at all), and all of them succeed.
func TestRateLimitNeverTripped(t *testing.T) {
	const limit, requests = 10, 45
	window := 500 * time.Millisecond
	h := start(t, sandbox.Config{RateLimit: limit, RateWindow: window, Latency: time.Millisecond, Jitter: 60 * time.Millisecond}, sailpoint.APIv3,
		func(c *sailpoint.Config, _ *sailpoint.Options) { c.RateLimit, c.RateWindow = limit, window })
	cert := h.firstCertID(t)
	errs := make(chan error, requests)
	for range requests {
		go func() {
			_, err := h.client.GetCertification(context.Background(), cert)
			errs <- err
		}()
	}
	for range requests {
		require.NoError(t, <-errs)
	}
	st := h.sb.Stats()
	assert.Equal(t, requests, st.Calls(opGet))
	assert.Zero(t, st.Clients[sandbox.AdminClientID].RateLimited, "no 429")
}
