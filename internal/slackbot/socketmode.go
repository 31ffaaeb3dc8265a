package slackbot

import (
	"context"

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
		if evt.Type == socketmode.EventTypeErrorBadMessage {
			b.log.Warn("slackbot: Socket Mode message slack-go could not parse", "data", evt.Data)
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
