package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// gate is a tenant whose next API call (once armed) waits until released,
// so a test can act while a call is certainly in flight.
type gate struct {
	next    http.Handler
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newGate(next http.Handler) *gate {
	return &gate{next: next, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/oauth/") && g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	g.next.ServeHTTP(w, r)
}

// responseURL records what the bot posts to a command's response_url.
type responseURL struct {
	mu    sync.Mutex
	posts []string
}

func (rs *responseURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rs.mu.Lock()
	rs.posts = append(rs.posts, string(b))
	rs.mu.Unlock()
}

func (rs *responseURL) Posts() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.posts...)
}

func TestShutdownFinishesInFlightWork(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	setEnv(t, fake.GetAPIURL())
	g := newGate(sandbox.New(sandbox.Config{}))
	tenant := httptest.NewServer(g)
	t.Cleanup(tenant.Close)
	t.Setenv("SAIL_BASE_URL", tenant.URL)
	t.Setenv("SAIL_CLIENT_ID", sandbox.AdminClientID)
	t.Setenv("SAIL_CLIENT_SECRET", sandbox.AdminClientSecret)
	replies := &responseURL{}
	hook := httptest.NewServer(replies)
	t.Cleanup(hook.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lockedBuffer{}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"slackbot", "--addr", "127.0.0.1:0"}, pw, logs)
		pw.Close()
	}()
	// Read stdout line by line until the listening line: one Read may
	// return less, or another line first.
	lines := bufio.NewScanner(pr)
	var m []string
	for m == nil && lines.Scan() {
		m = regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text())
	}
	require.NotNil(t, m, "logs:\n%s", logs.String())
	base := m[1]
	go io.Copy(io.Discard, pr)

	// A command is acknowledged at once; its work then calls SailPoint,
	// where it is held.
	g.armed.Store(true)
	body := url.Values{"command": {"/certs"}, "text": {"list"}, "user_id": {"U1"}, "user_name": {"alice"}, "channel_id": {"C1"},
		"trigger_id": {"t1"}, "response_url": {hook.URL + "/reply"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader(body))
	ts := fmt.Sprint(time.Now().Unix())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(ts, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	ack, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(ack), "Working on")
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the command's work never reached SailPoint; logs:\n%s", logs.String())
	}

	start := time.Now()
	cancel() // as SIGTERM does
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "still accepting connections after shutdown began")
	assert.Empty(t, replies.Posts(), "the work is still held")

	close(g.release)
	select {
	case err := <-done:
		require.NoError(t, err, "a clean shutdown; logs:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return; logs:\n%s", logs.String())
	}
	t.Logf("shutdown took %s after the work was released", time.Since(start).Round(time.Millisecond))
	require.Len(t, replies.Posts(), 1, "the in-flight work answered before run returned")
	assert.Contains(t, logs.String(), "shut down")
	assert.NotContains(t, logs.String(), "level=ERROR")
}
