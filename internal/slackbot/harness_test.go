package slackbot

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

// slackCall is one Web API call the bot made to the fake Slack.
type slackCall struct {
	Method string
	Form   url.Values      // form-encoded calls
	JSON   json.RawMessage // JSON calls (views.open)
}

// fakeSlack is slack-go's slacktest server with the routes the bot uses
// added or replaced (slacktest lacks chat.update, views.open,
// usergroups.users.list and answers users.info with one canned user),
// recording every call.
type fakeSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	calls []slackCall
	users map[string]string // Slack user id → email
	group []string          // members of any user group
	// failures queued per method: each call pops one (an HTTP status with
	// a body and headers), then the method succeeds again.
	failures map[string][]failure
	ts       int
}

type failure struct {
	status  int
	body    string
	headers map[string]string
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{users: map[string]string{}, failures: map[string][]failure{}}
	methods := []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "users.info", "usergroups.users.list", "chat.getPermalink"}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range methods {
			c.Handle("/"+m, f.handler(m))
		}
	})
	f.Start()
	t.Cleanup(f.Stop)
	go func() { // slacktest's SeenFeed is unbuffered: drain it or its websocket blocks
		for range f.SeenFeed {
		}
	}()
	return f
}

func (f *fakeSlack) api() *slack.Client {
	return slack.New("xoxb-test", slack.OptionAPIURL(f.GetAPIURL()))
}

func (f *fakeSlack) fail(method string, fl failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], fl)
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func (f *fakeSlack) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		call := slackCall{Method: method}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			call.JSON = body
		} else {
			call.Form, _ = url.ParseQuery(string(body))
			for k, v := range r.URL.Query() { // GET methods (chat.getPermalink)
				call.Form[k] = v
			}
		}
		f.mu.Lock()
		f.calls = append(f.calls, call)
		var fl *failure
		if q := f.failures[method]; len(q) > 0 {
			fl = &q[0]
			f.failures[method] = q[1:]
		}
		f.ts++
		ts := f.ts
		email, known := f.users[call.Form.Get("user")]
		group := f.group
		f.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		if fl != nil {
			for k, v := range fl.headers {
				w.Header().Set(k, v)
			}
			w.WriteHeader(fl.status)
			_, _ = io.WriteString(w, fl.body)
			return
		}
		switch method {
		case "chat.postMessage":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, call.Form.Get("channel"), ts)
		case "chat.update":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, call.Form.Get("channel"), call.Form.Get("ts"))
		case "chat.postEphemeral":
			fmt.Fprintf(w, `{"ok":true,"message_ts":"1700000000.%06d"}`, ts)
		case "chat.getPermalink":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"permalink":"https://example.slack.com/archives/%s/p%s"}`, call.Form.Get("channel"), call.Form.Get("channel"), strings.ReplaceAll(call.Form.Get("message_ts"), ".", ""))
		case "views.open":
			_, _ = io.WriteString(w, viewsOpenOK)
		case "usergroups.users.list":
			b, _ := json.Marshal(map[string]any{"ok": true, "users": group})
			_, _ = w.Write(b)
		case "users.info":
			if !known {
				_, _ = io.WriteString(w, `{"error":"user_not_found","ok":false}`)
				return
			}
			// The documented users.info answer, with this user's id and email.
			var doc map[string]any
			_ = json.Unmarshal([]byte(usersInfoOK), &doc)
			u := doc["user"].(map[string]any)
			u["id"] = call.Form.Get("user")
			u["profile"].(map[string]any)["email"] = email
			b, _ := json.Marshal(doc)
			_, _ = w.Write(b)
		}
	}
}

var usersInfoOK, viewsOpenOK string

func init() {
	b, _ := os.ReadFile("testdata/users.info.ok.json")
	usersInfoOK = string(b)
	b, _ = os.ReadFile("testdata/views.open.ok.json")
	viewsOpenOK = string(b)
}

// Calls returns the calls made so far, optionally only of some methods.
func (f *fakeSlack) Calls(methods ...string) []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// hooks is a response_url endpoint recording what the bot posts to it.
type hooks struct {
	*httptest.Server
	mu    sync.Mutex
	posts []hookPost
}

type hookPost struct {
	Path string
	Body slack.WebhookMessage
	Raw  string
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var m slack.WebhookMessage
		_ = json.Unmarshal(raw, &m)
		h.mu.Lock()
		h.posts = append(h.posts, hookPost{Path: r.URL.Path, Body: m, Raw: unescapedJSON(raw)})
		h.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hooks) Posts() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.posts...)
}

// unescapedJSON re-encodes JSON without Go's \u003c escapes, so tests can
// look for Slack mentions in it.
func unescapedJSON(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return sb.String()
}

// waitFor polls cond until it holds (work after an ack is asynchronous).
// It fails the test after 10 s; the timeout is a safety net, not a check.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sign computes Slack's v0 signature as Slack documents it:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func sign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signedRequest builds a POST as Slack sends it, signed now.
func signedRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(testSecret, ts, body))
	return req
}

// commandBody is the slash-command form Slack posts, from the documented
// fixture with this user, text and response_url.
func commandBody(t testing.TB, user, text, responseURL, trigger string) string {
	t.Helper()
	v, err := url.ParseQuery(testdata(t, "slash-command.form"))
	require.NoError(t, err)
	v.Set("command", "/certs")
	v.Set("user_id", user)
	v.Set("text", text)
	v.Set("response_url", responseURL)
	v.Set("trigger_id", trigger)
	return v.Encode()
}
