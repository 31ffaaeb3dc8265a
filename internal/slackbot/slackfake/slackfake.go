// Package slackfake is the fake Slack that certops' tests talk to: slack-go's
// slacktest server with the Web API methods the bot calls answered as Slack
// documents them, every call recorded, and helpers that sign requests the
// way Slack signs the ones it sends to the bot.
//
// slacktest alone does not do: it lacks chat.update, chat.getPermalink,
// views.open, usergroups.users.list and the file upload flow (files.go), answers users.info with one canned
// user, and records nothing a test can assert on. The unit tests of
// internal/slackbot and the end-to-end test of internal/e2e share this one
// fake so both see the same Slack.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Methods are the Web API methods the fake answers and records.
var Methods = []string{
	"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.getPermalink",
	"views.open", "users.info", "usergroups.users.list",
	"files.getUploadURLExternal", "files.completeUploadExternal",
	// conversations.go
	"conversations.open", "conversations.history", "users.lookupByEmail", "views.publish",
}

// Call is one Web API call made to the fake.
type Call struct {
	Method string
	// Form holds a form-encoded call's fields, and a GET's query
	// (chat.getPermalink). It is nil for JSON calls.
	Form url.Values
	// JSON is a JSON call's body (views.open).
	JSON json.RawMessage
	// At is when the fake received the call.
	At time.Time
	// TS is the message ts the call was answered with (chat.postMessage,
	// and chat.postEphemeral's message_ts); empty otherwise.
	TS string
}

// Failure is an answer a method gives once instead of succeeding: an HTTP
// status, a body (e.g. Slack's {"ok":false,"error":"…"}) and headers
// (e.g. Retry-After with a 429).
type Failure struct {
	Status int
	Body   string
	Header map[string]string
}

// User is what users.info answers for a Slack user id.
type User struct {
	Email string
	// RealName replaces the users.info fixture's real_name; empty keeps it.
	RealName string
	// TZ is the user's time zone (users.info's tz, e.g. "Europe/Paris");
	// empty keeps the fixture's.
	TZ string
}

// Server is the fake Slack. Point a slack.Client at it with
// slack.OptionAPIURL(s.GetAPIURL()), or use s.Client.
type Server struct {
	*slacktest.Server

	usersInfo []byte // the users.info answer each user's answer is made from
	viewsOpen []byte
	lookup    func(id string) (User, bool)
	members   func(group string) []string
	onCall    func(Call)

	mu       sync.Mutex
	calls    []Call
	users    map[string]User
	groups   map[string][]string
	failures map[string][]Failure // per method, popped one per call
	ts       int

	files     map[string]*File    // uploads (files.go), by id
	convs     map[string][]posted // messages by conversation (conversations.go)
	fileOrder []string
}

// Option configures a Server.
type Option func(*Server)

// UsersInfoFixture sets the users.info answer (Slack's documented example,
// from the caller's testdata) that each known user's answer is made from:
// its user.id, user.profile.email and (if set) user.real_name are replaced.
// The default is a minimal {"ok":true,"user":{…}} document.
func UsersInfoFixture(doc []byte) Option { return func(s *Server) { s.usersInfo = doc } }

// ViewsOpenAnswer sets the body views.open answers with. The default is
// {"ok":true,"view":{"id":"VFAKE"}}.
func ViewsOpenAnswer(body []byte) Option { return func(s *Server) { s.viewsOpen = body } }

// LookupUsers makes users.info ask lookup instead of the users set with
// SetUser, for tests that keep their own table of users.
func LookupUsers(lookup func(id string) (User, bool)) Option {
	return func(s *Server) { s.lookup = lookup }
}

// LookupGroups makes usergroups.users.list ask members instead of the
// groups set with SetUserGroup.
func LookupGroups(members func(group string) []string) Option {
	return func(s *Server) { s.members = members }
}

// OnCall has f told of each Web API call, after it is recorded and before
// it is answered, in the goroutine serving it: f must not block for long
// (the console of cmd/slackbot queues what it is told).
func OnCall(f func(Call)) Option { return func(s *Server) { s.onCall = f } }

// TB is the part of testing.TB that New uses; *testing.T and *testing.B
// satisfy it. The package does not import testing, so that a program (the
// console of cmd/slackbot) can use the fake through Start.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts a fake Slack, stopped when t ends.
func New(t TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start starts a fake Slack on a loopback port; Stop stops it.
func Start(opts ...Option) (*Server, error) {
	s := &Server{
		usersInfo: []byte(`{"ok":true,"user":{"id":"","name":"","real_name":"","profile":{"email":""}}}`),
		viewsOpen: []byte(`{"ok":true,"view":{"id":"VFAKE"}}`),
		users:     map[string]User{},
		groups:    map[string][]string{},
		failures:  map[string][]Failure{},
	}
	for _, o := range opts {
		o(s)
	}
	var doc map[string]any
	if err := json.Unmarshal(s.usersInfo, &doc); err != nil {
		return nil, fmt.Errorf("slackfake: users.info fixture: %w", err)
	}
	if _, ok := doc["user"].(map[string]any); !ok {
		return nil, fmt.Errorf("slackfake: users.info fixture has no user object")
	}
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range Methods {
			c.Handle("/"+m, s.handler(m))
		}
		c.Handle(uploadPath, s.upload)
	})
	s.Server.Start()
	go func() { // slacktest's SeenFeed is unbuffered: drain it or its handlers block
		for range s.SeenFeed {
		}
	}()
	return s, nil
}

// Client returns a slack.Client for the fake with this bot token.
func (s *Server) Client(token string, opts ...slack.Option) *slack.Client {
	return slack.New(token, append([]slack.Option{slack.OptionAPIURL(s.GetAPIURL())}, opts...)...)
}

// SetUser makes users.info answer for the Slack user id with this email.
// Unknown users get user_not_found.
func (s *Server) SetUser(id, email string) { s.PutUser(id, User{Email: email}) }

// PutUser makes users.info answer for the Slack user id with u.
func (s *Server) PutUser(id string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = u
}

// SetUserGroup sets the members usergroups.users.list answers for group.
func (s *Server) SetUserGroup(group string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = members
}

// Fail queues f for method: its next call gets f, later calls succeed
// again (or get the next queued failure).
func (s *Server) Fail(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], f)
}

// Calls returns the calls made so far, in order, of the given methods, or
// of all methods when none is given.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		call := Call{Method: method, At: time.Now()}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			call.JSON = body
		} else {
			call.Form, _ = url.ParseQuery(string(body))
			for k, v := range r.URL.Query() { // GET methods (chat.getPermalink)
				call.Form[k] = v
			}
		}

		s.mu.Lock()
		s.ts++
		ts := fmt.Sprintf("1700000000.%06d", s.ts)
		var fl *Failure
		if q := s.failures[method]; len(q) > 0 {
			fl = &q[0]
			s.failures[method] = q[1:]
		}
		if fl == nil && (method == "chat.postMessage" || method == "chat.postEphemeral") {
			call.TS = ts
		}
		if fl == nil && method == "chat.postMessage" {
			s.record(call, ts)
		}
		s.calls = append(s.calls, call)
		user, known := s.users[call.Form.Get("user")]
		members := s.groups[call.Form.Get("usergroup")]
		s.mu.Unlock()
		// The lookups run outside s.mu: they belong to the test.
		if s.onCall != nil {
			s.onCall(call)
		}
		if s.lookup != nil {
			user, known = s.lookup(call.Form.Get("user"))
		}
		if s.members != nil {
			members = s.members(call.Form.Get("usergroup"))
		}

		w.Header().Set("Content-Type", "application/json")
		if fl != nil {
			for k, v := range fl.Header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(fl.Status)
			_, _ = io.WriteString(w, fl.Body)
			return
		}
		switch method {
		case "chat.postMessage":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, call.Form.Get("channel"), ts)
		case "chat.update":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, call.Form.Get("channel"), call.Form.Get("ts"))
		case "chat.postEphemeral":
			fmt.Fprintf(w, `{"ok":true,"message_ts":%q}`, ts)
		case "chat.getPermalink":
			ch := call.Form.Get("channel")
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"permalink":"https://example.slack.com/archives/%s/p%s"}`,
				ch, ch, strings.ReplaceAll(call.Form.Get("message_ts"), ".", ""))
		case "views.open":
			_, _ = w.Write(s.viewsOpen)
		case "usergroups.users.list":
			if members == nil {
				members = []string{}
			}
			b, _ := json.Marshal(map[string]any{"ok": true, "users": members})
			_, _ = w.Write(b)
		case "files.getUploadURLExternal":
			s.getUploadURL(w, call)
		case "files.completeUploadExternal":
			s.completeUpload(w, call)
		case "conversations.open":
			s.conversationsOpen(w, call)
		case "conversations.history":
			s.conversationsHistory(w, call)
		case "users.lookupByEmail":
			s.usersLookupByEmail(w, call)
		case "views.publish":
			_, _ = io.WriteString(w, `{"ok":true,"view":{"id":"VHOME"}}`)
		case "users.info":
			if !known {
				_, _ = io.WriteString(w, `{"ok":false,"error":"user_not_found"}`)
				return
			}
			_, _ = w.Write(s.userInfo(call.Form.Get("user"), user))
		}
	}
}

// userInfo is the users.info fixture with this user's id, email and name.
func (s *Server) userInfo(id string, u User) []byte {
	var doc map[string]any
	_ = json.Unmarshal(s.usersInfo, &doc) // checked in New
	usr := doc["user"].(map[string]any)
	usr["id"] = id
	if u.RealName != "" {
		usr["real_name"] = u.RealName
	}
	profile, _ := usr["profile"].(map[string]any)
	if profile == nil {
		profile = map[string]any{}
		usr["profile"] = profile
	}
	profile["email"] = u.Email
	if u.TZ != "" {
		usr["tz"] = u.TZ
	}
	b, _ := json.Marshal(doc)
	return b
}
