package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"
)

// fakeSlack is slack-go's slacktest server with the Web API methods the bot
// calls added or replaced (slacktest lacks chat.update, chat.getPermalink,
// views.open and usergroups.users.list, and answers users.info with one
// canned user), recording every call. Both bot replicas talk to it, as
// they would to Slack.
type fakeSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	calls []slackCall
	users map[string]string // Slack user id → email
	ts    int
}

// slackCall is one Web API call a bot made.
type slackCall struct {
	Method string
	Form   url.Values
	At     time.Time
	TS     string // the ts a chat.postMessage was answered with
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	usersInfo, err := os.ReadFile("testdata/users.info.ok.json")
	require.NoError(t, err)
	f := &fakeSlack{users: map[string]string{}}
	methods := []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.getPermalink", "views.open", "users.info", "usergroups.users.list"}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range methods {
			c.Handle("/"+m, f.handler(m, string(usersInfo)))
		}
	})
	f.Start()
	t.Cleanup(f.Stop)
	go func() { // slacktest's SeenFeed is unbuffered: drain it or its handlers block
		for range f.SeenFeed {
		}
	}()
	return f
}

// setUser makes users.info answer for a Slack user with this email.
func (f *fakeSlack) setUser(id, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = email
}

func (f *fakeSlack) handler(method, usersInfo string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		f.ts++
		ts := f.ts
		f.calls = append(f.calls, slackCall{Method: method, Form: form, At: time.Now(), TS: fmt.Sprintf("1700000000.%06d", ts)})
		email, known := f.users[form.Get("user")]
		f.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "chat.postMessage":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, form.Get("channel"), ts)
		case "chat.update":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, form.Get("channel"), form.Get("ts"))
		case "chat.postEphemeral":
			fmt.Fprintf(w, `{"ok":true,"message_ts":"1700000000.%06d"}`, ts)
		case "chat.getPermalink":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"permalink":"https://example.slack.com/archives/%s/p%s"}`,
				form.Get("channel"), form.Get("channel"), strings.ReplaceAll(form.Get("message_ts"), ".", ""))
		case "views.open":
			_, _ = io.WriteString(w, `{"ok":true,"view":{"id":"VE2E"}}`)
		case "usergroups.users.list":
			_, _ = io.WriteString(w, `{"ok":true,"users":[]}`)
		case "users.info":
			if !known {
				_, _ = io.WriteString(w, `{"ok":false,"error":"user_not_found"}`)
				return
			}
			// The documented users.info answer, with this user's id and email.
			var doc map[string]any
			_ = json.Unmarshal([]byte(usersInfo), &doc)
			u := doc["user"].(map[string]any)
			u["id"] = form.Get("user")
			u["real_name"] = form.Get("user")
			u["profile"].(map[string]any)["email"] = email
			b, _ := json.Marshal(doc)
			_, _ = w.Write(b)
		}
	}
}

// Calls returns the calls made so far of the given methods.
func (f *fakeSlack) Calls(methods ...string) []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		for _, m := range methods {
			if c.Method == m {
				out = append(out, c)
			}
		}
	}
	return out
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

// sign computes Slack's v0 request signature:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func sign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
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

	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, botURL+"/slack/interactions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(secret, ts, body))
	return req
}
