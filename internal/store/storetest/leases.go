package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func testClaimRequests(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	pending := []certs.RequestState{certs.StatePending}
	for i := 1; i <= 3; i++ {
		create(t, e.s, newRequest(fmt.Sprintf("r-%d", i), "cert-1", alice, e.clock.Now()))
		e.clock.Advance(time.Second)
	}
	approved := newRequest("r-approved", "cert-1", alice, e.clock.Now())
	approved.State = certs.StateApproved
	create(t, e.s, approved)

	a, err := e.s.ClaimRequests(ctx, "worker-a", pending, time.Minute, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"r-1", "r-2"}, ids(a), "the two least recently changed")

	b, err := e.s.ClaimRequests(ctx, "worker-b", pending, time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"r-3"}, ids(b), "leased requests are skipped; other states are not claimed")

	again, err := e.s.ClaimRequests(ctx, "worker-a", pending, time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, again, "a held lease is not handed out again, even to its owner")

	t.Run("release by another owner is a no-op", func(t *testing.T) {
		require.NoError(t, e.s.ReleaseRequest(ctx, "r-1", "worker-b"))
		require.NoError(t, e.s.ReleaseRequest(ctx, "r-unknown", "worker-b"))
		got, err := e.s.ClaimRequests(ctx, "worker-c", pending, time.Minute, 10)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("release by the owner frees the request", func(t *testing.T) {
		require.NoError(t, e.s.ReleaseRequest(ctx, "r-1", "worker-a"))
		got, err := e.s.ClaimRequests(ctx, "worker-c", pending, time.Minute, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"r-1"}, ids(got))
	})

	t.Run("a lease lapses and another owner takes over", func(t *testing.T) {
		e.clock.Advance(time.Minute - time.Millisecond)
		got, err := e.s.ClaimRequests(ctx, "worker-d", pending, time.Minute, 10)
		require.NoError(t, err)
		assert.Empty(t, got, "not before the lease ends")

		e.clock.Advance(time.Millisecond)
		got, err = e.s.ClaimRequests(ctx, "worker-d", pending, time.Minute, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"r-1", "r-2", "r-3"}, ids(got), "every lapsed lease")
	})

	t.Run("claimed requests come back whole", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		got, err := e.s.ClaimRequests(ctx, "worker-e", []certs.RequestState{certs.StateApproved}, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assertRequest(t, approved, got[0])
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, err := e.s.ClaimRequests(ctx, "", pending, time.Minute, 1)
		requireCode(t, certs.EINVALID, err)
		_, err = e.s.ClaimRequests(ctx, "worker-f", pending, 0, 1)
		requireCode(t, certs.EINVALID, err)
		got, err := e.s.ClaimRequests(ctx, "worker-f", nil, time.Minute, 1)
		require.NoError(t, err)
		assert.Empty(t, got, "no states, nothing claimed")
	})
}

// testConcurrentClaims has workers on two handles claim one request at a
// time until none is left: each request is claimed exactly once.
func testConcurrentClaims(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	stores := []certs.Store{e.s, e.another(t)}
	const requests, workers = 24, 6
	for i := range requests {
		create(t, e.s, newRequest(fmt.Sprintf("r-%02d", i), "cert-1", alice, e.clock.Now()))
	}

	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-ready
			for {
				rs, err := stores[w%len(stores)].ClaimRequests(ctx, fmt.Sprintf("worker-%d", w),
					[]certs.RequestState{certs.StatePending}, time.Hour, 2)
				if !assert.NoError(t, err) || len(rs) == 0 {
					return
				}
				mu.Lock()
				got = append(got, ids(rs)...)
				mu.Unlock()
			}
		})
	}
	close(ready)
	wg.Wait()

	slices.Sort(got)
	want := make([]string, requests)
	for i := range want {
		want[i] = fmt.Sprintf("r-%02d", i)
	}
	assert.Equal(t, want, got, "every request claimed exactly once")
}

// testCrashTakeover: a replica marks a request submitting, holds its lease
// and dies; after the lease, another replica finds it and reconciles it.
func testCrashTakeover(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	create(t, e.s, newRequest("r-1", "cert-1", alice, e.clock.Now()))

	crashing := e.another(t)
	_, err := crashing.UpdateRequest(ctx, "r-1", []certs.RequestState{certs.StatePending}, approve(bob))
	require.NoError(t, err)
	claimed, err := crashing.ClaimRequests(ctx, "replica-1", []certs.RequestState{certs.StateApproved}, 30*time.Second, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"r-1"}, ids(claimed))
	_, err = crashing.UpdateRequest(ctx, "r-1", []certs.RequestState{certs.StateApproved},
		func(r *certs.Request) error { r.State = certs.StateSubmitting; return nil },
		certs.Event{Actor: certs.SystemActor, Action: certs.ActionSubmitting})
	require.NoError(t, err)
	require.NoError(t, crashing.Close()) // the process dies holding the lease

	submitting := []certs.RequestState{certs.StateSubmitting}
	got, err := e.s.ClaimRequests(ctx, "replica-2", submitting, 30*time.Second, 10)
	require.NoError(t, err)
	assert.Empty(t, got, "the lease still holds")

	e.clock.Advance(30 * time.Second)
	got, err = e.s.ClaimRequests(ctx, "replica-2", submitting, 30*time.Second, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"r-1"}, ids(got), "claimable by another owner after the lease")
	assert.Equal(t, certs.StateSubmitting, got[0].State)
	assert.Equal(t, int64(3), got[0].Version)
}
