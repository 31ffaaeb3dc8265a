package slackbot

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// message is what the bot says: a fallback text (notifications, screen
// readers) and Block Kit blocks.
type message struct {
	Text   string
	Blocks []slack.Block
}

// ackBody is the JSON written in an HTTP acknowledgement or sent as a Socket
// Mode ack payload.
type ackBody struct {
	ResponseType string        `json:"response_type,omitempty"`
	Text         string        `json:"text,omitempty"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func (m message) empty() bool { return m.Text == "" && len(m.Blocks) == 0 }

func (m message) ack() *ackBody {
	if m.empty() {
		return nil
	}
	return &ackBody{ResponseType: slack.ResponseTypeEphemeral, Text: m.Text, Blocks: m.Blocks}
}

// Slack's rule for a response_url: at most 5 uses within 30 minutes of the
// payload that carried it.
const (
	responseURLUses = 5
	responseURLLife = 30 * time.Minute
)

// responder answers one user in one channel, through the payload's
// response_url while Slack's rule allows, then with chat.postEphemeral.
type responder struct {
	bot      *Bot
	url      string
	channel  string
	user     string
	received time.Time

	mu   sync.Mutex
	uses int
}

func (b *Bot) newResponder(url, channel, user string) *responder {
	if url != "" && !b.cfg.AnyResponseURL && !slackResponseURL(url) {
		// A signed payload, but the bot posts only to Slack's own hosts
		// (the URL itself is not logged: it works as a credential).
		b.log.Warn("slackbot: response_url is not Slack's; answering with chat.postEphemeral", "host", hostOf(url), "user", user)
		url = ""
	}
	return &responder{bot: b, url: url, channel: channel, user: user, received: b.cfg.Now()}
}

// slackResponseHosts are the hosts of Slack's response_urls:
// hooks.slack.com, and hooks.slack-gov.com for GovSlack workspaces.
var slackResponseHosts = []string{"hooks.slack.com", "hooks.slack-gov.com"}

// slackResponseURL reports whether raw is a response_url of Slack's own:
// https, on one of slackResponseHosts, on the default port, with no user
// info.
func slackResponseURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return false
	}
	return slices.Contains(slackResponseHosts, strings.ToLower(u.Hostname()))
}

// hostOf is raw's host, for logs.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Host
}

// take reserves one use of the response_url, if one is left.
func (r *responder) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.url == "" || r.uses >= responseURLUses || r.bot.cfg.Now().Sub(r.received) >= responseURLLife {
		return false
	}
	r.uses++
	return true
}

// send posts m to the user, ephemerally. replace replaces the message that
// carried the response_url (an interaction's source message).
func (r *responder) send(ctx context.Context, m message, replace bool) error {
	if r.take() {
		wm := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: replace}
		if len(m.Blocks) > 0 {
			wm.Blocks = &slack.Blocks{BlockSet: m.Blocks}
		}
		if err := slack.PostWebhookCustomHTTPContext(ctx, r.url, r.bot.cfg.HTTPClient, wm); err != nil {
			return fmt.Errorf("post to response_url: %w", err)
		}
		return nil
	}
	if r.channel == "" || r.user == "" {
		return fmt.Errorf("response_url used up and no channel to answer in")
	}
	_, err := r.bot.api.PostEphemeralContext(ctx, r.channel, r.user, msgOptions(m)...)
	if err != nil {
		return fmt.Errorf("chat.postEphemeral: %w", err)
	}
	return nil
}

func msgOptions(m message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	return opts
}
