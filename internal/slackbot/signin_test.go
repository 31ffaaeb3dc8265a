package slackbot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/grantkey"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/signin"
)

// signInWorld is the bot in oauth mode over HTTP against a sandbox tenant
// over HTTP: a person links their Slack account by signing in on the
// sandbox's login page, then acts as themselves.
type signInWorld struct {
	tn    tenant
	store *certstest.Store
	fs    *fakeSlack
	hooks *hooks
	bot   *Bot
	url   string // the bot's HTTP listener
	logs  *signInLogs
}

type signInLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *signInLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *signInLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type signInAdapterT struct{ *signin.Service }

func (s signInAdapterT) Complete(ctx context.Context, binding, state, code string) (string, string, error) {
	r, err := s.Service.Complete(ctx, binding, state, code)
	if err != nil {
		return "", "", err
	}
	return r.IdentityID, r.UserName, nil
}

func newSignInWorld(t *testing.T) *signInWorld {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	botURL := "http://" + ln.Addr().String()
	redirect := botURL + "/oauth/callback"
	w := &signInWorld{url: botURL, logs: &signInLogs{}}
	w.tn = startTenant(t, sandbox.Config{RedirectURIs: []string{redirect}})
	w.store = certstest.NewStore()
	key := make([]byte, 32)
	_, err = rand.Read(key)
	require.NoError(t, err)
	keys, err := grantkey.New(secret.Static(base64.StdEncoding.EncodeToString(key)), nil)
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	spCfg := sailpoint.Config{BaseURL: w.tn.url, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", Timeout: 30 * time.Second, MaxRetries: 3, Concurrency: 8, MaxBackoff: 10 * time.Millisecond}
	si, err := signin.New(signin.Config{ClientID: sandbox.CertopsClientID, ClientSecret: secret.Static(sandbox.CertopsClientSecret),
		AuthURL: w.tn.url + "/oauth/authorize", TokenURL: w.tn.url + "/oauth/token", RedirectURL: redirect},
		signin.Options{Store: w.store, Keys: keys, SailPoint: spCfg, Client: sailpoint.Options{Logger: logger}, Logger: logger})
	require.NoError(t, err)
	svc := certs.NewService(certs.Options{Tenant: certs.PersonRouter{Service: w.tn.client, Required: true}, Store: w.store,
		Logger: logger, Owner: "signin-test", TaskPoll: 5 * time.Millisecond, TaskPollMax: 20 * time.Millisecond})
	w.fs = newFakeSlack(t)
	// Emails that match no identity: oauth mode never looks at them.
	w.fs.users[alice] = "alice-in-slack@unrelated.example"
	w.fs.users[bob] = "bob-in-slack@unrelated.example"
	w.hooks = newHooks(t)
	w.bot = New(Config{Command: "/certs", ApprovalsChannel: approvals, AnyResponseURL: true, Logger: logger,
		SignIn: &SignInConfig{Service: signInAdapterT{si}, Links: w.store, Keys: keys, RedirectURL: redirect}}, svc, w.fs.api())
	w.bot.Start(t.Context())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.bot.Shutdown(ctx)
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: w.bot.HTTPHandler(HTTPOptions{SigningSecret: secret.Static(testSecret)})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return w
}

// command sends a signed /certs command from user and returns the text of
// what the bot posted to its response_url.
func (w *signInWorld) command(t *testing.T, user, text string) hookPost {
	t.Helper()
	before := len(w.hooks.Posts())
	trigger := "trig-" + randomForTest(t)
	req := signedRequest(t, w.url+"/slack/commands", commandBody(t, user, text, w.hooks.URL+"/cmd", trigger))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	waitFor(t, "the answer to "+text, func() bool { return len(w.hooks.Posts()) > before })
	return w.hooks.Posts()[before]
}

func randomForTest(t *testing.T) string {
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

var signInURLRE = regexp.MustCompile(`"url":"([^"]+/oauth/slack/start\?link=[^"]+)"`)

// signInLink is the Sign in with SailPoint button's link in a post.
func signInLink(t *testing.T, p hookPost) string {
	t.Helper()
	m := signInURLRE.FindStringSubmatch(p.Raw)
	require.NotNil(t, m, "a Sign in with SailPoint button: %s", p.Raw)
	return m[1]
}

var loginField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// browse opens link in a browser (a cookie jar) and signs in as p on the
// sandbox's login page; it returns the page certops showed at the end.
func (w *signInWorld) browse(t *testing.T, jar http.CookieJar, link string, p sandbox.Person, action string) (*http.Response, string) {
	t.Helper()
	b := &http.Client{Jar: jar}
	res, err := b.Get(link)
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Request.URL.Path != "/oauth/authorize" {
		return res, string(page) // certops answered itself (an expired link)
	}
	m := loginField.FindSubmatch(page)
	require.NotNil(t, m, "the sandbox's login form: %s", page)
	res, err = b.PostForm(w.tn.url+"/oauth/login", url.Values{"login": {string(m[1])}, "username": {p.Username}, "password": {p.Password}, "action": {action}})
	require.NoError(t, err)
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(page)
}

// reviewer is a sandbox person with open certifications who is not the
// admin identity.
func (w *signInWorld) reviewer(t *testing.T) (sandbox.Person, certs.Certification) {
	t.Helper()
	all, err := w.tn.client.ListAllCertifications(t.Context(), certs.CertificationFilter{})
	require.NoError(t, err)
	people := map[string]sandbox.Person{}
	for _, p := range w.tn.sb.People() {
		people[p.IdentityID] = p
	}
	for _, c := range all {
		if p, ok := people[c.Reviewer.ID]; ok && !c.Completed && c.Reviewer.ID != w.tn.sb.Clients()[0].IdentityID {
			return p, c
		}
	}
	t.Fatal("no reviewer with an open certification in the sandbox")
	return sandbox.Person{}, certs.Certification{}
}

func TestSlackSignInLinksAndActsAsThePerson(t *testing.T) {
	w := newSignInWorld(t)
	p, cert := w.reviewer(t)

	// Not linked: the answer is the button, whatever the command.
	post := w.command(t, alice, "list")
	assert.Contains(t, post.Raw, "Sign in with SailPoint")
	link := signInLink(t, post)
	assert.True(t, strings.HasPrefix(link, w.url+"/oauth/slack/start?link="), link)

	// The link, opened in a browser, goes through the sandbox's login
	// page and back to certops's success page.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	res, page := w.browse(t, jar, link, p, "sign-in")
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	assert.Contains(t, page, `data-outcome="success"`)
	assert.Contains(t, page, "certops")
	assert.NotContains(t, page, "<script")
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.NotContains(t, res.Header.Get("Content-Security-Policy"), "unsafe")
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))

	l, err := w.store.GetLink(t.Context(), "slack:T012AB3C4/"+alice)
	require.NoError(t, err)
	assert.Equal(t, p.IdentityID, l.IdentityID)

	// The link worked once.
	jar2, _ := cookiejar.New(nil)
	res, page = w.browse(t, jar2, link, p, "sign-in")
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.Contains(t, page, `data-outcome="expired"`)

	// whoami, and the person's own certifications, through their own
	// ISC token.
	post = w.command(t, alice, "whoami")
	assert.Contains(t, post.Raw, p.IdentityID)
	post = w.command(t, alice, "list")
	assert.Contains(t, post.Raw, cert.ID, "the reviewer's open certification: %s", post.Raw)

	// A decision in Slack, as that person: the sandbox records them and
	// their grant type.
	reviewAsPerson(t, w, alice, cert, p.IdentityID)

	// Sign out: the grant and the link are gone, and the button is back.
	post = w.command(t, alice, "logout")
	assert.Contains(t, post.Raw, "signed out")
	_, err = w.store.GetLink(t.Context(), "slack:T012AB3C4/"+alice)
	requireCode(t, certs.ENOTFOUND, err)
	_, err = w.store.GetGrant(t.Context(), p.IdentityID)
	requireCode(t, certs.ENOTFOUND, err)
	post = w.command(t, alice, "whoami")
	signInLink(t, post)

	// No link token, cookie, code or state was logged.
	checkSignInLogs(t, w.logs.String(), link)
}

func TestSlackSignInRefusals(t *testing.T) {
	w := newSignInWorld(t)
	p, _ := w.reviewer(t)

	// Cancel on the login page: the denied page, nothing linked.
	link := signInLink(t, w.command(t, bob, "login"))
	jar, _ := cookiejar.New(nil)
	res, page := w.browse(t, jar, link, p, "cancel")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, page, `data-outcome="denied"`)
	_, err := w.store.GetLink(t.Context(), "slack:T012AB3C4/"+bob)
	requireCode(t, certs.ENOTFOUND, err)

	// A forged or altered link: expired page.
	res, err = http.Get(w.url + "/oauth/slack/start?link=" + url.QueryEscape(strings.Replace(link[strings.Index(link, "link=")+5:], "A", "B", 1)))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusGone, res.StatusCode)

	// A callback in a browser that started nothing (a planted URL): refused.
	res, err = http.Get(w.url + "/oauth/callback?code=abc&state=def")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, string(body), `data-outcome="expired"`)

	checkSignInLogs(t, w.logs.String(), link)
}

// checkSignInLogs fails when the logs hold a link token, an OAuth code or
// state, or a token.
func checkSignInLogs(t *testing.T, logs, link string) {
	t.Helper()
	require.NotEmpty(t, logs)
	u, err := url.Parse(link)
	require.NoError(t, err)
	tok := u.Query().Get("link")
	assert.NotContains(t, logs, tok[len(tok)-20:], "a link token was logged")
	for _, bad := range []string{"code=", "state=", "access_token", "refresh_token", "link="} {
		assert.NotContains(t, logs, bad)
	}
}

// reviewAsPerson opens the review of cert in Slack as user and approves
// one item; the sandbox records the decision as the signed-in person,
// made with their own (authorization-code) grant.
func reviewAsPerson(t *testing.T, w *signInWorld, user string, cert certs.Certification, identityID string) {
	t.Helper()
	b := &bundle{slack: w.fs, hooks: w.hooks, bot: w.bot, server: &httptest.Server{URL: w.url}}
	_, msgs := b.openReview(t, user, cert.ID)
	require.GreaterOrEqual(t, len(msgs), 2, "the review's head and a person")
	var m slackMsg
	var itemID string
	re := regexp.MustCompile(`"block_id":"act:([^"]+)"`)
	for _, x := range msgs[1:] {
		if s := re.FindStringSubmatch(x.Blocks); s != nil && strings.Contains(x.Blocks, actionReviewApprove) {
			m, itemID = x, s[1]
			break
		}
	}
	require.NotEmpty(t, itemID, "an item with Approve")
	b.press(t, user, m, "act:"+itemID, actionReviewApprove)
	var got []map[string]any
	waitFor(t, "the decision in ISC", func() bool {
		res, err := http.Get(w.tn.url + "/_sandbox/decisions?certification=" + url.QueryEscape(cert.ID))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		got = nil
		_ = json.NewDecoder(res.Body).Decode(&got)
		return len(got) > 0
	})
	raw, _ := json.Marshal(got)
	t.Logf("sandbox decisions: %s", raw)
	assert.Contains(t, string(raw), identityID, "the decision records the person")
	assert.Contains(t, string(raw), "AUTHORIZATION_CODE", "made with the person's own grant")
}

func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, certs.ErrorCode(err), "%v", err)
}
