package slackbot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certops/certops/internal/sandbox"
)

// BenchmarkAckLatencyUnderSlowSailPoint measures how long Slack waits for the
// acknowledgement of `/certs list` when 100 signed requests arrive at once
// and the sandbox tenant takes 2 s to answer each SailPoint call. The ack
// must not wait on SailPoint (Slack gives up after 3 s): the work runs
// afterwards on the worker pool.
//
//	go test ./internal/slackbot -run '^$' -bench AckLatency -benchtime 5x
func BenchmarkAckLatencyUnderSlowSailPoint(b *testing.B) {
	const concurrent = 100
	const sailpointLatency = 2 * time.Second
	tn := startTenant(b, sandbox.Config{Latency: sailpointLatency})
	st := openSQLite(b)
	svc := newService(tn, st, "bench")
	fs := newFakeSlack(b)
	for i := range concurrent {
		fs.users[fmt.Sprintf("UBENCH%03d", i)] = fmt.Sprintf("bench%03d@acme.example", i)
	}
	hk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer hk.Close()
	bot := New(Config{ApprovalsChannel: approvals, Workers: 64, QueueSize: 100 * concurrent * 20, Logger: quiet()}, svc, fs.api())
	bot.Start(context.Background())
	srv := httptest.NewServer(bot.Handler(testSecret))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent, MaxConnsPerHost: concurrent}}

	var mu sync.Mutex
	var lat []time.Duration
	seq := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for u := range concurrent {
			seq++
			body := commandBody(b, fmt.Sprintf("UBENCH%03d", u), "list", hk.URL+"/r", fmt.Sprintf("bench-%d", seq))
			req := signedRequest(b, srv.URL+"/slack/commands", body)
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(start)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "ack-p50-ms")
	b.ReportMetric(pct(0.99), "ack-p99-ms")
	b.ReportMetric(pct(0.99)/float64(sailpointLatency.Milliseconds()), "p99/sailpoint-latency")
	b.ReportMetric(0, "ns/op")
	// Do not wait for the queued SailPoint work; the process ends with the
	// benchmark.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = bot.Shutdown(ctx)
}
