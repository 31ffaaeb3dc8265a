// Package certstest holds in-memory fakes of certs.Tenant and certs.Store
// for unit tests of code that uses certs.Service. They implement the
// interfaces' documented semantics (compare-and-set, leases, cursors), not
// SailPoint's or SQL's internals; integration tests use the real adapters.
// Store runs the store conformance suite (store_test.go), so it answers as
// the SQL stores do.
package certstest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Store is an in-memory certs.Store. It runs the store conformance suite
// (internal/store/storetest) as the SQL stores do, so it behaves as they do
// wherever the suite looks: compare-and-set with the current request on
// ECONFLICT, leases, event cursors, text only certs.ValidateStorable lets
// through, times kept in UTC to the microsecond, and copies on every read
// and write. The zero value is not usable; call NewStore.
//
// Each Store is one handle on its data; Handle opens another, as another
// replica or a restarted process opens the same database.
type Store struct {
	// Now is the store's clock for leases and timestamps (time.Now when
	// nil).
	Now func() time.Time
	// FailUpdate, when set, is called inside UpdateRequest after the state
	// check with the request as it would be written; a non-nil error aborts
	// the write and is returned (to simulate a database failing at a given
	// step).
	FailUpdate func(r *certs.Request) error

	db        *database
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

// database is what a Store's handles share.
type database struct {
	// lock is held (a value sent) by one call at a time, as a database's
	// write lock would be; waiting for it gives up when the caller's
	// context ends.
	lock     chan struct{}
	plans    map[string]*certs.Plan
	requests map[string]*certs.Request
	leases   map[string]lease
	events   []certs.Event
	cursors  map[string]*cursor
	updates  int
	// reminders and prefs: reminders.go (made on first use).
	reminders map[string]*certs.Reminder
	prefs     map[string]certs.ReminderPrefs
	// grants: grants.go (made on first use).
	grants map[string]certs.Grant
	// links: links.go (made on first use).
	links map[string]certs.Link
}

type lease struct {
	owner string
	until time.Time
}

type cursor struct {
	seq   int64
	owner string
	until time.Time
}

var _ certs.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		db: &database{
			lock:     make(chan struct{}, 1),
			plans:    map[string]*certs.Plan{},
			requests: map[string]*certs.Request{},
			leases:   map[string]lease{},
			cursors:  map[string]*cursor{},
		},
		closed: make(chan struct{}),
	}
}

// Handle returns another handle on s's data, as another replica or a
// restarted process would open the same database: it sees and changes the
// same plans, requests, leases, events and cursors, and has its own Now
// (s's to start with), FailUpdate (none) and Close.
func (s *Store) Handle() *Store {
	return &Store{Now: s.Now, db: s.db, closed: make(chan struct{})}
}

// errClosed is the cause of the errors of a closed handle.
var errClosed = errors.New("store is closed")

// begin takes the database's lock for op, or returns why it cannot: the
// handle is closed, or ctx ended (before or while waiting). The errors are
// the SQL stores': EUNAVAILABLE, the cause wrapped. end releases the lock.
func (s *Store) begin(ctx context.Context, op string) (end func(), err error) {
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	select {
	case s.db.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, certs.StoreUnavailable(op, ctx.Err())
	}
	end = func() { <-s.db.lock }
	if err := s.usable(ctx, op); err != nil {
		end()
		return nil, err
	}
	return end, nil
}

// usable says why s cannot serve op now, if it cannot.
func (s *Store) usable(ctx context.Context, op string) error {
	select {
	case <-s.closed:
		return certs.StoreUnavailable(op, errClosed)
	default:
	}
	return certs.StoreUnavailable(op, ctx.Err())
}

// clock is now as stored.
func (s *Store) clock() time.Time {
	if s.Now != nil {
		return certs.StoredTime(s.Now())
	}
	return certs.StoredTime(time.Now())
}

// clone deep-copies through JSON, as a database round trip would (invalid
// UTF-8 in a string comes back as U+FFFD, as from the SQL stores' JSON
// columns).
func clone[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

// storedRequest is r as the SQL stores keep it: a copy, with an empty
// approver list rather than none (Tasks and FrontendRefs read back as nil
// when empty, which the JSON copy already does).
func storedRequest(r *certs.Request) *certs.Request {
	out := clone(r)
	if out.Approvers == nil {
		out.Approvers = []string{}
	}
	return out
}

// checkJSON refuses a value kept as JSON by the SQL stores that holds a NUL
// in one of its strings: certs.ValidateStorableJSON on its encoding.
func checkJSON(what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &certs.Error{Code: certs.EINTERNAL, Message: what + " cannot be stored", Err: err}
	}
	return certs.ValidateStorableJSON(what, b)
}

// hasKey is the SQL stores' key filter: key equals one of a's keys, exactly.
func hasKey(a certs.Actor, key string) bool {
	return key == a.FrontendKey() || (a.IdentityKey() != "" && key == a.IdentityKey())
}

func checkRequest(r *certs.Request) error {
	if err := certs.ValidateStorableRequestTexts(r); err != nil {
		return err
	}
	for _, c := range []struct {
		what string
		v    any
	}{{"request plan", r.Plan}, {"requester", r.Requester}, {"request approvers", r.Approvers},
		{"request decided by", r.DecidedBy}, {"request tasks", r.Tasks}, {"request references", r.FrontendRefs}} {
		if err := checkJSON(c.what, c.v); err != nil {
			return err
		}
	}
	return nil
}

func checkEvent(e certs.Event) error {
	if err := certs.ValidateStorableEventTexts(e); err != nil {
		return err
	}
	for _, c := range []struct {
		what string
		v    any
	}{{"event actor", e.Actor}, {"event task ids", e.TaskIDs}, {"event tracking ids", e.TrackingIDs}} {
		if err := checkJSON(c.what, c.v); err != nil {
			return err
		}
	}
	return nil
}

// storedEvents checks events and returns them as they are kept: each with a
// time (now when it has none, UTC to the microsecond) and copies of its
// lists. Seq is given when they are appended.
func storedEvents(now time.Time, events []certs.Event) ([]certs.Event, error) {
	out := make([]certs.Event, 0, len(events))
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return nil, err
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = certs.StoredTime(e.Time)
		e.TaskIDs, e.TrackingIDs = copyIDs(e.TaskIDs), copyIDs(e.TrackingIDs)
		out = append(out, e)
	}
	return out, nil
}

// copyIDs copies a list of ids; an empty list is none, as read back from
// the SQL stores.
func copyIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return slices.Clone(ids)
}

// appendLocked appends stored events, giving each the next seq.
func (db *database) appendLocked(events []certs.Event) {
	for _, e := range events {
		e.Seq = int64(len(db.events) + 1)
		db.events = append(db.events, e)
	}
}

// SavePlan stores a plan; an id already stored is ECONFLICT. It sets p's
// Created when zero (to now) and keeps it as stored.
func (s *Store) SavePlan(ctx context.Context, p *certs.Plan) error {
	if _, err := certs.PreparePlanForSave(p, s.clock()); err != nil {
		return err
	}
	end, err := s.begin(ctx, "save plan")
	if err != nil {
		return err
	}
	defer end()
	if _, ok := s.db.plans[p.ID]; ok {
		return certs.Errorf(certs.ECONFLICT, "plan %s already exists", p.ID)
	}
	s.db.plans[p.ID] = clone(p)
	return nil
}

// GetPlan returns a copy of a plan, or ENOTFOUND.
func (s *Store) GetPlan(ctx context.Context, id string) (*certs.Plan, error) {
	end, err := s.begin(ctx, "get plan")
	if err != nil {
		return nil, err
	}
	defer end()
	p, ok := s.db.plans[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "plan %s not found", id)
	}
	return clone(p), nil
}

// CreateRequest stores a new request with Version 1 and its events. It sets
// r's Version, and Created/Updated when zero (to now), and keeps its times
// as stored (UTC, microseconds). A duplicate id is ECONFLICT.
func (s *Store) CreateRequest(ctx context.Context, r *certs.Request, events ...certs.Event) error {
	now := s.clock()
	if err := certs.PrepareRequestForCreate(r, now); err != nil {
		return err
	}
	if err := checkRequest(r); err != nil {
		return err
	}
	evs, err := storedEvents(now, certs.EventsForRequest(r, events))
	if err != nil {
		return err
	}
	end, err := s.begin(ctx, "create request")
	if err != nil {
		return err
	}
	defer end()
	if _, ok := s.db.requests[r.ID]; ok {
		return certs.Errorf(certs.ECONFLICT, "request %s already exists", r.ID)
	}
	s.db.requests[r.ID] = storedRequest(r)
	s.db.appendLocked(evs)
	return nil
}

// GetRequest returns a copy of a request, or ENOTFOUND.
func (s *Store) GetRequest(ctx context.Context, id string) (*certs.Request, error) {
	end, err := s.begin(ctx, "get request")
	if err != nil {
		return nil, err
	}
	defer end()
	r, ok := s.db.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	return clone(r), nil
}

// ListRequests returns copies of the requests f selects, newest first.
func (s *Store) ListRequests(ctx context.Context, f certs.RequestFilter) ([]*certs.Request, error) {
	end, err := s.begin(ctx, "list requests")
	if err != nil {
		return nil, err
	}
	defer end()
	var out []*certs.Request
	for _, r := range s.db.requests {
		if len(f.States) > 0 && !slices.Contains(f.States, r.State) {
			continue
		}
		if f.CertificationID != "" && r.Plan.CertificationID != f.CertificationID {
			continue
		}
		if f.RequesterKey != "" && !hasKey(r.Requester, f.RequesterKey) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *certs.Request) int {
		if d := b.Created.Compare(a.Created); d != 0 {
			return d
		}
		return strings.Compare(b.ID, a.ID)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	for i, r := range out {
		out[i] = clone(r)
	}
	return out, nil
}

// UpdateRequest is the compare-and-set of certs.Store. update runs on a
// copy while the database's lock is held, so it must not call the store.
func (s *Store) UpdateRequest(ctx context.Context, id string, from []certs.RequestState, update func(*certs.Request) error, events ...certs.Event) (*certs.Request, error) {
	end, err := s.begin(ctx, "update request")
	if err != nil {
		return nil, err
	}
	defer end()
	cur, ok := s.db.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	if !slices.Contains(from, cur.State) {
		return clone(cur), certs.RequestConflict(cur, from)
	}
	next := clone(cur)
	if err := update(next); err != nil {
		return nil, err
	}
	now := s.clock()
	next.ID, next.Created, next.Version = cur.ID, cur.Created, cur.Version+1
	next.Updated = now
	next.ExpiresAt = certs.StoredTime(next.ExpiresAt)
	if err := checkRequest(next); err != nil {
		return nil, err
	}
	evs, err := storedEvents(now, certs.EventsForRequest(next, events))
	if err != nil {
		return nil, err
	}
	if s.FailUpdate != nil {
		if err := s.FailUpdate(next); err != nil {
			return nil, err
		}
	}
	if err := s.usable(ctx, "update request"); err != nil {
		return nil, err // the commit fails: nothing is written
	}
	stored := storedRequest(next)
	s.db.requests[id] = stored
	s.db.updates++
	s.db.appendLocked(evs)
	return clone(stored), nil
}

// Updates counts successful UpdateRequest calls on the store's data.
func (s *Store) Updates() int {
	s.db.lock <- struct{}{}
	defer func() { <-s.db.lock }()
	return s.db.updates
}

// ClaimRequests leases to owner up to limit requests in one of states whose
// lease is free or lapsed, least recently changed first.
func (s *Store) ClaimRequests(ctx context.Context, owner string, states []certs.RequestState, leaseFor time.Duration, limit int) ([]*certs.Request, error) {
	if owner == "" {
		return nil, certs.Errorf(certs.EINVALID, "a lease owner is required")
	}
	if leaseFor <= 0 {
		return nil, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", leaseFor)
	}
	if len(states) == 0 || limit <= 0 {
		return nil, nil
	}
	end, err := s.begin(ctx, "claim requests")
	if err != nil {
		return nil, err
	}
	defer end()
	now := s.clock()
	var free []*certs.Request
	for id, r := range s.db.requests {
		if l, ok := s.db.leases[id]; ok && l.until.After(now) {
			continue
		}
		if slices.Contains(states, r.State) {
			free = append(free, r)
		}
	}
	slices.SortFunc(free, func(a, b *certs.Request) int {
		if d := a.Updated.Compare(b.Updated); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(free) > limit {
		free = free[:limit]
	}
	out := make([]*certs.Request, len(free))
	for i, r := range free {
		s.db.leases[r.ID] = lease{owner: owner, until: now.Add(leaseFor)}
		out[i] = clone(r)
	}
	return out, nil
}

// ReleaseRequest ends owner's lease on a request; a no-op when owner does
// not hold it.
func (s *Store) ReleaseRequest(ctx context.Context, id, owner string) error {
	end, err := s.begin(ctx, "release request")
	if err != nil {
		return err
	}
	defer end()
	if l, ok := s.db.leases[id]; ok && l.owner == owner {
		delete(s.db.leases, id)
	}
	return nil
}

// AppendEvents appends audit events that accompany no state change.
func (s *Store) AppendEvents(ctx context.Context, events ...certs.Event) error {
	if len(events) == 0 {
		return nil
	}
	evs, err := storedEvents(s.clock(), events)
	if err != nil {
		return err
	}
	end, err := s.begin(ctx, "append events")
	if err != nil {
		return err
	}
	defer end()
	s.db.appendLocked(evs)
	return nil
}

// ListEvents returns the events f selects, oldest first.
func (s *Store) ListEvents(ctx context.Context, f certs.EventFilter) ([]certs.Event, error) {
	end, err := s.begin(ctx, "list events")
	if err != nil {
		return nil, err
	}
	defer end()
	return s.db.listLocked(f), nil
}

func (db *database) listLocked(f certs.EventFilter) []certs.Event {
	var out []certs.Event
	for _, e := range db.events {
		if e.Seq <= f.AfterSeq ||
			(f.RequestID != "" && e.RequestID != f.RequestID) ||
			(f.CertificationID != "" && e.CertificationID != f.CertificationID) ||
			(f.ActorKey != "" && !hasKey(e.Actor, f.ActorKey)) {
			continue
		}
		e.TaskIDs, e.TrackingIDs = copyIDs(e.TaskIDs), copyIDs(e.TrackingIDs)
		out = append(out, e)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}

// Events returns every event, oldest first, whether or not the handle is
// closed (for tests' assertions).
func (s *Store) Events() []certs.Event {
	s.db.lock <- struct{}{}
	defer func() { <-s.db.lock }()
	return s.db.listLocked(certs.EventFilter{})
}

// ClaimEvents leases consumer's cursor to owner and returns up to limit
// events after it. It returns none, and leaves the cursor alone, when
// another owner holds an unexpired lease or there is nothing to read; the
// holder may claim again and gets the same events, its lease extended.
func (s *Store) ClaimEvents(ctx context.Context, consumer, owner string, leaseFor time.Duration, limit int) ([]certs.Event, error) {
	if consumer == "" || owner == "" {
		return nil, certs.Errorf(certs.EINVALID, "a consumer and a lease owner are required")
	}
	if leaseFor <= 0 {
		return nil, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", leaseFor)
	}
	if limit <= 0 {
		return nil, nil
	}
	end, err := s.begin(ctx, "claim events")
	if err != nil {
		return nil, err
	}
	defer end()
	now := s.clock()
	c, ok := s.db.cursors[consumer]
	if !ok {
		c = &cursor{}
		s.db.cursors[consumer] = c
	}
	if c.owner != "" && c.owner != owner && c.until.After(now) {
		return nil, nil
	}
	events := s.db.listLocked(certs.EventFilter{AfterSeq: c.seq, Limit: limit})
	if len(events) > 0 {
		c.owner, c.until = owner, now.Add(leaseFor)
	}
	return events, nil
}

// AckEvents moves consumer's cursor to seq (never back) and releases the
// lease, if owner holds it; else ECONFLICT. An owner whose lease lapsed but
// was not taken over may still ack: nobody else has read those events.
func (s *Store) AckEvents(ctx context.Context, consumer, owner string, seq int64) error {
	end, err := s.begin(ctx, "ack events")
	if err != nil {
		return err
	}
	defer end()
	c, ok := s.db.cursors[consumer]
	if !ok || owner == "" || c.owner != owner {
		return certs.EventLeaseConflict(consumer, owner)
	}
	c.seq, c.owner, c.until = max(c.seq, seq), "", time.Time{}
	return nil
}

// Ping answers unless the handle is closed or ctx has ended.
func (s *Store) Ping(ctx context.Context) error { return s.usable(ctx, "ping") }

// Close closes the handle: its calls then fail as a closed database's do
// (EUNAVAILABLE). The data, and its leases, stay for other handles.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}
