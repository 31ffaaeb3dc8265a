package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func testEvents(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	at := start.Add(time.Hour)
	export := certs.Event{Time: at, Actor: bob, Action: certs.ActionExport, CertificationID: "cert-9", Count: 1200, Detail: "review items of 3 certifications"}
	require.NoError(t, e.s.AppendEvents(ctx,
		export,
		certs.Event{Actor: alice, Action: certs.ActionPlanCreated, CertificationID: "cert-1", Count: 7},
		certs.Event{Actor: carol, Action: certs.ActionTaskSubmitted, RequestID: "r-1", CertificationID: "cert-1",
			TaskIDs: []string{"task-1", "task-2"}, TrackingIDs: []string{"trk-1"}},
		certs.Event{Actor: certs.SystemActor, Action: certs.ActionCompleted, RequestID: "r-1", CertificationID: "cert-1"},
	))
	require.NoError(t, e.s.AppendEvents(ctx), "no events is fine")

	all, err := e.s.ListEvents(ctx, certs.EventFilter{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i].Seq, all[i-1].Seq, "seq increases, oldest first")
	}
	t.Run("round trip", func(t *testing.T) {
		got := all[0]
		assertSameTime(t, at, got.Time, "an event's own time is kept")
		got.Time, export.Time = time.Time{}, time.Time{}
		export.Seq = got.Seq
		assert.Equal(t, export, got)
		assert.Equal(t, []string{"task-1", "task-2"}, all[2].TaskIDs)
		assert.Equal(t, []string{"trk-1"}, all[2].TrackingIDs)
		assertSameTime(t, start, all[1].Time, "a missing time is now")
	})

	seq := func(i int) int64 { return all[i].Seq }
	for _, tc := range []struct {
		name string
		f    certs.EventFilter
		want []int64
	}{
		{"by request", certs.EventFilter{RequestID: "r-1"}, []int64{seq(2), seq(3)}},
		{"by certification", certs.EventFilter{CertificationID: "cert-1"}, []int64{seq(1), seq(2), seq(3)}},
		{"by actor's front-end key", certs.EventFilter{ActorKey: "slack:U0ALICE"}, []int64{seq(1)}},
		{"by actor's identity key", certs.EventFilter{ActorKey: "identity:" + bob.IdentityID}, []int64{seq(0)}},
		{"by the system actor", certs.EventFilter{ActorKey: "system:certops"}, []int64{seq(3)}},
		{"after a seq", certs.EventFilter{AfterSeq: seq(1)}, []int64{seq(2), seq(3)}},
		{"limited", certs.EventFilter{Limit: 2}, []int64{seq(0), seq(1)}},
		{"after a seq, limited", certs.EventFilter{AfterSeq: seq(0), Limit: 1}, []int64{seq(1)}},
		{"combined", certs.EventFilter{CertificationID: "cert-1", ActorKey: "slack:U0CAROL"}, []int64{seq(2)}},
		{"nothing matches", certs.EventFilter{RequestID: "r-none"}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListEvents(ctx, tc.f)
			require.NoError(t, err)
			seqs := []int64{}
			for _, ev := range got {
				seqs = append(seqs, ev.Seq)
			}
			assert.Equal(t, tc.want, seqs)
		})
	}
}

func testEventCursor(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	other := e.another(t)
	appendN := func(n int) {
		t.Helper()
		for range n {
			require.NoError(t, e.s.AppendEvents(ctx, certs.Event{Actor: alice, Action: certs.ActionPlanCreated}))
		}
	}
	const consumer = "slack-notifier"

	none, err := e.s.ClaimEvents(ctx, consumer, "replica-a", time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, none, "nothing to read yet")

	appendN(3)
	a, err := e.s.ClaimEvents(ctx, consumer, "replica-a", time.Minute, 2)
	require.NoError(t, err)
	require.Len(t, a, 2)

	b, err := other.ClaimEvents(ctx, consumer, "replica-b", time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, b, "another owner gets nothing while the lease holds")

	t.Run("other consumers have their own cursor", func(t *testing.T) {
		got, err := other.ClaimEvents(ctx, "audit-export", "replica-b", time.Minute, 10)
		require.NoError(t, err)
		assert.Len(t, got, 3)
	})

	t.Run("ack by a non-holder is a conflict", func(t *testing.T) {
		requireCode(t, certs.ECONFLICT, other.AckEvents(ctx, consumer, "replica-b", a[1].Seq))
		requireCode(t, certs.ECONFLICT, other.AckEvents(ctx, "never-claimed", "replica-b", 1))
	})

	require.NoError(t, e.s.AckEvents(ctx, consumer, "replica-a", a[1].Seq))

	t.Run("after an ack anyone reads on from the cursor", func(t *testing.T) {
		got, err := other.ClaimEvents(ctx, consumer, "replica-b", time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Greater(t, got[0].Seq, a[1].Seq)
	})

	t.Run("a lapsed lease passes the same events to another owner", func(t *testing.T) {
		appendN(1)
		held, err := other.ClaimEvents(ctx, consumer, "replica-b", time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, held, 2, "the holder claiming again gets its unacked events and more")

		e.clock.Advance(time.Minute)
		taken, err := e.s.ClaimEvents(ctx, consumer, "replica-a", time.Minute, 10)
		require.NoError(t, err)
		assert.Equal(t, held, taken)

		// The late owner's ack is refused.
		requireCode(t, certs.ECONFLICT, other.AckEvents(ctx, consumer, "replica-b", held[1].Seq))
		require.NoError(t, e.s.AckEvents(ctx, consumer, "replica-a", taken[1].Seq))
		rest, err := other.ClaimEvents(ctx, consumer, "replica-b", time.Minute, 10)
		require.NoError(t, err)
		assert.Empty(t, rest, "everything was delivered")
	})

	t.Run("an ack never moves the cursor back", func(t *testing.T) {
		appendN(1)
		got, err := e.s.ClaimEvents(ctx, consumer, "replica-a", time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.NoError(t, e.s.AckEvents(ctx, consumer, "replica-a", 0))
		got, err = e.s.ClaimEvents(ctx, consumer, "replica-a", time.Minute, 10)
		require.NoError(t, err)
		assert.Len(t, got, 1, "acking 0 neither skipped nor replayed older events")
	})
}

// testOutboxUnderConcurrentWriters has writers append events through two
// handles while a consumer reads and acks: it must see every event exactly
// once, in seq order. On PostgreSQL this fails if a later seq can commit
// before an earlier one (the cursor would move past the earlier).
func testOutboxUnderConcurrentWriters(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	stores := []certs.Store{e.s, e.another(t)}
	const writers, perWriter = 4, 25

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				ev := certs.Event{Actor: alice, Action: certs.ActionPlanCreated, Detail: fmt.Sprintf("%d/%d", w, i)}
				if !assert.NoError(t, stores[w%2].AppendEvents(ctx, ev)) {
					return
				}
			}
		})
	}
	defer wg.Wait() // a failed check below must not end the test under running writers
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	seen := map[string]int{}
	var last int64
	read := func() int {
		evs, err := e.s.ClaimEvents(ctx, "outbox", "reader", time.Hour, 7)
		require.NoError(t, err)
		for _, ev := range evs {
			require.Greater(t, ev.Seq, last, "seq order")
			last = ev.Seq
			seen[ev.Detail]++
		}
		if len(evs) > 0 {
			require.NoError(t, e.s.AckEvents(ctx, "outbox", "reader", last))
		}
		return len(evs)
	}
	for done := false; !done; {
		select {
		case <-writing:
			done = true
		default:
			if read() == 0 {
				time.Sleep(time.Millisecond) // let the writers run; only pacing, not a condition
			}
		}
	}
	for read() > 0 {
	}
	var missing []string
	for w := range writers {
		for i := range perWriter {
			if detail := fmt.Sprintf("%d/%d", w, i); seen[detail] == 0 {
				missing = append(missing, detail)
			}
		}
	}
	assert.Empty(t, missing, "events the consumer never saw (a later seq committed first)")
	for detail, n := range seen {
		assert.Equalf(t, 1, n, "event %s delivered once", detail)
	}
}

func testCancelledContext(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	create(t, e.s, newRequest("r-1", "cert-1", alice, e.clock.Now()))
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()

	calls := map[string]func() error{
		"get":    func() error { _, err := e.s.GetRequest(ctx, "r-1"); return err },
		"list":   func() error { _, err := e.s.ListRequests(ctx, certs.RequestFilter{}); return err },
		"create": func() error { return e.s.CreateRequest(ctx, newRequest("r-2", "cert-1", alice, e.clock.Now())) },
		"update": func() error {
			_, err := e.s.UpdateRequest(ctx, "r-1", []certs.RequestState{certs.StatePending}, approve(bob))
			return err
		},
		"claim": func() error {
			_, err := e.s.ClaimRequests(ctx, "w", []certs.RequestState{certs.StatePending}, time.Minute, 1)
			return err
		},
		"events": func() error { return e.s.AppendEvents(ctx, certs.Event{Actor: alice, Action: certs.ActionExport}) },
		"ping":   func() error { return e.s.Ping(ctx) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			requireCode(t, certs.EUNAVAILABLE, err)
			assert.ErrorIs(t, err, context.Canceled)
		})
	}

	t.Run("while waiting for another writer", func(t *testing.T) {
		other := e.another(t)
		create(t, e.s, newRequest("r-held", "cert-1", alice, e.clock.Now()))
		inside, release := make(chan struct{}), make(chan struct{})
		holderDone := make(chan error, 1)
		go func() {
			_, err := e.s.UpdateRequest(ctxT(t), "r-held", []certs.RequestState{certs.StatePending}, func(r *certs.Request) error {
				close(inside) // the holder now has the row (or the database) locked
				<-release
				return approve(alice)(r)
			})
			holderDone <- err
		}()
		<-inside
		ctx, cancel := context.WithCancel(ctxT(t))
		waiterDone := make(chan error, 1)
		go func() {
			_, err := other.UpdateRequest(ctx, "r-held", []certs.RequestState{certs.StatePending}, approve(bob))
			waiterDone <- err
		}()
		cancel()
		close(release)
		require.NoError(t, <-holderDone)
		err := <-waiterDone
		requireCode(t, certs.EUNAVAILABLE, err)
		assert.ErrorIs(t, err, context.Canceled)
		r, err := e.s.GetRequest(ctxT(t), "r-held")
		require.NoError(t, err)
		assert.Equal(t, alice, *r.DecidedBy, "the cancelled waiter wrote nothing")
		assert.Equal(t, int64(2), r.Version)
	})

	t.Run("nothing was written", func(t *testing.T) {
		ctx := ctxT(t)
		r, err := e.s.GetRequest(ctx, "r-1")
		require.NoError(t, err)
		assert.Equal(t, certs.StatePending, r.State)
		_, err = e.s.GetRequest(ctx, "r-2")
		requireCode(t, certs.ENOTFOUND, err)
		evs, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-1"})
		require.NoError(t, err)
		assert.Len(t, evs, 1)
	})
}

// testReopen opens the database again (running the migrations again) and
// finds everything where it was.
func testReopen(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	r := create(t, e.s, newRequest("r-1", "cert-1", alice, e.clock.Now()))
	require.NoError(t, e.s.SavePlan(ctx, newPlan("plan-1", "cert-1")))
	require.NoError(t, e.s.Close())
	_, err := e.s.GetRequest(ctx, "r-1")
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Equal(t, "database unavailable", certs.ErrorMessage(err), "no SQL or driver text reaches people")

	again := e.another(t)
	require.NoError(t, again.Ping(ctx))
	got, err := again.GetRequest(ctx, "r-1")
	require.NoError(t, err)
	assertRequest(t, r, got)
	_, err = again.GetPlan(ctx, "plan-1")
	require.NoError(t, err)
	create(t, again, newRequest("r-2", "cert-1", alice, e.clock.Now()))
	evs, err := again.ListEvents(ctx, certs.EventFilter{})
	require.NoError(t, err)
	assert.Len(t, evs, 2)
}
