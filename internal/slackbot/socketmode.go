package slackbot

import (
	"context"
	"encoding/json"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode serves the bot over Socket Mode until ctx ends: slack-go's
// client holds the WebSocket, and each slash command and interaction goes
// through the same Bot.Command / Bot.Interaction as over HTTP, its ack sent
// back with the envelope id. Envelopes need no signature check: the
// WebSocket was opened with the app-level token.
func (b *Bot) RunSocketMode(ctx context.Context, client *socketmode.Client) error {
	h := socketmode.NewSocketmodeHandler(client)
	h.Handle(socketmode.EventTypeSlashCommand, func(evt *socketmode.Event, c *socketmode.Client) {
		b.socketEvent(ctx, evt, c)
	})
	h.Handle(socketmode.EventTypeInteractive, func(evt *socketmode.Event, c *socketmode.Client) {
		b.socketEvent(ctx, evt, c)
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
	return h.RunEventLoopContext(ctx)
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
