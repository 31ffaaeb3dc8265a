package sailpoint_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/store/storetest"
	"github.com/certops/certops/internal/testkit"
)

// versions are the two API flavours every operation is tested in.
var versions = []string{sailpoint.APIv3, sailpoint.APIv1}

// harness is a sandbox tenant behind the contract check and a client for
// it, with everything the client logged and every bearer token it sent.
type harness struct {
	sb      *sandbox.Sandbox
	base    string
	client  *sailpoint.Client
	cfg     sailpoint.Config
	logs    *syncBuffer
	bearers *bearerRecorder
}

// start runs a sandbox (rate limit off unless sbCfg sets one) and a client
// of the given flavour (fast retries, no client-side limit unless tweak
// sets them).
func start(t testing.TB, sbCfg sandbox.Config, version string, tweak ...func(*sailpoint.Config, *sailpoint.Options)) *harness {
	t.Helper()
	if sbCfg.RateLimit == 0 {
		sbCfg.RateLimit = -1
	}
	sb, base := sandboxtest.Start(t, sbCfg)
	h := &harness{sb: sb, base: base, logs: &syncBuffer{}, bearers: &bearerRecorder{next: http.DefaultTransport, seen: map[string]bool{}}}
	h.client, h.cfg = h.newClient(t, version, tweak...)
	return h
}

// newClient makes another client of the harness's sandbox.
func (h *harness) newClient(t testing.TB, version string, tweak ...func(*sailpoint.Config, *sailpoint.Options)) (*sailpoint.Client, sailpoint.Config) {
	t.Helper()
	cfg := sailpoint.Config{
		BaseURL:      h.base,
		ClientID:     sandbox.AdminClientID,
		ClientSecret: sandbox.AdminClientSecret,
		APIVersion:   version,
		RateLimit:    0,
		Timeout:      5 * time.Second,
		MaxRetries:   3,
		Concurrency:  4,
		MaxBackoff:   5 * time.Millisecond,
	}
	opts := sailpoint.Options{
		HTTPClient: &http.Client{Transport: h.bearers},
		Logger:     slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range tweak {
		f(&cfg, &opts)
	}
	c, err := sailpoint.New(cfg, opts)
	require.NoError(t, err)
	return c, cfg
}

// firstCert returns the first certification of the tenant.
func (h *harness) firstCert(t testing.TB) certs.Certification {
	t.Helper()
	page, err := h.client.ListCertifications(context.Background(), certs.CertificationFilter{Page: certs.PageOptions{Limit: 1}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	return page.Items[0]
}

// move picks n open items of cert and an active identity that may take
// them: not the certification's reviewer, not the subject of any item.
func (h *harness) move(t testing.TB, cert certs.Certification, n int) (target string, refs []certs.Ref) {
	t.Helper()
	items, err := h.client.ListAllReviewItems(context.Background(), cert.ID, certs.ReviewItemFilter{})
	require.NoError(t, err)
	for _, cred := range h.sb.Clients() {
		if cred.IdentityID == cert.Reviewer.ID || cred.Role == sandbox.RoleAdmin {
			continue
		}
		refs = refs[:0]
		for _, it := range items {
			if it.IdentitySummary.IdentityID != cred.IdentityID && len(refs) < n {
				refs = append(refs, certs.Ref{ID: it.ID, Type: certs.RefItem})
			}
		}
		if len(refs) == n {
			return cred.IdentityID, refs
		}
	}
	t.Fatalf("no identity can take %d items of %s", n, cert.ID)
	return "", nil
}

// newClock is the module's test clock, showing the time now: the sandbox
// (and the client, when shared) move only when the test moves it.
func newClock() *storetest.Clock { return storetest.NewClock(time.Now()) }

// syncBuffer is the module's synchronised buffer (internal/testkit).
type syncBuffer = testkit.Buffer

// bearerRecorder is the client's transport in tests: it remembers every
// access token the sandbox issued and the client sent.
type bearerRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (b *bearerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		b.mu.Lock()
		b.seen[tok] = true
		b.mu.Unlock()
	}
	return b.next.RoundTrip(r)
}

func (b *bearerRecorder) tokens() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for t := range b.seen {
		out = append(out, t)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// pollTask reads a task every interval until it has ended, for benchmarks
// that run against the sandbox's real clock. Tests move the sandbox's clock
// instead.
func pollTask(ctx context.Context, c *sailpoint.Client, taskID string, interval time.Duration) (*certs.Task, error) {
	for {
		t, err := c.GetTask(ctx, taskID)
		if err != nil || t.Status.Done() {
			return t, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}
