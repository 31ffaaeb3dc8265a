package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/tools"
)

// serveStdio serves MCP over stdin and stdout until the input ends or ctx
// does (SIGTERM), then lets the requests in flight finish and their answers
// be written, within grace, before returning.
//
// mcp-go's stdio server alone cancels every call in flight as soon as it
// reads the end of its input: `printf '…' | mcp-server` lost its last call,
// answered "unavailable: the call to SailPoint was canceled", though
// SailPoint had nothing to do with it. So the server reads a pipe that
// stdioGate feeds, and gets its end only once every request it read has been
// answered (or grace has passed).
//
// Past grace, the requests still running get a JSON-RPC error saying so (not
// a tool result blaming SailPoint), their own answers are dropped, and
// serveStdio returns an error: the process exits 1, as after a SIGTERM whose
// work outlived the grace period.
func serveStdio(ctx context.Context, srv *server.MCPServer, actor certs.Actor, stdin io.Reader, stdout io.Writer, logger *slog.Logger, grace time.Duration) error {
	s := server.NewStdioServer(srv)
	s.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	s.SetContextFunc(func(ctx context.Context) context.Context { return tools.WithActor(ctx, actor) })

	gate := newStdioGate(stdout)
	pr, pw := io.Pipe()
	// The requests' context ends when the server's input does, not with
	// ctx: on SIGTERM they get grace like HTTP's.
	listenCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	listened := make(chan error, 1)
	go func() {
		err := s.Listen(listenCtx, pr, gate)
		_ = pr.CloseWithError(io.ErrClosedPipe) // unblocks a feed still writing
		listened <- err
	}()

	why, err := gate.feed(ctx, stdin, pw, listened)
	if err != nil {
		_ = pw.Close()
		return err
	}
	var inFlight []string
	for _, r := range gate.inFlight() {
		inFlight = append(inFlight, r.method)
	}
	logger.Info("stdio: "+why+"; finishing the requests in flight", "requests", len(inFlight), "methods", strings.Join(inFlight, ", "), "grace", grace)
	abandoned, reason := gate.drain(grace, listened)
	if len(abandoned) > 0 {
		logger.Error("stdio: requests abandoned", "requests", strings.Join(abandoned, ", "), "why", reason)
		_ = pw.Close()
		return fmt.Errorf("stdio: %s; %d request(s) abandoned: %s", reason, len(abandoned), strings.Join(abandoned, ", "))
	}
	_ = pw.Close() // the end of input, now that everything read has its answer
	err = <-listened
	logger.Info("stdio closed")
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// stdioGate passes stdin's JSON-RPC messages to the server and the server's
// to stdout, keeping track of the requests read and not yet answered.
type stdioGate struct {
	out     io.Writer
	changed chan struct{} // a request was answered (or an ask settled)

	mu sync.Mutex
	// pending are the client's requests read and not answered, by id.
	pending map[string]request
	// asked are the server's requests to the client (elicitation/create,
	// sampling, roots/list) not answered yet; once the input ended they
	// never will be.
	asked map[string]bool
	// dropped are the ids of abandoned requests, whose late answers are
	// not written.
	dropped map[string]bool
}

// request is a client request the server has not answered.
type request struct {
	id     json.RawMessage
	method string // tools/call's tool name in brackets
	seq    int
}

// message is what the gate reads of a JSON-RPC message.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name      string          `json:"name"`      // tools/call
		RequestID json.RawMessage `json:"requestId"` // notifications/cancelled
	} `json:"params"`
}

// untracked are requests that stay open for the connection's life; the
// end of input is their end, not something to wait for.
var untracked = []string{"subscriptions/listen"}

func newStdioGate(out io.Writer) *stdioGate {
	return &stdioGate{out: out, changed: make(chan struct{}, 1), pending: map[string]request{}, asked: map[string]bool{}, dropped: map[string]bool{}}
}

// idKey is a JSON-RPC id as a map key: a number and the string of its
// digits are different ids.
func idKey(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// parse reads a message's envelope; ok is false for anything that is not
// one JSON object (a batch, a partial line), which the gate passes on
// without tracking.
func parse(line []byte) (m message, ok bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return m, false
	}
	return m, json.Unmarshal(line, &m) == nil
}

// feed copies stdin to the server, line by line, recording each request
// before the server can see it. It returns why it stopped: the end of
// input, or ctx's end (the read under way is left behind: the process is
// stopping). An error means the server stopped first.
func (g *stdioGate) feed(ctx context.Context, stdin io.Reader, server io.Writer, listened <-chan error) (string, error) {
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		r := bufio.NewReader(stdin)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if line[len(line)-1] != '\n' {
					line = append(line, '\n') // a last line without one is a line too
				}
				select {
				case lines <- line:
				case <-stop:
					return
				}
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	seq := 0
	for {
		select {
		case line := <-lines:
			seq++
			g.read(line, seq)
			if _, err := server.Write(line); err != nil {
				return "", fmt.Errorf("stdio: the server stopped reading: %w", <-listened)
			}
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				return "end of input", nil
			}
			return "reading standard input failed (" + err.Error() + ")", nil
		case <-ctx.Done():
			return "shutting down", nil
		case err := <-listened:
			if err == nil {
				err = io.EOF
			}
			return "", fmt.Errorf("stdio: the server stopped: %w", err)
		}
	}
}

// read records a line from the client.
func (g *stdioGate) read(line []byte, seq int) {
	m, ok := parse(line)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	key := idKey(m.ID)
	switch {
	case m.Method == "notifications/cancelled":
		// The client gave up on it; no answer is due.
		delete(g.pending, idKey(m.Params.RequestID))
	case m.Method != "" && key != "" && !slices.Contains(untracked, m.Method):
		what := m.Method
		if m.Method == "tools/call" && m.Params.Name != "" {
			what += " " + m.Params.Name
		}
		g.pending[key] = request{id: append(json.RawMessage(nil), m.ID...), method: what, seq: seq}
	case m.Method == "" && key != "":
		delete(g.asked, key) // the client's answer to the server's question
	}
	g.signal()
}

// Write passes one message from the server to stdout (mcp-go writes each
// in one call), noting the answers and questions it carries.
func (g *stdioGate) Write(p []byte) (int, error) {
	m, ok := parse(p)
	key := idKey(m.ID)
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok && m.Method == "" && g.dropped[key] {
		return len(p), nil // answered already, as abandoned
	}
	n, err := g.out.Write(p)
	if ok && key != "" {
		if m.Method == "" {
			delete(g.pending, key)
		} else {
			g.asked[key] = true
		}
		g.signal()
	}
	return n, err
}

func (g *stdioGate) signal() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// inFlight lists the requests not answered yet, in the order they came.
func (g *stdioGate) inFlight() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]request, 0, len(g.pending))
	for _, r := range g.pending {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b request) int { return a.seq - b.seq })
	return out
}

// drain waits, once the input ended, until every request read has its
// answer, or grace has passed, or what is left can only be waiting for the
// client's answer to a question of the server's, which cannot come. It
// answers what is left with an error and returns it, with why.
func (g *stdioGate) drain(grace time.Duration, listened <-chan error) (abandoned []string, why string) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for {
		g.mu.Lock()
		pending, asked := len(g.pending), len(g.asked)
		g.mu.Unlock()
		switch {
		case pending == 0:
			return nil, ""
		case asked > 0 && pending <= asked:
			// Each of them may be waiting on its question.
			return g.abandon("waiting for the client's answer to a question (elicitation) that cannot come: standard input is closed"), "standard input closed while the server waited for the client's answer"
		}
		select {
		case <-g.changed:
		case <-timer.C:
			return g.abandon(fmt.Sprintf("still running when standard input closed and CERTOPS_SHUTDOWN_GRACE (%s) passed; whether it changed anything is not known here (read it back before retrying)", grace)),
				fmt.Sprintf("requests still running %s after the end of input (CERTOPS_SHUTDOWN_GRACE)", grace)
		case <-listened:
			// The server ended by itself (it could not write): nothing more
			// will be answered.
			return g.abandon("the server stopped before answering"), "the server stopped before answering"
		}
	}
}

// abandon answers every pending request with a JSON-RPC error carrying
// msg, and drops the answers they may still get.
func (g *stdioGate) abandon(msg string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for key, r := range g.pending {
		resp, _ := json.Marshal(map[string]any{
			"jsonrpc": "2.0",
			"id":      r.id,
			"error":   map[string]any{"code": -32603, "message": "abandoned: " + msg},
		})
		_, _ = g.out.Write(append(resp, '\n'))
		g.dropped[key] = true
		out = append(out, fmt.Sprintf("%s (id %s)", r.method, key))
		delete(g.pending, key)
	}
	slices.Sort(out)
	return out
}
