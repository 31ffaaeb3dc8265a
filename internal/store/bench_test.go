package store_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// benchGoroutines is how many callers run at once: several approvers and
// workers on a few replicas.
const benchGoroutines = 8

func benchRequest(id string) *certs.Request {
	return &certs.Request{
		ID:        id,
		Plan:      certs.Plan{ID: "plan-" + id, CertificationID: "cert-1", Calls: []certs.Reassignment{{CertificationID: "cert-1", Refs: []certs.Ref{{ID: "item-1", Type: certs.RefItem}}, To: "id-2", Reason: "leave"}}},
		Requester: certs.Actor{ID: "U1", Name: "Alice", Frontend: certs.FrontendSlack},
		Approvers: []string{"slack:U2"},
		State:     certs.StatePending,
		ExpiresAt: time.Now().Add(time.Hour),
	}
}

// BenchmarkUpdateRequest measures the compare-and-set with one event per
// change (as every real transition writes one).
//
//	distinct:  8 goroutines, each on its own request; updates/s is throughput.
//	           The same run repeats the updates without events
//	           (no-event-updates/s); event/no-event is the time ratio, what
//	           writing the event costs (on PostgreSQL, mostly the advisory
//	           lock that keeps event seq order equal to commit order). ns/op
//	           covers both passes.
//	contended: 8 goroutines on one request, each moving it pending ⇄ approved
//	           from the state it last saw; a stale view is an ECONFLICT (with
//	           the current request, from which the caller retries), so
//	           conflicts/op says how often callers lose the race and ns/op is
//	           the cost of an attempt, won or lost.
func BenchmarkUpdateRequest(b *testing.B) {
	for _, eng := range engines {
		b.Run(eng.name+"/distinct", func(b *testing.B) {
			s := eng.handle(b, eng.fresh(b), nil)
			for g := range benchGoroutines {
				require.NoError(b, s.CreateRequest(b.Context(), benchRequest(fmt.Sprintf("r-%d", g))))
			}
			touch := func(events ...certs.Event) time.Duration {
				begin := time.Now()
				runSplit(b, func(g, i int) {
					_, err := s.UpdateRequest(b.Context(), fmt.Sprintf("r-%d", g), []certs.RequestState{certs.StatePending},
						func(r *certs.Request) error { r.FrontendRefs = map[string]string{"n": strconv.Itoa(i)}; return nil }, events...)
					if err != nil {
						b.Error(err)
					}
				})
				return time.Since(begin)
			}
			b.ResetTimer()
			withEvent := touch(certs.Event{Actor: certs.SystemActor, Action: certs.ActionTaskProgress})
			noEvent := touch()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/withEvent.Seconds(), "updates/s")
			b.ReportMetric(float64(b.N)/noEvent.Seconds(), "no-event-updates/s")
			b.ReportMetric(float64(withEvent)/float64(noEvent), "event/no-event")
		})
		b.Run(eng.name+"/contended", func(b *testing.B) {
			s := eng.handle(b, eng.fresh(b), nil)
			require.NoError(b, s.CreateRequest(b.Context(), benchRequest("r-hot")))
			var conflicts atomic.Int64
			seen := make([]certs.RequestState, benchGoroutines)
			for g := range seen {
				seen[g] = certs.StatePending
			}
			b.ResetTimer()
			runSplit(b, func(g, i int) {
				from, to := seen[g], certs.StateApproved
				if from == certs.StateApproved {
					to = certs.StatePending
				}
				r, err := s.UpdateRequest(b.Context(), "r-hot", []certs.RequestState{from},
					func(r *certs.Request) error { r.State = to; return nil },
					certs.Event{Actor: certs.SystemActor, Action: certs.ActionRequestApproved})
				var ce *certs.Error
				switch {
				case err == nil:
					seen[g] = r.State
				case errors.As(err, &ce) && ce.Code == certs.ECONFLICT:
					conflicts.Add(1)
					seen[g] = r.State
				default:
					b.Error(err)
				}
			})
			b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
			b.ReportMetric(float64(int64(b.N)-conflicts.Load())/b.Elapsed().Seconds(), "updates/s")
		})
	}
}

// runSplit runs b.N calls of op over benchGoroutines goroutines; g is the
// goroutine, i the call's number within it.
func runSplit(b *testing.B, op func(g, i int)) {
	var wg sync.WaitGroup
	for g := range benchGoroutines {
		n := b.N / benchGoroutines
		if g < b.N%benchGoroutines {
			n++
		}
		wg.Go(func() {
			for i := range n {
				op(g, i)
			}
		})
	}
	wg.Wait()
}
