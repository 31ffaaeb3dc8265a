package slackbot

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

// slackCall is one Web API call the bot made to the fake Slack.
type slackCall = slackfake.Call

// fakeSlack is the shared fake Slack (package slackfake) with the tables
// these tests fill in directly: users (Slack user id → email, answered by
// users.info) and group (the members of any user group). Fill them before
// the bot runs.
type fakeSlack struct {
	*slackfake.Server
	users map[string]string
	group []string
}

// failure is an answer a method gives once instead of succeeding.
type failure struct {
	status  int
	body    string
	headers map[string]string
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{users: map[string]string{}}
	f.Server = slackfake.New(t,
		slackfake.UsersInfoFixture([]byte(testdata(t, "users.info.ok.json"))),
		slackfake.ViewsOpenAnswer([]byte(testdata(t, "views.open.ok.json"))),
		slackfake.LookupUsers(func(id string) (slackfake.User, bool) {
			email, ok := f.users[id]
			return slackfake.User{Email: email}, ok
		}),
		slackfake.LookupGroups(func(string) []string { return f.group }),
	)
	return f
}

func (f *fakeSlack) api() *slack.Client { return f.Client("xoxb-test") }

func (f *fakeSlack) fail(method string, fl failure) {
	f.Fail(method, slackfake.Failure{Status: fl.status, Body: fl.body, Header: fl.headers})
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
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

// sign is Slack's v0 request signature of body at timestamp ts.
var sign = slackfake.Signature

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signedRequest builds a POST as Slack sends it, signed now.
func signedRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	req, err := slackfake.SignedRequest(context.Background(), url, testSecret, body, time.Now())
	require.NoError(t, err)
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
