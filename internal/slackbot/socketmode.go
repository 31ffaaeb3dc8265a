package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode serves the bot over Socket Mode until ctx ends: slack-go's
// client holds the WebSocket, and each slash command and interaction goes
// through the same Bot.Command / Bot.Interaction as over HTTP, its ack sent
// back with the envelope id. Envelopes need no signature check: the
// WebSocket was opened with the app-level token.
//
// It logs what the connection does (connecting, connected, lost,
// reconnecting, retrying after a failure) and keeps state, when not nil,
// up to date for /readyz. slack-go gives up, and RunSocketMode returns its
// error, when Slack refuses the app-level token (TokenRefused tells).
func (b *Bot) RunSocketMode(ctx context.Context, client *socketmode.Client, state *SocketState) error {
	h := socketmode.NewSocketmodeHandler(client)
	h.Handle(socketmode.EventTypeSlashCommand, func(evt *socketmode.Event, c *socketmode.Client) {
		b.socketEvent(ctx, evt, c)
	})
	h.Handle(socketmode.EventTypeInteractive, func(evt *socketmode.Event, c *socketmode.Client) {
		b.socketEvent(ctx, evt, c)
	})
	h.Handle(socketmode.EventTypeEventsAPI, func(evt *socketmode.Event, c *socketmode.Client) {
		b.socketEvent(ctx, evt, c) // app_home_opened (events.go)
	})
	h.HandleDefault(func(evt *socketmode.Event, c *socketmode.Client) {
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			b.recoverBadMessage(ctx, c, bad)
			return
		}
		// Anything else with an envelope is acked so Slack does not retry
		// it; connection events have none.
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			_ = c.Ack(*evt.Request)
		}
	})
	if state == nil {
		state = &SocketState{}
	}
	// SocketmodeHandler's own loop runs every handler on a goroutine of its
	// own, connection events included, so they could be seen out of order;
	// here they are seen in order, then dispatched.
	loop, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				b.socketConnection(evt, state)
				h.DispatchEvent(evt)
			case <-loop.Done():
				return
			}
		}
	}()
	err := client.RunContext(ctx)
	switch {
	case ctx.Err() != nil:
		state.set(false, "Socket Mode stopped")
		b.log.Info("Socket Mode: disconnected from Slack (shutting down)")
		return ctx.Err()
	case err != nil:
		why := "Slack's Socket Mode connection failed: " + redact(err.Error())
		if code, ok := TokenRefused(err); ok {
			why = "Slack refused the app-level token (" + code + ")"
		}
		state.set(false, why)
	}
	return err
}

// SocketState is what the Socket Mode connection is doing, for /readyz: in
// Socket Mode the bot takes slash commands only while connected. The zero
// value is not connected. It is safe for concurrent use.
type SocketState struct {
	mu        sync.Mutex
	connected bool
	why       string // why not connected
}

// Ready returns nil while the socket is connected, and says why not
// otherwise.
func (s *SocketState) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.connected:
		return nil
	case s.why == "":
		return errors.New("Socket Mode: not connected to Slack yet")
	}
	return errors.New("Socket Mode: " + s.why)
}

// set records the connection's state and returns whether it was connected.
func (s *SocketState) set(connected bool, why string) (was bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was, s.connected, s.why = s.connected, connected, why
	return was
}

// socketConnection logs a connection event of slack-go's and keeps state.
// slack-go tells of a lost connection only by connecting again (and, for a
// failed read, by an incoming_error event first); Slack's own requests to
// reconnect (a "disconnect" message, every few hours) look the same.
func (b *Bot) socketConnection(evt socketmode.Event, state *SocketState) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		e, _ := evt.Data.(*slack.ConnectingEvent)
		if e == nil {
			e = &slack.ConnectingEvent{Attempt: 1}
		}
		was := state.set(false, "connecting to Slack")
		switch {
		case e.Attempt > 1:
			b.log.Debug("Socket Mode: connecting to Slack", "attempt", e.Attempt)
		case e.ConnectionCount == 0:
			b.log.Info("Socket Mode: connecting to Slack")
		case was:
			b.log.Info("Socket Mode: disconnected from Slack; reconnecting", "connection", e.ConnectionCount+1)
		default:
			b.log.Info("Socket Mode: reconnecting to Slack", "connection", e.ConnectionCount+1)
		}
	case socketmode.EventTypeConnectionError:
		e, _ := evt.Data.(*slack.ConnectionErrorEvent)
		attrs := []any{}
		why := "cannot connect to Slack"
		if e != nil {
			msg := redact(fmt.Sprint(e.ErrorObj))
			attrs = append(attrs, "attempt", e.Attempt, "retry_in", e.Backoff.Round(time.Millisecond), "err", msg)
			why += ": " + msg
		}
		state.set(false, why)
		b.log.Warn("Socket Mode: could not connect to Slack; retrying", attrs...)
	case socketmode.EventTypeInvalidAuth:
		state.set(false, "Slack refused the app-level token")
		b.log.Error("Socket Mode: Slack refused the app-level token; not retrying")
	case socketmode.EventTypeConnected:
		e, _ := evt.Data.(*socketmode.ConnectedEvent)
		attrs := []any{}
		if e != nil {
			attrs = append(attrs, "connection", e.ConnectionCount+1)
		}
		state.set(true, "")
		b.log.Info("Socket Mode: connected to Slack", attrs...)
	case socketmode.EventTypeIncomingError:
		e, _ := evt.Data.(*slack.IncomingEventError)
		why := "the connection to Slack was lost"
		attrs := []any{}
		if e != nil {
			attrs = append(attrs, "err", redact(fmt.Sprint(e.ErrorObj)))
		}
		if state.set(false, why) {
			b.log.Warn("Socket Mode: "+why, attrs...)
		}
	case socketmode.EventTypeDisconnect:
		state.set(false, "Slack asked to reconnect")
		b.log.Info("Socket Mode: Slack asked to reconnect")
	case socketmode.EventTypeHello:
		b.log.Debug("Socket Mode: hello from Slack")
	}
}

// TokenRefused reports whether err is Slack refusing a token (as opposed to
// Slack being unreachable), and Slack's error code.
func TokenRefused(err error) (code string, ok bool) {
	var resp slack.SlackErrorResponse
	if errors.As(err, &resp) {
		switch resp.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type", "missing_scope":
			return resp.Err, true
		}
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) && (status.Code == http.StatusUnauthorized || status.Code == http.StatusForbidden || status.Code == http.StatusNotFound) {
		return status.Status, true
	}
	return "", false
}

// secretish are the parts of an error text that must not reach a log:
// tokens that found their way into a message, and the one-time ticket of a
// Socket Mode WebSocket URL.
var secretish = regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|ticket=[^&\s"]+`)

// redact hides what secretish matches.
func redact(s string) string {
	return secretish.ReplaceAllStringFunc(s, func(m string) string {
		if k, _, ok := strings.Cut(m, "="); ok {
			return k + "=…"
		}
		return m[:strings.Index(m, "-")+1] + "…"
	})
}

// socketEvent handles one envelope and acks it.
func (b *Bot) socketEvent(ctx context.Context, evt *socketmode.Event, c *socketmode.Client) {
	if evt.Request == nil {
		return
	}
	payload := b.SocketPayload(ctx, evt)
	if payload == nil {
		if err := c.Ack(*evt.Request); err != nil {
			b.log.Warn("slackbot: Socket Mode ack failed", "envelope", evt.Request.EnvelopeID, "err", err)
		}
		return
	}
	if err := c.Ack(*evt.Request, payload); err != nil {
		// Too big for an ack (slack-go refuses 20 KB): ack bare and answer
		// through response_url instead.
		b.log.Warn("slackbot: Socket Mode ack with payload failed; answering through response_url", "err", err)
		_ = c.Ack(*evt.Request)
		if sc, ok := evt.Data.(slack.SlashCommand); ok {
			if m, ok := payload.(*ackBody); ok {
				r := b.newResponder(sc.ResponseURL, sc.ChannelID, sc.UserID)
				_ = r.send(context.WithoutCancel(ctx), message{Text: m.Text, Blocks: m.Blocks}, false)
			}
		}
	}
}

// SocketPayload runs the shared handler for a Socket Mode event and returns
// the ack payload (nil for a bare ack).
func (b *Bot) SocketPayload(ctx context.Context, evt *socketmode.Event) any {
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		if p := b.Command(ctx, data).ack(); p != nil {
			return p
		}
	case slack.InteractionCallback:
		return b.Interaction(ctx, data)
	case slackevents.EventsAPIEvent:
		b.Event(ctx, data) // a bare ack
	}
	return nil
}

// recoverBadMessage handles an envelope slack-go could not parse. Slack's
// documented slash_commands envelope omits is_enterprise_install, which
// slack-go's SlashCommand requires; such a command is parsed again with the
// field defaulted to false. Anything else is acked bare so that Slack does
// not redeliver it, and logged.
func (b *Bot) recoverBadMessage(ctx context.Context, c *socketmode.Client, bad *socketmode.ErrorBadMessage) {
	var env struct {
		EnvelopeID string                     `json:"envelope_id"`
		Type       string                     `json:"type"`
		Payload    map[string]json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(bad.Message, &env); err != nil || env.EnvelopeID == "" {
		b.log.Warn("slackbot: unreadable Socket Mode message", "err", bad.Cause)
		return
	}
	req := socketmode.Request{EnvelopeID: env.EnvelopeID, Type: env.Type}
	if env.Type == string(socketmode.RequestTypeSlashCommands) && env.Payload != nil {
		if _, ok := env.Payload["is_enterprise_install"]; !ok {
			env.Payload["is_enterprise_install"] = json.RawMessage("false")
		}
		raw, _ := json.Marshal(env.Payload)
		var sc slack.SlashCommand
		if err := json.Unmarshal(raw, &sc); err == nil {
			b.socketEvent(ctx, &socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: sc, Request: &req}, c)
			return
		}
	}
	b.log.Warn("slackbot: Socket Mode envelope slack-go could not parse; acknowledged and dropped", "type", env.Type, "err", bad.Cause)
	_ = c.Ack(req)
}
