package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
)

// BenchmarkAckLatencyUnderSlowSailPoint measures how long Slack waits for the
// acknowledgement of `/certs list` when 100 signed requests arrive at once
// and the tenant takes 2 s to answer each SailPoint call. The bot is wired
// as `slackbot --sandbox` in HTTP mode wires it: app.Open with an
// in-process sandbox (ISC's limit of 100 requests per 10 s there, the
// client's default pacing here), the production pool (Config's defaults:
// 8 workers, 256 queued jobs) and bot.HTTPHandler with the signing secret;
// Slack is the fake Slack. The ack must not wait on SailPoint (Slack gives
// up after 3 s; the target is p99 below 50 ms): the work runs afterwards on
// the pool and answers through response_url.
//
// Each iteration is one burst of 100 commands from 100 users, on
// connections opened beforehand (by 100 `/certs help`). Reported:
// ack p50/p99, p99 over the tenant's latency, and how many acks said
// "working" and how many "busy" (the queue was full: nothing was done and
// the user is told to try again; 256 queued jobs hold two bursts, so a
// third within seconds gets busy acks). Skipped with -short; run it with:
//
//	go test ./internal/slackbot -run '^$' -bench AckLatency -benchtime 2x
func BenchmarkAckLatencyUnderSlowSailPoint(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark through the front end: skipped with -short")
	}
	const concurrent = 100
	const sailpointLatency = 2 * time.Second
	for _, k := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_API_VERSION", "DATABASE_URL", "DATABASE_URL_FILE",
		"CERTOPS_SQLITE_PATH", "CERTOPS_REQUIRE_APPROVAL", "CERTOPS_WORKER_INTERVAL"} {
		b.Setenv(k, "")
		os.Unsetenv(k)
	}
	ctx := context.Background()
	cfg, err := app.LoadConfig(true)
	require.NoError(b, err)
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, SandboxConfig: sandbox.Config{Latency: sailpointLatency, Logger: quiet()}, Logger: quiet()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = a.Close() })

	// The users are the sandbox's reviewers, so each command lists
	// someone's certifications.
	fs := newFakeSlack(b)
	var emails []string
	for _, c := range a.Sandbox.Clients() {
		if c.Role == sandbox.RoleReviewer && c.Email != "" {
			emails = append(emails, c.Email)
		}
	}
	require.NotEmpty(b, emails)
	for i := range concurrent {
		fs.users[fmt.Sprintf("UBENCH%03d", i)] = emails[i%len(emails)]
	}
	hk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer hk.Close()
	bot := New(Config{ApprovalsChannel: approvals, Logger: quiet(), AnyResponseURL: true}, a.Service, fs.api())
	bot.Start(ctx)
	srv := httptest.NewServer(bot.HTTPHandler(HTTPOptions{SigningSecret: secret.Static(testSecret), Logger: quiet()}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent, MaxConnsPerHost: concurrent}}

	var mu sync.Mutex
	var lat []time.Duration
	working, busy := 0, 0
	seq := 0
	// Open the connections first, with `/certs help` (answered in the ack,
	// no SailPoint call, no job), as a running bot has them.
	var warm sync.WaitGroup
	for u := range concurrent {
		seq++
		req := signedRequest(b, srv.URL+"/slack/commands", commandBody(b, fmt.Sprintf("UBENCH%03d", u), "help", hk.URL+"/r", fmt.Sprintf("bench-%d", seq)))
		warm.Go(func() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	warm.Wait()
	for b.Loop() {
		var wg sync.WaitGroup
		for u := range concurrent {
			seq++
			body := commandBody(b, fmt.Sprintf("UBENCH%03d", u), "list", hk.URL+"/r", fmt.Sprintf("bench-%d", seq))
			req := signedRequest(b, srv.URL+"/slack/commands", body)
			wg.Go(func() {
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(start)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d: %s", resp.StatusCode, raw)
					return
				}
				var ack struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(raw, &ack)
				mu.Lock()
				defer mu.Unlock()
				lat = append(lat, d)
				switch {
				case strings.Contains(ack.Text, "Working on"):
					working++
				case strings.Contains(ack.Text, "busy"):
					busy++
				default:
					b.Errorf("unexpected ack: %s", raw)
				}
			})
		}
		wg.Wait()
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1)+0.5)].Microseconds()) / 1000
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(pct(0.50), "ack-p50-ms")
	b.ReportMetric(pct(0.99), "ack-p99-ms")
	b.ReportMetric(pct(0.99)/float64(sailpointLatency.Milliseconds()), "p99/sailpoint-latency")
	b.ReportMetric(float64(working), "working-acks")
	b.ReportMetric(float64(busy), "busy-acks")
	// Do not wait for the queued SailPoint work; the process ends with the
	// benchmark.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_ = bot.Shutdown(sctx)
}
