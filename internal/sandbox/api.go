package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// handlerFunc serves one operation with s.mu held. It returns the 200 body
// (built from copies, so it is encoded after the lock is released) or an
// error.
type handlerFunc func(s *Sandbox, c *call) (any, *apiError)

// call is one API request on its way through the sandbox.
type call struct {
	r      *http.Request
	q      url.Values
	route  *route
	client Credential
	// grant is the person's sign-in of a user token; nil for client
	// credentials.
	grant *grant
	now   time.Time
	// total is the X-Total-Count to send (count=true), -1 for none.
	total int
}

func (c *call) admin() bool { return c.client.Role == RoleAdmin }

// grantType is how the caller's token was granted, in ISC's GrantType
// names: CLIENT_CREDENTIALS, or AUTHORIZATION_CODE for a user token.
func (c *call) grantType() string {
	if c.grant != nil {
		return GrantAuthorizationCode
	}
	return GrantClientCredentials
}

// limitID is whose budget a call spends: the client id, or for a user
// token the OAuth client and the person.
func (c *call) limitID() string {
	if c.grant != nil {
		return c.client.ClientID + "/" + c.client.IdentityID
	}
	return c.client.ClientID
}

// api wraps an operation in what every API call goes through, in ISC's
// order: latency, authentication (401), the rate limit (429), scripted
// faults and the error rate, then the operation itself.
func (s *Sandbox) api(rt *route) http.Handler {
	op := rt.Operation()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Version == versionBeta {
			w.Header().Set("X-Deprecated", "true")
		}
		s.mu.Lock()
		d := s.delay()
		s.mu.Unlock()
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		now := s.cfg.Now()
		tok, authErr := s.authenticate(r, now)
		if authErr != nil {
			writeError(w, authErr)
			return
		}
		client := tok.client
		c := &call{r: r, q: r.URL.Query(), route: rt, client: client, grant: tok.grant, now: now, total: -1}

		s.mu.Lock()
		ctr := s.stats.counter(op, client.ClientID)
		ictr := s.stats.identity(client.IdentityID)
		ctr.Calls++
		ictr.Calls++
		ok, retryAfter := s.rateLimit(c.limitID(), rt.Version, now)
		var fault Fault
		var faulted bool
		if ok {
			fault, faulted = s.takeFault(op)
			if !faulted && s.cfg.ErrorRate > 0 && s.rng.Float64() < s.cfg.ErrorRate {
				fault, faulted = Fault{Kind: Fault500}, true
			}
		}
		if !ok || (faulted && fault.Kind == Fault429) {
			ctr.RateLimited++
			ictr.RateLimited++
		}
		if faulted {
			ctr.Faults++
			ictr.Faults++
		}
		s.mu.Unlock()

		if !ok {
			s.log.Debug("rate limited", "operation", op, "client", client.ClientID, "retryAfter", retryAfter)
			writeError(w, rateLimited(retryAfter))
			return
		}
		if faulted {
			s.log.Debug("fault", "operation", op, "client", client.ClientID, "kind", fault.Kind)
			// Says the answer is scripted, for people reading traffic and
			// for checkers (a 503 is a gateway's answer, not in the specs).
			w.Header().Set("X-Sandbox-Fault", string(fault.Kind))
			switch fault.Kind {
			case Fault500:
				writeError(w, internalFault())
				return
			case Fault503:
				writeError(w, unavailable())
				return
			case Fault429:
				writeError(w, rateLimited(fault.RetryAfter))
				return
			case FaultHang:
				<-r.Context().Done()
				return
			}
		}

		s.mu.Lock()
		s.advanceTasks(now)
		body, apiErr := rt.handle(s, c)
		s.mu.Unlock()

		if faulted && fault.Kind == FaultCloseAfterApply {
			abortConnection(w)
			return
		}
		if apiErr != nil {
			s.log.Debug("api error", "operation", op, "client", client.ClientID, "status", apiErr.status, "text", apiErr.text)
			writeError(w, apiErr)
			return
		}
		if c.total >= 0 {
			w.Header().Set("X-Total-Count", strconv.Itoa(c.total))
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// abortConnection closes the client's connection without an answer:
// hijacked when the writer allows it, otherwise by aborting the handler,
// which net/http turns into a closed connection (HTTP/1) or a reset stream
// (HTTP/2) without logging a stack.
func abortConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}
