// Package certstest holds in-memory fakes of certs.Tenant and certs.Store
// for unit tests of code that uses certs.Service. They implement the
// interfaces' documented semantics (compare-and-set, leases, cursors), not
// SailPoint's or SQL's details; integration tests use the real adapters.
package certstest

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Store is an in-memory certs.Store. The zero value is not usable; call
// NewStore.
type Store struct {
	// Now is the store's clock for leases (time.Now when nil).
	Now func() time.Time
	// FailUpdate, when set, is called inside UpdateRequest after the state
	// check with the request as it would be written; a non-nil error aborts
	// the write and is returned (to simulate a database failing at a given
	// step).
	FailUpdate func(r *certs.Request) error

	mu       sync.Mutex
	plans    map[string]*certs.Plan
	requests map[string]*certs.Request
	leases   map[string]lease
	events   []certs.Event
	cursors  map[string]*cursor
	updates  int
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
	return &Store{plans: map[string]*certs.Plan{}, requests: map[string]*certs.Request{}, leases: map[string]lease{}, cursors: map[string]*cursor{}}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// clone deep-copies through JSON, as a database round trip would.
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

func (s *Store) SavePlan(ctx context.Context, p *certs.Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.plans[p.ID]; ok {
		return certs.Errorf(certs.ECONFLICT, "plan %s exists", p.ID)
	}
	s.plans[p.ID] = clone(p)
	return nil
}

func (s *Store) GetPlan(ctx context.Context, id string) (*certs.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.plans[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "plan %s not found", id)
	}
	return clone(p), nil
}

func (s *Store) CreateRequest(ctx context.Context, r *certs.Request, events ...certs.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[r.ID]; ok {
		return certs.Errorf(certs.ECONFLICT, "request %s exists", r.ID)
	}
	r.Version = 1
	s.requests[r.ID] = clone(r)
	s.appendLocked(r.ID, events)
	return nil
}

func (s *Store) GetRequest(ctx context.Context, id string) (*certs.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	return clone(r), nil
}

func (s *Store) ListRequests(ctx context.Context, f certs.RequestFilter) ([]*certs.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*certs.Request
	for _, r := range s.requests {
		if len(f.States) > 0 && !slices.Contains(f.States, r.State) {
			continue
		}
		if f.CertificationID != "" && r.Plan.CertificationID != f.CertificationID {
			continue
		}
		if f.RequesterKey != "" && !r.Requester.Is(f.RequesterKey) {
			continue
		}
		out = append(out, clone(r))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID > out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *Store) UpdateRequest(ctx context.Context, id string, from []certs.RequestState, update func(*certs.Request) error, events ...certs.Event) (*certs.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	if !slices.Contains(from, cur.State) {
		return clone(cur), certs.Errorf(certs.ECONFLICT, "request %s is %s", id, cur.State)
	}
	next := clone(cur)
	if err := update(next); err != nil {
		return nil, err
	}
	if s.FailUpdate != nil {
		if err := s.FailUpdate(next); err != nil {
			return nil, err
		}
	}
	next.ID = id
	next.Version = cur.Version + 1
	s.requests[id] = next
	s.updates++
	s.appendLocked(id, events)
	return clone(next), nil
}

// Updates counts successful UpdateRequest calls.
func (s *Store) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

func (s *Store) ClaimRequests(ctx context.Context, owner string, states []certs.RequestState, leaseFor time.Duration, limit int) ([]*certs.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var ids []string
	for id, r := range s.requests {
		if slices.Contains(states, r.State) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return s.requests[ids[i]].Created.Before(s.requests[ids[j]].Created) })
	var out []*certs.Request
	for _, id := range ids {
		if limit > 0 && len(out) == limit {
			break
		}
		if l, ok := s.leases[id]; ok && now.Before(l.until) {
			continue
		}
		s.leases[id] = lease{owner: owner, until: now.Add(leaseFor)}
		out = append(out, clone(s.requests[id]))
	}
	return out, nil
}

func (s *Store) ReleaseRequest(ctx context.Context, id, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[id]; ok && l.owner == owner {
		delete(s.leases, id)
	}
	return nil
}

func (s *Store) AppendEvents(ctx context.Context, events ...certs.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked("", events)
	return nil
}

func (s *Store) appendLocked(requestID string, events []certs.Event) {
	for _, ev := range events {
		if ev.RequestID == "" {
			ev.RequestID = requestID
		}
		ev.Seq = int64(len(s.events) + 1)
		s.events = append(s.events, ev)
	}
}

func (s *Store) ListEvents(ctx context.Context, f certs.EventFilter) ([]certs.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []certs.Event
	for _, ev := range s.events {
		if ev.Seq <= f.AfterSeq ||
			(f.RequestID != "" && ev.RequestID != f.RequestID) ||
			(f.CertificationID != "" && ev.CertificationID != f.CertificationID) ||
			(f.ActorKey != "" && !ev.Actor.Is(f.ActorKey)) {
			continue
		}
		out = append(out, ev)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// Events returns every event, oldest first.
func (s *Store) Events() []certs.Event {
	evs, _ := s.ListEvents(context.Background(), certs.EventFilter{})
	return evs
}

func (s *Store) ClaimEvents(ctx context.Context, consumer, owner string, leaseFor time.Duration, limit int) ([]certs.Event, error) {
	s.mu.Lock()
	c, ok := s.cursors[consumer]
	if !ok {
		c = &cursor{}
		s.cursors[consumer] = c
	}
	now := s.now()
	if c.owner != "" && c.owner != owner && now.Before(c.until) {
		s.mu.Unlock()
		return nil, nil
	}
	c.owner, c.until = owner, now.Add(leaseFor)
	after := c.seq
	s.mu.Unlock()
	return s.ListEvents(ctx, certs.EventFilter{AfterSeq: after, Limit: limit})
}

func (s *Store) AckEvents(ctx context.Context, consumer, owner string, seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cursors[consumer]
	if !ok || c.owner != owner {
		return certs.Errorf(certs.ECONFLICT, "consumer %s is not leased to %s", consumer, owner)
	}
	c.seq, c.owner = seq, ""
	return nil
}

func (s *Store) Ping(ctx context.Context) error { return nil }
func (s *Store) Close() error                   { return nil }
