package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Socket Mode over slacktest: its apps.connections.open hands out its own
// WebSocket, to which the test sends the documented envelopes; the bot's
// acks arrive back as inbound messages.
func TestSocketModeAcksEnvelopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(b.slack.GetAPIURL()), slack.OptionAppLevelToken("xapp-1-test"))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.bot.RunSocketMode(ctx, client, nil) }()

	acks := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, m := range b.slack.GetSeenInboundMessages() {
			var v map[string]any
			if json.Unmarshal([]byte(m), &v) == nil {
				if id, ok := v["envelope_id"].(string); ok {
					out[id] = v
				}
			}
		}
		return out
	}

	// A slash command (the envelope captured in slack-go issue 1265), with
	// our command text and response_url.
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "socket-mode.slash_commands.captured.json")), &env))
	p := env["payload"].(map[string]any)
	p["command"], p["text"], p["user_id"], p["response_url"] = "/certs", "show cert-1", alice, b.hooks.URL+"/socket"
	raw, _ := json.Marshal(env)
	b.slack.SendToWebsocket(string(raw))

	waitFor(t, "slash command ack", func() bool { _, ok := acks()["e16988f4-ac45-4b4a-93b4-1851a6f77e6d"]; return ok })
	ack := acks()["e16988f4-ac45-4b4a-93b4-1851a6f77e6d"]
	payload, _ := json.Marshal(ack["payload"])
	assert.Contains(t, string(payload), "Working on")
	assert.Contains(t, string(payload), `"response_type":"ephemeral"`)
	// The work was done after the ack, through the same handler as HTTP.
	reply := b.reply(t, 1)
	assert.Equal(t, "/socket", reply.Path)
	assert.Contains(t, reply.Raw, "3/10 decisions")

	// A block_actions envelope (the documented one): acked bare, exactly as
	// the documented ack.
	b.slack.SendToWebsocket(testdata(t, "socket-mode.interactive.block_actions.json"))
	waitFor(t, "interactive ack", func() bool { _, ok := acks()["dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"]; return ok })
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "socket-mode.interactive.ack.json")), &want))
	got := acks()["dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"]
	delete(got, "payload") // slack-go sends "payload":null for a bare ack
	assert.Equal(t, want, got)

	// An approve click over Socket Mode reaches the Service like one over HTTP.
	var click map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "socket-mode.interactive.block_actions.json")), &click))
	click["envelope_id"] = "env-approve"
	cp := click["payload"].(map[string]any)
	cp["user"].(map[string]any)["id"] = mallory
	cp["response_url"] = b.hooks.URL + "/socket-click"
	act := cp["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"] = actionApprove, "req-unknown"
	raw, _ = json.Marshal(click)
	b.slack.SendToWebsocket(string(raw))
	waitFor(t, "approve ack", func() bool { _, ok := acks()["env-approve"]; return ok })
	refusal := b.reply(t, 2)
	assert.Equal(t, "/socket-click", refusal.Path)
	assert.Contains(t, refusal.Body.Text, ":mag: Request req-unknown not found", "the Service was asked")

	// Slack's documented slash_commands envelope lacks is_enterprise_install,
	// which slack-go rejects; the bot still answers it.
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "socket-mode.slash_commands.json")), &env))
	env["envelope_id"] = "env-docs"
	p = env["payload"].(map[string]any)
	p["command"], p["text"] = "/certs", "help"
	raw, _ = json.Marshal(env)
	b.slack.SendToWebsocket(string(raw))
	waitFor(t, "docs envelope ack", func() bool { _, ok := acks()["env-docs"]; return ok })
	payload, _ = json.Marshal(acks()["env-docs"]["payload"])
	assert.Contains(t, string(payload), "reassign", "help in the ack")

	cancel()
	<-done
}

// socketBot is a bot whose logs the test reads, and a Socket Mode client
// for apiURL with the test's tokens.
func socketBot(t *testing.T, apiURL string) (*Bot, *lockedBuffer, *socketmode.Client) {
	t.Helper()
	logs := &lockedBuffer{}
	b := setupWith(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	api := slack.New("xoxb-secret-bot", slack.OptionAPIURL(apiURL), slack.OptionAppLevelToken("xapp-1-secret-app"))
	return b.bot, logs, socketmode.New(api)
}

// socketSlack is Slack's Socket Mode end as far as the connection goes:
// apps.connections.open hands out its WebSocket, which the test can cut,
// and then refuse.
type socketSlack struct {
	*httptest.Server
	refuse atomic.Bool
	conns  chan *websocket.Conn
}

func newSocketSlack(t *testing.T) *socketSlack {
	s := &socketSlack{conns: make(chan *websocket.Conn, 10)}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"url":"ws://`+r.Host+`/link/?ticket=secret-ticket"}`)
	})
	mux.HandleFunc("/link/", func(w http.ResponseWriter, r *http.Request) {
		if s.refuse.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil) // slack-go says Origin: https://api.slack.com
		if err != nil {
			return
		}
		_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
		s.conns <- c
		for { // until the test cuts it
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// accepted returns the next connection the bot opened.
func (s *socketSlack) accepted(t *testing.T, logs *lockedBuffer) *websocket.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatalf("the bot never connected; logs:\n%s", logs.String())
		return nil
	}
}

func TestSocketModeSaysWhatItDoes(t *testing.T) {
	t.Parallel()
	slackSide := newSocketSlack(t)
	bot, logs, client := socketBot(t, slackSide.URL+"/")
	var state SocketState
	require.ErrorContains(t, state.Ready(context.Background()), "not connected to Slack yet")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- bot.RunSocketMode(ctx, client, &state) }()

	conn := slackSide.accepted(t, logs)
	waitFor(t, "connected", func() bool { return state.Ready(ctx) == nil })
	assert.Contains(t, logs.String(), `msg="Socket Mode: connecting to Slack"`)
	assert.Contains(t, logs.String(), `msg="Socket Mode: connected to Slack" connection=1`)

	// Slack goes away: the connection breaks, and every retry fails.
	slackSide.refuse.Store(true)
	_ = conn.Close()
	waitFor(t, "a failed retry", func() bool {
		return strings.Contains(logs.String(), `msg="Socket Mode: could not connect to Slack; retrying" attempt=1`)
	})
	out := logs.String()
	assert.Contains(t, out, `msg="Socket Mode: disconnected from Slack; reconnecting" connection=2`)
	assert.Contains(t, out, "retry_in=")
	assert.ErrorContains(t, state.Ready(ctx), "Socket Mode: cannot connect to Slack")

	// Slack is back: the bot reconnects by itself.
	slackSide.refuse.Store(false)
	slackSide.accepted(t, logs)
	waitFor(t, "reconnected", func() bool { return state.Ready(ctx) == nil })
	assert.Contains(t, logs.String(), `msg="Socket Mode: connected to Slack" connection=2`)

	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Contains(t, logs.String(), `msg="Socket Mode: disconnected from Slack (shutting down)"`)
	assert.ErrorContains(t, state.Ready(ctx), "stopped")
	assert.NotContains(t, logs.String(), "secret", "no token or ticket in the logs")
}

func TestSocketModeRefusedToken(t *testing.T) {
	t.Parallel()
	for code, answer := range map[string]func(http.ResponseWriter){
		"invalid_auth":  func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`) },
		"404 Not Found": func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
	} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				answer(w)
			}))
			t.Cleanup(srv.Close)
			bot, logs, client := socketBot(t, srv.URL+"/")
			var state SocketState
			err := bot.RunSocketMode(context.Background(), client, &state)
			require.Error(t, err)
			got, ok := TokenRefused(err)
			assert.True(t, ok, "%v", err)
			assert.Equal(t, code, got)
			assert.ErrorContains(t, state.Ready(context.Background()), "Slack refused the app-level token ("+code+")")
			assert.NotContains(t, logs.String(), "secret")
		})
	}
	_, ok := TokenRefused(errors.New("dial tcp: connection refused"))
	assert.False(t, ok, "an unreachable Slack is no refusal")
}

func TestRedact(t *testing.T) {
	assert.Equal(t, `dial wss://wss.slack.com/link/?ticket=…&app_id=A1: refused; token xapp-… and xoxb-…`,
		redact(`dial wss://wss.slack.com/link/?ticket=3f2a-99&app_id=A1: refused; token xapp-1-A1-123-abc and xoxb-123-456`))
}
