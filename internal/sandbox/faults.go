package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultKind is how an injected fault answers.
type FaultKind string

const (
	Fault503  FaultKind = "503"
	Fault500  FaultKind = "500"
	Fault429  FaultKind = "429"
	FaultHang FaultKind = "hang" // block until the client gives up (request context done)
	// FaultCloseAfterApply runs the operation (a mutation takes effect),
	// then closes the connection without answering.
	FaultCloseAfterApply FaultKind = "close-after-apply"
)

// Fault is a scripted fault: the next Count calls of Operation are
// answered by Kind instead of normally.
type Fault struct {
	// Operation is an operationId without any V1 suffix
	// ("submitReassignCertsAsync"); "" matches every operation.
	Operation string    `json:"operation"`
	Kind      FaultKind `json:"kind"`
	// Count is how many matching calls the fault answers (default 1).
	Count int `json:"count"`
	// RetryAfter is the Retry-After of a 429, in seconds (default 1).
	RetryAfter int `json:"retryAfter,omitempty"`
}

func (f Fault) validate() error {
	switch f.Kind {
	case Fault503, Fault500, Fault429, FaultHang, FaultCloseAfterApply:
	default:
		return fmt.Errorf("unknown fault kind %q (want 503, 500, 429, hang or close-after-apply)", f.Kind)
	}
	if f.Operation != "" {
		known := false
		for i := range routeTable {
			if routeTable[i].Operation() == f.Operation {
				known = true
				break
			}
		}
		if !known {
			return fmt.Errorf("unknown operation %q", f.Operation)
		}
	}
	if f.Count < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("count and retryAfter must not be negative")
	}
	return nil
}

// InjectFault queues a scripted fault. Faults are matched in the order they
// were injected. It panics on an unknown kind or operation (a test bug).
func (s *Sandbox) InjectFault(f Fault) {
	if err := s.addFaults([]Fault{f}); err != nil {
		panic("sandbox.InjectFault: " + err.Error())
	}
}

func (s *Sandbox) addFaults(fs []Fault) error {
	for i := range fs {
		fs[i].Operation = strings.TrimSuffix(fs[i].Operation, "V1")
		if err := fs[i].validate(); err != nil {
			return err
		}
		if fs[i].Count == 0 {
			fs[i].Count = 1
		}
		if fs[i].Kind == Fault429 && fs[i].RetryAfter == 0 {
			fs[i].RetryAfter = 1
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fs...)
	return nil
}

// takeFault consumes the first fault matching op. Call with s.mu held.
func (s *Sandbox) takeFault(op string) (Fault, bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if f.Operation != "" && f.Operation != op {
			continue
		}
		taken := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return taken, true
	}
	return Fault{}, false
}

// delay is the latency to add to one response. Call with s.mu held.
func (s *Sandbox) delay() time.Duration {
	d := s.latency
	if s.jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(s.jitter) + 1))
	}
	return d
}

// The control endpoints under /_sandbox/ let tests in another process
// script the sandbox. They take no authentication: the sandbox is a test
// tenant that listens on loopback by default.

func (s *Sandbox) handleFaults(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if e := decodeJSON(r, &raw); e != nil {
		writeError(w, e)
		return
	}
	var fs []Fault
	if t := strings.TrimSpace(string(raw)); strings.HasPrefix(t, "[") {
		if err := json.Unmarshal(raw, &fs); err != nil {
			writeError(w, badRequest("Invalid fault list: %v", err))
			return
		}
	} else {
		var f Fault
		if err := json.Unmarshal(raw, &f); err != nil {
			writeError(w, badRequest("Invalid fault: %v", err))
			return
		}
		fs = []Fault{f}
	}
	if err := s.addFaults(fs); err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	s.handleListFaults(w, r)
}

func (s *Sandbox) handleListFaults(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fs := append([]Fault{}, s.faults...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, fs)
}

func (s *Sandbox) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// latencyRequest is the body of POST /_sandbox/latency: Go durations
// ("150ms") or milliseconds.
type latencyRequest struct {
	Latency string `json:"latency"`
	Jitter  string `json:"jitter"`
}

func parseDurationOrMillis(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var ms int64
	if _, err := fmt.Sscanf(s, "%d", &ms); err == nil && fmt.Sprint(ms) == s {
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("%q is not a duration (e.g. 150ms) or a number of milliseconds", s)
}

func (s *Sandbox) handleLatency(w http.ResponseWriter, r *http.Request) {
	var req latencyRequest
	if e := decodeJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	fixed, err := parseDurationOrMillis(req.Latency)
	if err != nil {
		writeError(w, badRequest("latency: %v", err))
		return
	}
	jitter, err := parseDurationOrMillis(req.Jitter)
	if err != nil {
		writeError(w, badRequest("jitter: %v", err))
		return
	}
	if fixed < 0 || jitter < 0 {
		writeError(w, badRequest("latency and jitter must not be negative"))
		return
	}
	s.SetLatency(fixed, jitter)
	writeJSON(w, http.StatusOK, map[string]string{"latency": fixed.String(), "jitter": jitter.String()})
}

func (s *Sandbox) handleClients(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Clients())
}
