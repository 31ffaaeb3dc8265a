package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// piped is the built mcp-server with its standard input and output as
// plain pipes, as `printf '…' | mcp-server` has them.
type piped struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan map[string]json.RawMessage
	stderr *syncBuffer
	exited chan struct{} // closed once the process ended, with err
	err    error
}

func startPiped(t *testing.T, args ...string) *piped {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &piped{cmd: cmd, stdin: stdin, lines: make(chan map[string]json.RawMessage, 100), stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]json.RawMessage
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]json.RawMessage{"unparsable": json.RawMessage(fmt.Sprintf("%q", sc.Text()))}
			}
			p.lines <- m
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return p
}

// send writes one JSON-RPC message as a line.
func (p *piped) send(t *testing.T, msg string) {
	t.Helper()
	_, err := io.WriteString(p.stdin, msg+"\n")
	require.NoError(t, err)
}

// answer reads stdout until the message with id, which it returns.
func (p *piped) answer(t *testing.T, id int) map[string]json.RawMessage {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-p.lines:
			require.True(t, ok, "stdout ended before the answer to %d; stderr:\n%s", id, p.stderr.String())
			require.NotContains(t, m, "unparsable", "stdout carries only JSON-RPC")
			if string(m["id"]) == fmt.Sprint(id) {
				return m
			}
		case <-timeout:
			t.Fatalf("no answer to %d; stderr:\n%s", id, p.stderr.String())
		}
	}
}

// exit waits for the process and returns its exit code.
func (p *piped) exit(t *testing.T) int {
	t.Helper()
	for range p.lines { // the rest of stdout
	}
	select {
	case <-p.exited:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(t, p.err)
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("mcp-server did not exit; stderr:\n%s", p.stderr.String())
		return -1
	}
}

const (
	initialize  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"printf","version":"1"}}}`
	initialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	listMine    = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_certifications","arguments":{}}}`
)

// gatedTenant points SAIL_* at a sandbox tenant whose next API call, once
// armed, waits for the test, and the stdio caller at one of its reviewers.
func gatedTenant(t *testing.T) *gate {
	t.Helper()
	sb := sandbox.New(sandbox.Config{})
	t.Setenv("CERTOPS_MCP_IDENTITY_ID", sb.Clients()[1].IdentityID)
	g := newGate(sb)
	tenant := httptest.NewServer(g)
	t.Cleanup(tenant.Close)
	t.Setenv("SAIL_BASE_URL", tenant.URL)
	t.Setenv("SAIL_CLIENT_ID", sandbox.AdminClientID)
	t.Setenv("SAIL_CLIENT_SECRET", sandbox.AdminClientSecret)
	t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "certops.db"))
	return g
}

// A call still at SailPoint when standard input ends is finished and
// answered, and the server exits 0.
func TestStdioAnswersTheCallsInFlightAtEndOfInput(t *testing.T) {
	testEnv(t)
	g := gatedTenant(t)
	p := startPiped(t)
	p.send(t, initialize)
	p.answer(t, 1)
	p.send(t, initialized)
	g.armed.Store(true)
	p.send(t, listMine)
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the call never reached SailPoint; stderr:\n%s", p.stderr.String())
	}
	require.NoError(t, p.stdin.Close())
	require.Eventually(t, func() bool {
		return strings.Contains(p.stderr.String(), `msg="stdio: end of input; finishing the requests in flight" requests=1`)
	}, 30*time.Second, 10*time.Millisecond, "the end of input was seen with the call in flight; stderr:\n%s", p.stderr.String())
	close(g.release)

	res := p.answer(t, 2)
	require.Contains(t, res, "result", "an answer, not an error: %s", res["error"])
	var out struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	require.NoError(t, json.Unmarshal(res["result"], &out))
	require.NotEmpty(t, out.Content)
	assert.False(t, out.IsError, out.Content[0].Text)
	assert.Contains(t, out.Content[0].Text, "certifications")
	assert.Equal(t, 0, p.exit(t), "stderr:\n%s", p.stderr.String())
	assert.NotContains(t, p.stderr.String(), "canceled")
	assert.NotContains(t, p.stderr.String(), "level=ERROR")
}

// Past CERTOPS_SHUTDOWN_GRACE a call still running is answered with an
// error that says why (the end of input, not SailPoint), and the server
// exits 1.
func TestStdioAbandonsCallsPastTheGrace(t *testing.T) {
	testEnv(t)
	t.Setenv("CERTOPS_SHUTDOWN_GRACE", "1s")
	g := gatedTenant(t)
	t.Cleanup(func() { close(g.release) })
	p := startPiped(t)
	p.send(t, initialize)
	p.answer(t, 1)
	p.send(t, initialized)
	g.armed.Store(true)
	p.send(t, listMine)
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the call never reached SailPoint; stderr:\n%s", p.stderr.String())
	}
	require.NoError(t, p.stdin.Close())

	res := p.answer(t, 2)
	require.Contains(t, res, "error", "%s", res["result"])
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(res["error"], &e))
	assert.Contains(t, e.Message, "abandoned: still running when standard input closed and CERTOPS_SHUTDOWN_GRACE (1s) passed")
	assert.NotContains(t, e.Message, "SailPoint")
	assert.Equal(t, 1, p.exit(t))
	logs := p.stderr.String()
	assert.Contains(t, logs, `msg="stdio: requests abandoned" requests="tools/call list_certifications (id 2)"`)
	assert.Contains(t, logs, "mcp-server: stdio: requests still running 1s after the end of input (CERTOPS_SHUTDOWN_GRACE); 1 request(s) abandoned")
}

func TestStdioGate(t *testing.T) {
	const hour = time.Hour // no test here waits for it
	setup := func() (*stdioGate, *bytes.Buffer) {
		var out bytes.Buffer
		return newStdioGate(&out), &out
	}
	write := func(t *testing.T, g *stdioGate, msg string) {
		t.Helper()
		_, err := g.Write([]byte(msg + "\n"))
		require.NoError(t, err)
	}

	t.Run("answered requests leave nothing to wait for", func(t *testing.T) {
		g, out := setup()
		g.read([]byte(`{"jsonrpc":"2.0","id":"a","method":"tools/list"}`), 1)
		g.read([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_certifications"}}`), 2)
		g.read([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), 3)
		require.Len(t, g.inFlight(), 2)
		assert.Equal(t, "tools/call list_certifications", g.inFlight()[1].method)
		write(t, g, `{"jsonrpc":"2.0","id":"a","result":{}}`)
		write(t, g, `{"jsonrpc":"2.0","method":"notifications/message","params":{}}`)
		write(t, g, `{"jsonrpc":"2.0","id":7,"result":{}}`)
		abandoned, _ := g.drain(hour, nil)
		assert.Empty(t, abandoned)
		assert.Equal(t, 3, strings.Count(out.String(), "\n"), "everything written")
	})
	t.Run("a number id and a string id differ", func(t *testing.T) {
		g, _ := setup()
		g.read([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), 1)
		write(t, g, `{"jsonrpc":"2.0","id":"1","result":{}}`)
		assert.Len(t, g.inFlight(), 1)
	})
	t.Run("a call waiting for an elicitation the client can no longer answer", func(t *testing.T) {
		g, out := setup()
		g.read([]byte(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"reassign"}}`), 1)
		write(t, g, `{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{"message":"Reassign?"}}`)
		abandoned, why := g.drain(hour, nil)
		assert.Equal(t, []string{"tools/call reassign (id 3)"}, abandoned)
		assert.Contains(t, why, "waited for the client's answer")
		assert.Contains(t, out.String(), `{"error":{"code":-32603,"message":"abandoned: waiting for the client's answer to a question (elicitation) that cannot come: standard input is closed"},"id":3,"jsonrpc":"2.0"}`)
		before := out.Len()
		write(t, g, `{"jsonrpc":"2.0","id":3,"result":{"isError":true}}`)
		assert.Equal(t, before, out.Len(), "the late answer of an abandoned call is dropped")
	})
	t.Run("an answered elicitation is no reason to give up", func(t *testing.T) {
		g, _ := setup()
		g.read([]byte(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"reassign"}}`), 1)
		write(t, g, `{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{}}`)
		g.read([]byte(`{"jsonrpc":"2.0","id":1,"result":{"action":"accept"}}`), 2)
		go write(t, g, `{"jsonrpc":"2.0","id":3,"result":{}}`)
		abandoned, _ := g.drain(hour, nil)
		assert.Empty(t, abandoned)
	})
	t.Run("cancelled requests and open streams are not waited for", func(t *testing.T) {
		g, _ := setup()
		g.read([]byte(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_certifications"}}`), 1)
		g.read([]byte(`{"jsonrpc":"2.0","id":5,"method":"subscriptions/listen","params":{}}`), 2)
		g.read([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}}`), 3)
		abandoned, _ := g.drain(hour, nil)
		assert.Empty(t, abandoned)
	})
	t.Run("lines that are not one JSON object pass untracked", func(t *testing.T) {
		g, out := setup()
		g.read([]byte(`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`), 1)
		g.read([]byte(`not json`), 2)
		write(t, g, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`)
		assert.Empty(t, g.inFlight())
		assert.Contains(t, out.String(), "Parse error")
	})
}
