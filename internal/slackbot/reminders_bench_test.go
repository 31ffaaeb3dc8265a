package slackbot_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/slackbot"
	"github.com/certops/certops/internal/slackbot/slackfake"
)

// BenchmarkReminderSweep is one reminder sweep of a big tenant against the
// sandbox (over HTTP, behind its OpenAPI contract check) and the fake
// Slack: ISC calls made, Slack calls made, time, and peak Slack calls per
// second. The sandbox's seed gives a certification at position p of
// campaign c (40 a campaign) to manager p+3c: distinct reviewers grow as
// 40+3·certifications/40, so 5,000 reviewers take 66,300 certifications,
// 42,000 of them open, 8.5 a reviewer (the seed cannot make 5,000 × 3).
// Environment:
//
//	CERTOPS_BENCH_CERTS       certifications to seed (66300)
//	CERTOPS_BENCH_ESCALATION  escalation steps (none; e.g. 1d:manager+channel)
//	CERTOPS_BENCH_POST_EVERY  the pace of chat.postMessage: unset is
//	                          production's (250ms, really waited: a 5,000
//	                          digest sweep takes 21 minutes); a duration
//	                          (e.g. 2ms) really waits that; "virtual" keeps
//	                          production's pace but does not wait, timing
//	                          each call where production's pacer puts it.
//
// Each iteration sweeps a fresh store (every digest due again).
func BenchmarkReminderSweep(b *testing.B) {
	if testing.Short() {
		b.Skip("a 5,000-reviewer sweep; not under -short")
	}
	nCerts := 66300
	if v := os.Getenv("CERTOPS_BENCH_CERTS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, "CERTOPS_BENCH_CERTS")
		nCerts = n
	}
	const production = 250 * time.Millisecond
	postEvery, virtual := production, false
	switch v := os.Getenv("CERTOPS_BENCH_POST_EVERY"); v {
	case "":
	case "virtual":
		virtual = true
	default:
		d, err := time.ParseDuration(v)
		require.NoError(b, err, "CERTOPS_BENCH_POST_EVERY")
		postEvery = max(d, time.Nanosecond)
	}

	// Tuesday 24 Nov 2026, 10:00 UTC: a working hour for reviewers in UTC.
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	sb, base := sandboxtest.Start(b, sandbox.Config{Certifications: nCerts, ItemsPerCertification: 1, RateLimit: -1, Now: clock, Logger: discardLog()})
	isc, err := sailpoint.New(sailpoint.Config{
		BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", Timeout: time.Minute, MaxRetries: 3, Concurrency: 4, MaxBackoff: 10 * time.Millisecond,
	}, sailpoint.Options{Logger: discardLog()})
	require.NoError(b, err)

	// Everyone in the tenant is in Slack, in UTC.
	var (
		vmu      sync.Mutex
		vnow     time.Time // production's timeline (virtual mode): where the pacer last waited until
		callsAt  []time.Time
		postsAt  []time.Time
		counting bool
	)
	fake := slackfake.New(b, slackfake.OnCall(func(c slackfake.Call) {
		vmu.Lock()
		defer vmu.Unlock()
		if !counting {
			return
		}
		at := latest(vnow, time.Now())
		callsAt = append(callsAt, at)
		if c.Method == "chat.postMessage" {
			postsAt = append(postsAt, at)
		}
	}))
	setup := certs.NewService(certs.Options{Tenant: isc, Store: certstest.NewStore(), Now: clock, Logger: discardLog()})
	all, err := setup.OpenCertificationsByReviewer(b.Context())
	require.NoError(b, err)
	open := 0
	for i, rc := range all {
		fake.PutUser("U"+strconv.Itoa(100000+i), slackfake.User{Email: rc.Reviewer.Email, TZ: "UTC"})
		open += len(rc.Certifications)
	}
	b.Logf("sandbox: %d certifications seeded, %d open with %d reviewers (%.1f each)", nCerts, open, len(all), float64(open)/float64(len(all)))

	sched := certs.DefaultReminderSchedule()
	if v := os.Getenv("CERTOPS_BENCH_ESCALATION"); v != "" {
		sched.Escalation, err = certs.ParseEscalation(v)
		require.NoError(b, err, "CERTOPS_BENCH_ESCALATION")
	}
	var digests, escalations int
	for b.Loop() {
		b.StopTimer()
		st := certstest.NewStore()
		st.Now = clock
		svc := certs.NewService(certs.Options{Tenant: isc, Store: st, Now: clock, Logger: discardLog()})
		sleep := func(ctx context.Context, d time.Duration) error {
			if !virtual {
				return sleepFor(ctx, d)
			}
			vmu.Lock()
			vnow = latest(vnow, time.Now().Add(d))
			vmu.Unlock()
			return ctx.Err()
		}
		r := slackbot.NewReminders(svc, fake.Client("xoxb-test"), slackbot.RemindersConfig{
			Schedule: sched, AdminsChannel: "CADMINS", Owner: "bench", Now: clock, PostEvery: postEvery,
			Logger: discardLog(), Sleep: sleep})
		sb.ResetStats()
		before := len(fake.Calls())
		vmu.Lock()
		callsAt, postsAt, vnow, counting = nil, nil, time.Time{}, true
		vmu.Unlock()
		start := time.Now()
		b.StartTimer()

		stats, err := r.Sweep(b.Context())

		b.StopTimer()
		require.NoError(b, err)
		elapsed := time.Since(start)
		vmu.Lock()
		counting = false
		span := latest(vnow, time.Now()).Sub(start)
		peakCalls, peakPosts := peakPerSecond(callsAt), peakPerSecond(postsAt)
		vmu.Unlock()
		digests, escalations = stats.Digests, stats.Escalations

		iscCalls := 0
		byOp := map[string]int{}
		for op, s := range sb.Stats().Operations {
			iscCalls += s.Calls
			byOp[op] = s.Calls
		}
		calls := fake.Calls()[before:]
		byMethod := map[string]int{}
		for _, c := range calls {
			byMethod[c.Method]++
		}
		b.ReportMetric(float64(iscCalls), "isc-calls/op")
		b.ReportMetric(float64(len(calls)), "slack-calls/op")
		b.ReportMetric(float64(stats.Digests+stats.Escalations), "reminders/op")
		b.ReportMetric(float64(peakCalls), "peak-slack-calls/s")
		b.ReportMetric(float64(peakPosts), "peak-posts/s")
		b.ReportMetric(span.Seconds(), "paced-s/op")
		b.Logf("sweep: %d reviewers, %d digests, %d escalations, %d skipped; ISC %d calls %v; Slack %d calls %v; "+
			"%v run, %v on the pace's timeline (post every %v, virtual=%v); peak %d Slack calls/s, %d posts/s",
			stats.Reviewers, stats.Digests, stats.Escalations, stats.Skipped, iscCalls, byOp, len(calls), byMethod,
			elapsed.Round(time.Millisecond), span.Round(time.Second), postEvery, virtual, peakCalls, peakPosts)
		b.StartTimer()
	}
	b.ReportMetric(float64(digests), "digests")
	b.ReportMetric(float64(escalations), "escalations")
}

func sleepFor(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// peakPerSecond is the most calls in any one-second window (less a
// millisecond, for the timers' jitter: production's pace puts posts 250ms
// apart exactly, and a closed window of 1s would count 5).
func peakPerSecond(at []time.Time) int {
	at = slices.Clone(at)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	peak, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= time.Second-time.Millisecond {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
