package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certops/certops/internal/slackbot/slackfake"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// fakeSlack is the shared fake Slack (package slackfake), answering
// users.info from the documented example in testdata. Both bot replicas
// talk to it, as they would to Slack.
type fakeSlack struct{ *slackfake.Server }

// slackCall is one Web API call a bot made.
type slackCall = slackfake.Call

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	usersInfo, err := os.ReadFile("testdata/users.info.ok.json")
	require.NoError(t, err)
	return &fakeSlack{slackfake.New(t,
		slackfake.UsersInfoFixture(usersInfo),
		slackfake.ViewsOpenAnswer([]byte(`{"ok":true,"view":{"id":"VE2E"}}`)),
	)}
}

// setUser makes users.info answer for a Slack user with this email (and
// the id as real name).
func (f *fakeSlack) setUser(id, email string) {
	f.PutUser(id, slackfake.User{Email: email, RealName: id})
}

// buttonValue finds the button with actionID in a message's blocks (as the
// bot posted them) and returns its value.
func buttonValue(blocksJSON, actionID string) (string, bool) {
	var blocks slack.Blocks
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return "", false
	}
	for _, b := range blocks.BlockSet {
		ab, ok := b.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
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

// responseHooks stands in for Slack's response_url endpoints: the bot
// answers a click there (ephemerally), e.g. "already approved by …".
type responseHooks struct {
	*httptest.Server
	mu    sync.Mutex
	posts map[string][]string // path → raw bodies
}

func newResponseHooks(t *testing.T) *responseHooks {
	h := &responseHooks{posts: map[string][]string{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.posts[r.URL.Path] = append(h.posts[r.URL.Path], string(raw))
		h.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *responseHooks) Posts(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.posts[path]...)
}

// click is one approver's click on a button of the approval message.
type click struct {
	user, channel, messageTS, actionID, value, responseURL, triggerID, actionTS string
}

// interactionRequest builds the signed block_actions POST Slack sends for
// c (the documented example payload, with c's user, channel, message and
// action).
func interactionRequest(t *testing.T, botURL, secret string, c click) *http.Request {
	t.Helper()
	raw, err := os.ReadFile("testdata/block-actions.json")
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal(raw, &p))
	p["user"].(map[string]any)["id"] = c.user
	p["user"].(map[string]any)["username"] = strings.ToLower(c.user)
	p["channel"].(map[string]any)["id"] = c.channel
	p["container"] = map[string]any{"type": "message", "message_ts": c.messageTS, "channel_id": c.channel, "is_ephemeral": false}
	p["message"].(map[string]any)["ts"] = c.messageTS
	p["response_url"] = c.responseURL
	p["trigger_id"] = c.triggerID
	act := p["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"], act["action_ts"], act["block_id"] = c.actionID, c.value, c.actionTS, "decide"
	act["text"] = map[string]any{"type": "plain_text", "text": "Approve"}
	payload, err := json.Marshal(p)
	require.NoError(t, err)
	body := url.Values{"payload": {string(payload)}}.Encode()

	req, err := slackfake.SignedRequest(context.Background(), botURL+"/slack/interactions", secret, body, time.Now())
	require.NoError(t, err)
	return req
}
