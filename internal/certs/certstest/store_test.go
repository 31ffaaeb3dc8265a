package certstest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/store/storetest"
)

// TestStore runs the store conformance suite on the in-memory fake, so the
// unit tests that use it rely on what the SQL stores do.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newFakeDB)
}

// newFakeDB is a fresh in-memory database; each Opener call opens another
// handle on it (Store.Handle), with its own clock and Close.
func newFakeDB(t *testing.T) storetest.Opener {
	db := certstest.NewStore()
	return func(t *testing.T, now func() time.Time) certs.Store {
		t.Helper()
		s := db.Handle()
		s.Now = now
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// FailUpdate, the failure injection other tests use, sees the request as it
// would be written and aborts the write, its events included.
func TestStoreFailUpdate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := certstest.NewStore()
	alice := certs.Actor{ID: "U0ALICE", Name: "Alice", Frontend: certs.FrontendSlack}
	r := &certs.Request{ID: "r-1", State: certs.StatePending, Requester: alice, Plan: certs.Plan{ID: "p-1", CertificationID: "cert-1"}}
	require.NoError(t, s.CreateRequest(ctx, r, certs.Event{Actor: alice, Action: certs.ActionRequestCreated}))

	errGone := errors.New("database went away")
	var seen *certs.Request
	s.FailUpdate = func(r *certs.Request) error {
		seen = r
		return errGone
	}
	got, err := s.UpdateRequest(ctx, "r-1", []certs.RequestState{certs.StatePending},
		func(r *certs.Request) error { r.State = certs.StateApproved; return nil },
		certs.Event{Actor: alice, Action: certs.ActionRequestApproved})
	require.ErrorIs(t, err, errGone)
	assert.Nil(t, got)
	require.NotNil(t, seen)
	assert.Equal(t, certs.StateApproved, seen.State)
	assert.Equal(t, int64(2), seen.Version, "the hook sees the request as it would be written")

	cur, err := s.GetRequest(ctx, "r-1")
	require.NoError(t, err)
	assert.Equal(t, certs.StatePending, cur.State)
	assert.Equal(t, int64(1), cur.Version)
	assert.Len(t, s.Events(), 1, "the update's event is not appended")
	assert.Zero(t, s.Updates())

	other := s.Handle()
	_, err = other.UpdateRequest(ctx, "r-1", []certs.RequestState{certs.StatePending},
		func(r *certs.Request) error { r.State = certs.StateApproved; return nil })
	require.NoError(t, err, "another handle has hooks of its own")
	assert.Equal(t, 1, s.Updates(), "handles share the data")
}
