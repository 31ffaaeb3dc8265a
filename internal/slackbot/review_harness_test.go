package slackbot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// Helpers for the review tests: read the messages the bot left in the fake
// Slack, and click their buttons the way Slack sends the click (a signed
// block_actions payload carrying the message and its blocks).

// slackMsg is a message as the bot last left it in the fake Slack.
type slackMsg struct {
	Channel, TS, Text string
	Blocks            string // JSON array
}

// messagesIn returns the messages the bot posted to channel, in order,
// each as its last chat.update left it.
func messagesIn(fs *fakeSlack, channel string) []slackMsg {
	var out []slackMsg
	index := map[string]int{}
	for _, c := range fs.Calls("chat.postMessage", "chat.update") {
		if c.Form.Get("channel") != channel {
			continue
		}
		switch c.Method {
		case "chat.postMessage":
			if c.TS == "" {
				continue // refused
			}
			index[c.TS] = len(out)
			out = append(out, slackMsg{Channel: channel, TS: c.TS, Text: c.Form.Get("text"), Blocks: c.Form.Get("blocks")})
		case "chat.update":
			if i, ok := index[c.Form.Get("ts")]; ok {
				out[i].Text, out[i].Blocks = c.Form.Get("text"), c.Form.Get("blocks")
			}
		}
	}
	return out
}

// message returns the message with this ts.
func messageAt(t *testing.T, fs *fakeSlack, channel, ts string) slackMsg {
	t.Helper()
	for _, m := range messagesIn(fs, channel) {
		if m.TS == ts {
			return m
		}
	}
	t.Fatalf("no message %s in %s", ts, channel)
	return slackMsg{}
}

// personMessage returns the latest review message about the person named
// name.
func personMessage(t *testing.T, fs *fakeSlack, channel, name string) slackMsg {
	t.Helper()
	msgs := messagesIn(fs, channel)
	for i := len(msgs) - 1; i >= 0; i-- { // the latest review's
		if strings.HasPrefix(msgs[i].Text, "Review of "+name+"'s access") {
			return msgs[i]
		}
	}
	t.Fatalf("no review message about %s in %s", name, channel)
	return slackMsg{}
}

// findButton returns the value of the button actionID in the block blockID
// ("" for any block).
func findButton(blocksJSON, blockID, actionID string) (string, bool) {
	var blocks slack.Blocks
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return "", false
	}
	for _, bl := range blocks.BlockSet {
		ab, ok := bl.(*slack.ActionBlock)
		if !ok || ab.Elements == nil || (blockID != "" && ab.BlockID != blockID) {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
				return btn.Value, true
			}
		}
	}
	return "", false
}

func mustButton(t *testing.T, blocksJSON, blockID, actionID string) string {
	t.Helper()
	v, ok := findButton(blocksJSON, blockID, actionID)
	require.True(t, ok, "no %s button in block %q of %s", actionID, blockID, blocksJSON)
	return v
}

// clickPayload is the block_actions payload Slack sends for a click on a
// button of message m (the documented example with m's channel, ts and
// blocks); an ephemeral message has no ts or blocks in m.
func (b *bundle) clickPayload(t *testing.T, user string, m slackMsg, actionID, value string) string {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "block-actions.json")), &p))
	p["user"].(map[string]any)["id"] = user
	p["user"].(map[string]any)["username"] = strings.ToLower(user)
	p["channel"].(map[string]any)["id"] = m.Channel
	p["container"] = map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": m.Blocks == ""}
	msg := p["message"].(map[string]any)
	msg["ts"], msg["text"] = m.TS, m.Text
	if m.Blocks != "" {
		var blocks any
		require.NoError(t, json.Unmarshal([]byte(m.Blocks), &blocks))
		msg["blocks"] = blocks
	}
	p["response_url"] = b.hooks.URL + "/actions/" + b.trigger()
	p["trigger_id"] = b.trigger()
	act := p["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"], act["block_id"] = actionID, value, "review"
	act["action_ts"] = fmt.Sprintf("%d.%06d", t0.Unix(), b.trig.Add(1))
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	return url.Values{"payload": {string(raw)}}.Encode()
}

// press clicks the button actionID of block blockID in message m, as user.
func (b *bundle) press(t *testing.T, user string, m slackMsg, blockID, actionID string) {
	t.Helper()
	v, ok := findButton(m.Blocks, blockID, actionID)
	require.True(t, ok, "no %s button in block %q of %s", actionID, blockID, m.Blocks)
	b.pressValue(t, user, m, actionID, v)
}

// pressValue clicks a button with this value on message m (an ephemeral
// prompt, or a forged click).
func (b *bundle) pressValue(t *testing.T, user string, m slackMsg, actionID, value string) {
	t.Helper()
	code, _ := b.post(t, "/slack/interactions", b.clickPayload(t, user, m, actionID, value))
	require.Equal(t, http.StatusOK, code)
}

// openedView is the modal of the n-th views.open call (1-based).
func openedView(t *testing.T, fs *fakeSlack, n int) slack.ModalViewRequest {
	t.Helper()
	waitFor(t, fmt.Sprintf("views.open #%d", n), func() bool { return len(fs.Calls("views.open")) >= n })
	var open struct {
		View slack.ModalViewRequest `json:"view"`
	}
	require.NoError(t, json.Unmarshal(fs.Calls("views.open")[n-1].JSON, &open))
	return open.View
}

// submitReview posts the view_submission Slack sends when user submits the
// review modal v with this comment and end date ("" for none), and returns
// the bot's answer.
func (b *bundle) submitReview(t *testing.T, user string, v slack.ModalViewRequest, comment, date string) (int, viewAnswer) {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "view-submission.json")), &p))
	p["user"].(map[string]any)["id"] = user
	view := p["view"].(map[string]any)
	view["id"], view["hash"] = "V"+b.trigger(), b.trigger()
	view["callback_id"], view["private_metadata"] = v.CallbackID, v.PrivateMetadata
	values := map[string]any{reviewCommentBlock: map[string]any{reviewCommentAction: map[string]any{"type": "plain_text_input", "value": comment}}}
	if date != "" {
		values[reviewEndBlock] = map[string]any{reviewEndAction: map[string]any{"type": "datepicker", "selected_date": date}}
	}
	view["state"] = map[string]any{"values": values}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(signedRequest(t, b.server.URL+"/slack/interactions", url.Values{"payload": {string(raw)}}.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a viewAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

// viewAnswer is the bot's answer to a view_submission.
type viewAnswer struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// blocksOf is m's blocks.
func blocksOf(t *testing.T, m slackMsg) slack.Blocks {
	t.Helper()
	var bs slack.Blocks
	require.NoError(t, json.Unmarshal([]byte(m.Blocks), &bs))
	return bs
}
