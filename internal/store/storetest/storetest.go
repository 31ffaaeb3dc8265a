// Package storetest is the conformance suite for certs.Store. Every
// implementation runs it (internal/store runs it on SQLite and PostgreSQL),
// so the guarantees the service relies on — one winner per transition,
// events written with their change, leases that lapse — are checked the same
// way on each engine.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/testkit"
)

// Opener opens a handle on one database, with now as its clock. Each call
// opens another handle (its own connections and migration run, as another
// replica or a restarted process would) on the same data; the Opener closes
// it in t.Cleanup.
type Opener func(t *testing.T, now func() time.Time) certs.Store

// NewDatabase makes a fresh, empty database that no other test uses and
// returns its Opener.
type NewDatabase func(t *testing.T) Opener

// Run runs the conformance suite. Sub-tests run in parallel, each on its own
// database.
func Run(t *testing.T, newDB NewDatabase) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, newDB NewDatabase)
	}{
		{"plans", testPlans},
		{"create and get request", testCreateGetRequest},
		{"duplicate request", testDuplicateRequest},
		{"list requests", testListRequests},
		{"update request", testUpdateRequest},
		{"update race has one winner", testUpdateRace},
		{"claim requests", testClaimRequests},
		{"concurrent claimers never share", testConcurrentClaims},
		{"crashed owner's work is taken over", testCrashTakeover},
		{"events", testEvents},
		{"event cursor", testEventCursor},
		{"outbox delivers every event once", testOutboxUnderConcurrentWriters},
		{"cancelled context", testCancelledContext},
		{"reopen keeps data", testReopen},
		{"text values", testTextValues},
		{"reminders", testReminders},
		{"reminder claim race has one winner", testReminderClaimRace},
		{"reminder preferences", testReminderPrefs},
		{"grants", testGrants},
		{"links", testLinks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDB)
		})
	}
}

// Clock is the module's test clock (internal/testkit), kept under this name
// for the suite's callers.
type Clock = testkit.Clock

// NewClock returns a clock showing start.
func NewClock(start time.Time) *Clock { return testkit.NewClock(start) }

// start is the suite's epoch; its nanoseconds check that stores keep times
// to (at least) the microsecond and report them consistently.
var start = time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.UTC)

// env is one test's database: a clock and a first store handle.
type env struct {
	open  Opener
	clock *Clock
	s     certs.Store
}

func setup(t *testing.T, newDB NewDatabase) *env {
	t.Helper()
	e := &env{open: newDB(t), clock: NewClock(start)}
	e.s = e.open(t, e.clock.Now)
	return e
}

// another opens a second handle on e's database with the same clock.
func (e *env) another(t *testing.T) certs.Store { return e.open(t, e.clock.Now) }

func ctxT(t *testing.T) context.Context { return t.Context() }
