package slackbot

import (
	"context"
	"encoding/json"
	"testing"

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
	go func() { done <- b.bot.RunSocketMode(ctx, client) }()

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
	assert.Contains(t, refusal.Body.Text, ":mag: request req-unknown not found", "the Service was asked")

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
