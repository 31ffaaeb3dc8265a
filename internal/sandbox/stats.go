package sandbox

import (
	"net/http"
)

// Stats are the sandbox's counters since it started or since ResetStats.
type Stats struct {
	// Operations counts calls per operation (operationId without the V1
	// suffix), with a breakdown per client id.
	Operations map[string]OperationStats `json:"operations"`
	// Clients counts calls per client id, over all operations; a user
	// token's calls count under its OAuth client's id.
	Clients map[string]Counter `json:"clients"`
	// Identities counts calls per identity the caller acts as, over all
	// operations: a user token's person, an API client's own identity.
	Identities map[string]Counter `json:"identities"`
	// ReassignmentsApplied counts reassignments that took effect: sync
	// calls that succeeded and async tasks that ended in SUCCESS.
	ReassignmentsApplied int `json:"reassignmentsApplied"`
	// ItemsMoved counts review items moved by those reassignments.
	ItemsMoved int `json:"itemsMoved"`
	// TasksFailed counts async tasks that ended in ERROR.
	TasksFailed int `json:"tasksFailed"`
	// TokensIssued counts successful /oauth/token calls.
	TokensIssued int `json:"tokensIssued"`
	// SignIns counts people signed in on the login page (an authorization
	// code each); SignInFailures wrong passwords and inactive accounts.
	SignIns        int `json:"signIns"`
	SignInFailures int `json:"signInFailures"`
	// GrantsRevoked counts sign-ins revoked: a refresh token or code
	// presented again, or the identity made inactive.
	GrantsRevoked int `json:"grantsRevoked"`
}

// OperationStats are one operation's counters.
type OperationStats struct {
	Counter
	ByClient map[string]Counter `json:"byClient"`
}

// Counter counts calls. Calls includes every call that reached the
// operation with a valid token, including those answered 429 or by a fault.
type Counter struct {
	Calls       int `json:"calls"`
	RateLimited int `json:"rateLimited"` // answered 429 by the rate limit or a fault
	Faults      int `json:"faults"`      // answered by an injected fault or the error rate
}

type statsCounters struct {
	ops                  map[string]map[string]*Counter // operation → client → counter
	identities           map[string]*Counter
	reassignmentsApplied int
	itemsMoved           int
	tasksFailed          int
	tokensIssued         int
	signIns              int
	signInFailures       int
	grantsRevoked        int
}

func (c *statsCounters) reset() {
	*c = statsCounters{ops: map[string]map[string]*Counter{}, identities: map[string]*Counter{}}
}

// identity returns the counter of an identity. Call with s.mu held.
func (c *statsCounters) identity(id string) *Counter {
	ctr := c.identities[id]
	if ctr == nil {
		ctr = &Counter{}
		c.identities[id] = ctr
	}
	return ctr
}

// counter returns the counter of an operation and client. Call with s.mu held.
func (c *statsCounters) counter(op, client string) *Counter {
	m := c.ops[op]
	if m == nil {
		m = map[string]*Counter{}
		c.ops[op] = m
	}
	ctr := m[client]
	if ctr == nil {
		ctr = &Counter{}
		m[client] = ctr
	}
	return ctr
}

// Stats returns a copy of the counters (after moving async tasks along the
// clock, as a request would).
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasks(s.cfg.Now())
	out := Stats{
		Operations:           map[string]OperationStats{},
		Clients:              map[string]Counter{},
		Identities:           map[string]Counter{},
		ReassignmentsApplied: s.stats.reassignmentsApplied,
		ItemsMoved:           s.stats.itemsMoved,
		TasksFailed:          s.stats.tasksFailed,
		TokensIssued:         s.stats.tokensIssued,
		SignIns:              s.stats.signIns,
		SignInFailures:       s.stats.signInFailures,
		GrantsRevoked:        s.stats.grantsRevoked,
	}
	for id, c := range s.stats.identities {
		out.Identities[id] = *c
	}
	for op, byClient := range s.stats.ops {
		os := OperationStats{ByClient: map[string]Counter{}}
		for client, c := range byClient {
			os.Calls += c.Calls
			os.RateLimited += c.RateLimited
			os.Faults += c.Faults
			os.ByClient[client] = *c
			t := out.Clients[client]
			t.Calls += c.Calls
			t.RateLimited += c.RateLimited
			t.Faults += c.Faults
			out.Clients[client] = t
		}
		out.Operations[op] = os
	}
	return out
}

// ResetStats zeroes the counters.
func (s *Sandbox) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.reset()
}

// Calls returns how many calls an operation received (0 if none).
func (st Stats) Calls(operation string) int { return st.Operations[operation].Calls }

func (s *Sandbox) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Sandbox) handleResetStats(w http.ResponseWriter, r *http.Request) {
	s.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}
