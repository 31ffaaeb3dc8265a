package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/tools"
)

// Benchmarks through the MCP front end with the production defaults: the
// server is wired as `mcp-server --sandbox --http` wires it (app.Open with
// an in-process sandbox, so ISC's limit of 100 requests per 10 s at the
// sandbox and the client's default pacing, RateLimit 100 per 10 s and no
// burst spreading; the worker running; serveHTTP with its tokens), and
// called by an independent client, the official go-sdk, over streamable
// HTTP. Only the sandbox's size and latency differ from `--sandbox`.
//
// Each benchmark reports its own figures with b.ReportMetric (ns/op is not
// meaningful here and is reported as 0). None passes or fails on time.
// They are skipped with -short, and `go test ./...` runs no benchmark.
//
//	go test -run '^$' -bench ToolCall -benchtime 30x ./cmd/mcp-server
//	go test -run '^$' -bench Plan5000 -benchtime 3x ./cmd/mcp-server
//	go test -run '^$' -bench Sessions -benchtime 1x ./cmd/mcp-server   # CERTOPS_BENCH_DURATION=20s
//
// Figures: README.md, "Tests and benchmarks".

// benchLimit and benchWindow are ISC's default limit, which both the
// sandbox and the client apply with --sandbox.
const (
	benchLimit  = 100
	benchWindow = 10 * time.Second
	// benchRoom is how much of the window a benchmark lets itself use
	// before it waits for an idle window, when it measures one call on an
	// idle tenant.
	benchRoom = 90
)

func skipShort(b *testing.B) {
	b.Helper()
	if testing.Short() {
		b.Skip("benchmark through the front end: skipped with -short")
	}
}

// benchEnv clears what could point the stack elsewhere, like testEnv, and
// leaves every other setting at its production default (the worker every
// 2 s, info logs).
func benchEnv(b *testing.B) {
	for _, k := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_API_VERSION", "DATABASE_URL", "DATABASE_URL_FILE",
		"CERTOPS_SQLITE_PATH", "CERTOPS_MCP_TOKENS_FILE", "CERTOPS_MCP_IDENTITY_ID", "CERTOPS_MCP_TOOLS", "CERTOPS_MCP_DENY_TOOLS",
		"CERTOPS_REQUIRE_APPROVAL", "CERTOPS_WORKER_INTERVAL", "CERTOPS_LOG_LEVEL", "CERTOPS_MCP_ALLOWED_HOSTS", "CERTOPS_MCP_ROLE",
		"CERTOPS_MCP_SANDBOX_TOKEN", "CERTOPS_MCP_SANDBOX_TOKEN_FILE"} {
		b.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// stack is a certops MCP server over HTTP on an in-process sandbox.
type stack struct {
	a        *app.App
	url      string   // the MCP endpoint
	token    string   // the sandbox token (acts as identity, admin)
	tokens   []string // more tokens, one per simulated person, same identity
	identity string   // the sandbox reviewer every token acts as

	// used counts the admin client's ISC calls since the window was last
	// known idle (see idle); last is when the latest measured call ended.
	base int
	last time.Time
}

// startStack wires the MCP server as run does with --sandbox --http, on a
// sandbox built from sc, with people extra bearer tokens.
func startStack(b *testing.B, sc sandbox.Config, people int) *stack {
	b.Helper()
	benchEnv(b)
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if sc.Logger == nil {
		sc.Logger = logger
	}
	const addr = "127.0.0.1:0"
	_, cfg, err := loadConfig(true, addr)
	require.NoError(b, err)
	reg := metrics.NewRegistry()
	met := metrics.New(reg)
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, SandboxConfig: sc, Logger: logger, Metrics: met})
	require.NoError(b, err)
	identity, err := sandboxReviewer(ctx, a)
	require.NoError(b, err)

	s := &stack{a: a, identity: identity}
	if people > 0 {
		entries := make([]tools.Token, people)
		for i := range entries {
			tok := fmt.Sprintf("bench-token-%03d-%d", i, time.Now().UnixNano())
			s.tokens = append(s.tokens, tok)
			entries[i] = tools.Token{Name: fmt.Sprintf("bench-%03d", i), SHA256: tools.HashToken(tok), IdentityID: identity, Role: certs.RoleAdmin}
		}
		raw, err := json.Marshal(map[string]any{"tokens": entries})
		require.NoError(b, err)
		path := filepath.Join(b.TempDir(), "tokens.json")
		require.NoError(b, os.WriteFile(path, raw, 0o600))
		b.Setenv("CERTOPS_MCP_TOKENS_FILE", path)
	}
	// Read again, now with the tokens file, as run reads it.
	mc, _, err := loadConfig(true, addr)
	require.NoError(b, err)
	srv, err := tools.New(tools.Options{Service: a.Service, Logger: logger, Version: "bench", RequireApproval: cfg.RequireApproval, Metrics: met})
	require.NoError(b, err)

	pr, pw := io.Pipe()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.RunWorker(gctx) })
	g.Go(func() error {
		err := serveHTTP(gctx, srv, a, mc, addr, true, identity, pw, logger, httpMetrics{met, reg}, cfg.ShutdownGrace)
		pw.CloseWithError(fmt.Errorf("serveHTTP returned: %v", err))
		return err
	})
	b.Cleanup(func() {
		cancel()
		_ = g.Wait()
		_ = a.Close()
	})
	sc2 := bufio.NewScanner(pr)
	for sc2.Scan() && (s.url == "" || s.token == "") {
		line := sc2.Text()
		if u, ok := strings.CutPrefix(line, "certops MCP server listening on "); ok {
			s.url = u
		}
		if tok, ok := strings.CutPrefix(line, "sandbox token (valid for this run): "); ok {
			s.token = tok
		}
	}
	require.NotEmpty(b, s.url)
	require.NotEmpty(b, s.token)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	s.base = s.calls()
	s.last = time.Now()
	return s
}

// calls and limited are the admin client's ISC calls so far, and how
// many of them the sandbox answered 429.
func (s *stack) calls() int { return s.a.Sandbox.Stats().Clients[sandbox.AdminClientID].Calls }

func (s *stack) limited() int {
	return s.a.Sandbox.Stats().Clients[sandbox.AdminClientID].RateLimited
}

// room makes sure the next need ISC calls find the window with room: when
// the calls since the window was last idle and need would pass benchRoom,
// it waits until everything counted has been finished for a whole window,
// so that a measured call never waits for the pacer. The benchmark's timer
// keeps running (ns/op means nothing here), so that the default
// -benchtime ends after the first wait instead of making hundreds.
func (s *stack) room(need int) {
	if s.calls()-s.base+need <= benchRoom {
		return
	}
	time.Sleep(time.Until(s.last.Add(benchWindow + 200*time.Millisecond)))
	s.base = s.calls()
}

// connect opens an MCP session with the given bearer token.
func (s *stack) connect(b *testing.B, token string, rt http.RoundTripper) *mcp.ClientSession {
	b.Helper()
	if rt == nil {
		rt = http.DefaultTransport
	}
	transport := &mcp.StreamableClientTransport{
		Endpoint:   s.url,
		HTTPClient: &http.Client{Transport: bearer{token: token, next: rt}},
		MaxRetries: -1,
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "certops-bench", Version: "1"}, nil).Connect(context.Background(), transport, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = cs.Close() })
	return cs
}

// callTool calls a tool and requires a result that is not an error.
func callTool(b *testing.B, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	b.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(b, err, "tools/call %s", name)
	require.False(b, res.IsError, "%s: %s", name, text(res))
	m, _ := res.StructuredContent.(map[string]any)
	return m
}

// twin is a sandbox seeded like sc (same seed and size, so the same ids),
// without latency or rate limit, and an unpaced client for it: the
// benchmarks find their certifications, items and people there, so that
// looking does not spend the measured tenant's budget.
func twin(b *testing.B, sc sandbox.Config) *sailpoint.Client {
	b.Helper()
	sc.Latency, sc.Jitter, sc.RateLimit = 0, 0, -1
	sc.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(sandbox.New(sc))
	b.Cleanup(srv.Close)
	c, err := sailpoint.New(sailpoint.Config{
		BaseURL: srv.URL, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: sailpoint.APIv3, Timeout: 30 * time.Second, MaxRetries: 2, Concurrency: 8,
	}, sailpoint.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	return c
}

// allItemsOf reads every item of a certification, one page at a time.
func allItemsOf(b *testing.B, c *sailpoint.Client, certID string) []certs.ReviewItem {
	b.Helper()
	var all []certs.ReviewItem
	for off := 0; ; off += certs.MaxPageLimit {
		page, err := c.ListReviewItems(context.Background(), certID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: certs.MaxPageLimit, Offset: off}})
		require.NoError(b, err)
		all = append(all, page.Items...)
		if len(page.Items) < certs.MaxPageLimit {
			return all
		}
	}
}

// openCertsOf lists the open certifications a reviewer reviews.
func openCertsOf(b *testing.B, c *sailpoint.Client, reviewer string) []certs.Certification {
	b.Helper()
	open := false
	page, err := c.ListCertifications(context.Background(), certs.CertificationFilter{ReviewerIdentity: reviewer, Completed: &open, Page: certs.PageOptions{Limit: certs.MaxPageLimit}})
	require.NoError(b, err)
	require.NotEmpty(b, page.Items, "the sandbox reviewer reviews nothing open")
	return page.Items
}

// workload is what the read tools are called on: a certification of the
// sandbox reviewer, an entitlement item with permissions, an open item and
// someone else to plan moving it to.
type workload struct {
	certID, permItem, openItem, target string
}

func findWorkload(b *testing.B, c *sailpoint.Client, cert certs.Certification) workload {
	b.Helper()
	w := workload{certID: cert.ID}
	items := allItemsOf(b, c, cert.ID)
	for _, it := range items {
		if w.permItem == "" && it.Access.Type == certs.AccessEntitlement && it.Access.HasPermissions {
			w.permItem = it.ID
		}
		if w.openItem == "" && !it.Completed && it.Decision == "" {
			w.openItem = it.ID
		}
	}
	for _, it := range items {
		if w.openItem != "" && it.ID != w.openItem && it.IdentitySummary.IdentityID != itemOwner(items, w.openItem) {
			w.target = it.IdentitySummary.IdentityID
			break
		}
	}
	require.NotEmpty(b, w.permItem, "no entitlement item with permissions in %s", cert.ID)
	require.NotEmpty(b, w.openItem, "no open item in %s", cert.ID)
	require.NotEmpty(b, w.target, "no one to move %s to", w.openItem)
	return w
}

func itemOwner(items []certs.ReviewItem, id string) string {
	for _, it := range items {
		if it.ID == id {
			return it.IdentitySummary.IdentityID
		}
	}
	return ""
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1)+0.5)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkToolCall: one MCP tool call at a time on an idle tenant, at
// sandbox latency 0 and 50 ms: p50 and p99 against the ISC calls the tool
// made (calls/op, counted by the sandbox). added-p50-ms is p50 minus
// calls/op times the latency: what certops adds to the tenant's own time
// (negative when calls went out together). p50-latencies is p50 in units
// of the latency: how many round trips deep the call was. Before a call
// that would take the window past 90 of its 100, the benchmark waits for
// an idle window, so no measured call waits for the pacer. -benchtime 30x
// takes about two minutes; the default -benchtime makes about 90 calls of
// each tool at latency 0 and 20 at 50 ms.
func BenchmarkToolCall(b *testing.B) {
	skipShort(b)
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			sc := sandbox.Config{Latency: latency}
			s := startStack(b, sc, 0)
			tw := twin(b, sc)
			w := findWorkload(b, tw, openCertsOf(b, tw, s.identity)[0])
			cs := s.connect(b, s.token, nil)
			// The token and the connections, as a running server has them.
			callTool(b, cs, "list_pending_tasks", map[string]any{"certification_id": w.certID})
			s.last = time.Now()

			cases := []struct {
				tool string
				args map[string]any
			}{
				{"list_certifications", map[string]any{}},
				{"list_reviewers", map[string]any{"certification_id": w.certID}},
				{"list_review_items", map[string]any{"certification_id": w.certID}},
				{"get_item_permissions", map[string]any{"certification_id": w.certID, "item_id": w.permItem}},
				{"list_pending_tasks", map[string]any{"certification_id": w.certID}},
				{"get_certification", map[string]any{"certification_id": w.certID}},
				{"plan_reassignment", map[string]any{"certification_id": w.certID, "item_ids": []string{w.openItem}, "target": w.target, "reason": "benchmark: reviewer on leave"}},
			}
			for _, c := range cases {
				b.Run(c.tool, func(b *testing.B) {
					need := 10 // a guess until the first call says
					lat := make([]time.Duration, 0, b.N)
					calls, limited := 0, s.limited()
					for b.Loop() {
						s.room(need)
						before := s.calls()
						t0 := time.Now()
						callTool(b, cs, c.tool, c.args)
						lat = append(lat, time.Since(t0))
						s.last = time.Now()
						n := s.calls() - before
						calls += n
						need = max(n, 1)
					}
					perOp := float64(calls) / float64(len(lat))
					p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
					b.ReportMetric(0, "ns/op")
					b.ReportMetric(perOp, "calls/op")
					b.ReportMetric(ms(p50), "p50-ms")
					b.ReportMetric(ms(p99), "p99-ms")
					b.ReportMetric(ms(p50)-perOp*ms(latency), "added-p50-ms")
					if latency > 0 {
						b.ReportMetric(float64(p50)/float64(latency), "p50-latencies")
					}
					b.ReportMetric(float64(s.limited()-limited), "429s")
				})
			}
		})
	}
}

// bulkWorkload is the 5,000-item certification and the identity whose
// items a plan moves: the one with the most open items.
type bulkWorkload struct {
	certID, identity, target string
	items                    int // that identity's open items
}

// bulkConfig is a sandbox whose certifications have 5,000 items each.
func bulkConfig(latency time.Duration) sandbox.Config {
	return sandbox.Config{ItemsPerCertification: 5000, Latency: latency}
}

func findBulk(b *testing.B, tw *sailpoint.Client, reviewer string) bulkWorkload {
	b.Helper()
	for _, cert := range openCertsOf(b, tw, reviewer) {
		if cert.Phase != certs.PhaseActive {
			continue
		}
		items := allItemsOf(b, tw, cert.ID)
		open := map[string]int{}
		for _, it := range items {
			if !it.Completed && it.Decision == "" {
				open[it.IdentitySummary.IdentityID]++
			}
		}
		var w bulkWorkload
		for id, n := range open {
			if n > w.items || (n == w.items && id < w.identity) {
				w = bulkWorkload{certID: cert.ID, identity: id, items: n}
			}
		}
		for _, it := range items {
			if id := it.IdentitySummary.IdentityID; id != w.identity {
				w.target = id
				break
			}
		}
		if w.items > 0 && w.target != "" && len(items) == 5000 {
			return w
		}
	}
	b.Fatal("no open 5,000-item certification with open items")
	return bulkWorkload{}
}

// sdkPages reads every item of a certification the way SailPoint's SDK
// paginators do: GET .../access-review-items?limit=250&offset=N, one page
// at a time, each page decoded, until a short page. It returns the pages
// read and the items of identity.
func sdkPages(ctx context.Context, hc *http.Client, base, token, certID, identity string) (pages, mine int, err error) {
	for off := 0; ; off += certs.MaxPageLimit {
		u := fmt.Sprintf("%s/v3/certifications/%s/access-review-items?limit=%d&offset=%d", base, url.PathEscape(certID), certs.MaxPageLimit, off)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return pages, mine, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return pages, mine, err
		}
		var items []map[string]any
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return pages, mine, fmt.Errorf("page at offset %d: HTTP %d", off, resp.StatusCode)
		}
		if err != nil {
			return pages, mine, err
		}
		pages++
		for _, it := range items {
			if sum, _ := it["identitySummary"].(map[string]any); sum["identityId"] == identity {
				if done, _ := it["completed"].(bool); !done {
					mine++
				}
			}
		}
		if len(items) < certs.MaxPageLimit {
			return pages, mine, nil
		}
	}
}

// sandboxToken gets an access token for the admin client, as any ISC
// client would.
func sandboxToken(b *testing.B, hc *http.Client, base string) string {
	b.Helper()
	resp, err := hc.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}})
	require.NoError(b, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(b, json.NewDecoder(resp.Body).Decode(&tok))
	require.NotEmpty(b, tok.AccessToken)
	return tok.AccessToken
}

// BenchmarkPlan5000Items plans moving all open items of one identity in a
// 5,000-item certification at 50 ms of latency: certops's
// plan_reassignment over MCP against the SDK's way of reading the same
// items (a sequential page loop over the same sandbox, same client id), in
// the same iteration, each starting on an idle window. Reports both
// times, speedup = sdk / plan, and x-floor = plan / (two round trips +
// transfer), where transfer is what the SDK loop took beyond its pages'
// latency (the time to serve, send and decode every page once).
func BenchmarkPlan5000Items(b *testing.B) {
	skipShort(b)
	const latency = 50 * time.Millisecond
	sc := bulkConfig(latency)
	s := startStack(b, sc, 0)
	w := findBulk(b, twin(b, sc), s.identity)
	cs := s.connect(b, s.token, nil)
	callTool(b, cs, "list_pending_tasks", map[string]any{"certification_id": w.certID}) // token, connections
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	sdkToken := sandboxToken(b, hc, s.a.SandboxURL)
	s.last = time.Now()

	args := map[string]any{"certification_id": w.certID, "identity_ids": []string{w.identity}, "target": w.target, "reason": "benchmark: reviewer on leave"}
	var planT, sdkT time.Duration
	calls, pages, limited := 0, 0, s.limited()
	b.ResetTimer()
	for b.Loop() {
		s.room(benchRoom) // an idle window for each iteration
		before := s.calls()
		t0 := time.Now()
		out := callTool(b, cs, "plan_reassignment", args)
		planT += time.Since(t0)
		calls += s.calls() - before
		if n, _ := out["itemCount"].(float64); int(n) != w.items {
			b.Fatalf("the plan moves %v items, want %d", out["itemCount"], w.items)
		}

		t0 = time.Now()
		p, mine, err := sdkPages(context.Background(), hc, s.a.SandboxURL, sdkToken, w.certID, w.identity)
		sdkT += time.Since(t0)
		s.last = time.Now()
		require.NoError(b, err)
		require.Equal(b, w.items, mine, "the page loop found the same items")
		pages += p
	}
	n := float64(b.N)
	plan, sdk := planT.Seconds()/n, sdkT.Seconds()/n
	perLoop := float64(pages) / n
	transfer := sdk - perLoop*latency.Seconds()
	floor := 2*latency.Seconds() + transfer
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(plan, "plan-s")
	b.ReportMetric(sdk, "sdk-s")
	b.ReportMetric(sdk/plan, "speedup")
	b.ReportMetric(plan/floor, "x-floor")
	b.ReportMetric(float64(calls)/n, "plan-calls")
	b.ReportMetric(perLoop, "sdk-pages")
	b.ReportMetric(float64(w.items), "items-moved")
	b.ReportMetric(float64(s.limited()-limited), "429s")
}
