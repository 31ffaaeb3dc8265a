package signin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
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
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/signin"
	"github.com/certops/certops/internal/testkit"
)

// redirectURI is a registered redirect URI of the sandbox's OAuth clients
// (the first default); no test serves it: the browser stops at it.
const redirectURI = "http://127.0.0.1:8080/oauth/callback"

// world is a sandbox tenant over HTTP, on a test clock, and certops's side:
// a store, a grant key, the sign-in service, and everything certops logged
// and every secret it sent or received (to prove none was logged).
type world struct {
	t     *testing.T
	clk   *testkit.Clock
	sb    *sandbox.Sandbox
	base  string
	store *certstest.Store
	keys  *grantkey.Keyring
	spCfg sailpoint.Config
	logs  *syncBuffer
	seen  *secrets
	svc   *signin.Service
}

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func newWorld(t *testing.T, tweak ...func(*sailpoint.Config)) *world {
	t.Helper()
	clk := testkit.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	sb, base := sandboxtest.Start(t, sandbox.Config{Now: clk.Now, RateLimit: -1})
	w := &world{t: t, clk: clk, sb: sb, base: base, logs: &syncBuffer{}, seen: &secrets{}}
	w.store = certstest.NewStore()
	w.store.Now = clk.Now
	keys, err := grantkey.New(secret.Static(newKey(t)), nil)
	require.NoError(t, err)
	w.keys = keys
	w.spCfg = sailpoint.Config{BaseURL: base, APIVersion: sailpoint.APIv3, Timeout: 5 * time.Second, MaxRetries: 2,
		Concurrency: 4, MaxBackoff: 5 * time.Millisecond, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret}
	for _, f := range tweak {
		f(&w.spCfg)
	}
	w.svc = w.newService(keys)
	t.Cleanup(w.checkLogs)
	return w
}

func (w *world) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (w *world) httpClient() *http.Client {
	return &http.Client{Transport: &recorder{next: http.DefaultTransport, seen: w.seen}}
}

// newService makes a sign-in service on w's store with keys (another
// replica, or the same after a key rotation).
func (w *world) newService(keys *grantkey.Keyring) *signin.Service {
	w.t.Helper()
	svc, err := signin.New(signin.Config{
		ClientID:     sandbox.CertopsClientID,
		ClientSecret: secret.Static(sandbox.CertopsClientSecret),
		AuthURL:      w.base + "/oauth/authorize",
		TokenURL:     w.base + "/oauth/token",
		RedirectURL:  redirectURI,
	}, signin.Options{
		Store: w.store, Keys: keys, SailPoint: w.spCfg,
		Client:     sailpoint.Options{HTTPClient: w.httpClient(), Logger: w.logger(), Now: w.clk.Now},
		HTTPClient: w.httpClient(),
		Logger:     w.logger(), Now: w.clk.Now,
	})
	require.NoError(w.t, err)
	return svc
}

// admin is the service client (client credentials, sees everything).
func (w *world) admin() *sailpoint.Client {
	w.t.Helper()
	c, err := sailpoint.New(w.spCfg, sailpoint.Options{HTTPClient: w.httpClient(), Logger: w.logger(), Now: w.clk.Now})
	require.NoError(w.t, err)
	return c
}

func (w *world) person(i int) sandbox.Person {
	people := w.sb.People()
	require.Greater(w.t, len(people), i)
	return people[i]
}

var loginIDField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// browse runs a person's browser through ISC's login page from authURL and
// returns where ISC sent it back: the callback's query.
func (w *world) browse(authURL string, p sandbox.Person) url.Values {
	w.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(w.t, err)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := b.Get(authURL)
	require.NoError(w.t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(w.t, http.StatusOK, res.StatusCode, "login page: %s", page)
	m := loginIDField.FindSubmatch(page)
	require.NotNil(w.t, m, "a login form: %s", page)
	res, err = b.PostForm(w.base+"/oauth/login", url.Values{"login": {string(m[1])}, "username": {p.Username}, "password": {p.Password}, "action": {"sign-in"}})
	require.NoError(w.t, err)
	res.Body.Close()
	require.Contains(w.t, []int{http.StatusFound, http.StatusSeeOther}, res.StatusCode)
	u, err := url.Parse(res.Header.Get("Location"))
	require.NoError(w.t, err)
	require.Equal(w.t, redirectURI, u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	w.seen.add(q.Get("code"), q.Get("state"))
	return q
}

// signIn signs p in through svc, bound to binding, and returns their
// identity id.
func (w *world) signIn(svc *signin.Service, binding string, p sandbox.Person) string {
	w.t.Helper()
	ctx := w.t.Context()
	authURL, err := svc.Start(ctx, binding)
	require.NoError(w.t, err)
	au, err := url.Parse(authURL)
	require.NoError(w.t, err)
	assert.Equal(w.t, "S256", au.Query().Get("code_challenge_method"))
	assert.NotEmpty(w.t, au.Query().Get("code_challenge"))
	assert.Empty(w.t, au.Query().Get("code_verifier"), "the verifier stays with certops")
	q := w.browse(authURL, p)
	res, err := svc.Complete(ctx, binding, q.Get("state"), q.Get("code"))
	require.NoError(w.t, err)
	require.Equal(w.t, p.IdentityID, res.IdentityID)
	return res.IdentityID
}

// checkLogs fails when certops logged any token, code, state or verifier
// it sent or received.
func (w *world) checkLogs() {
	logs := w.logs.String()
	require.NotEmpty(w.t, logs, "the flow logs something")
	seen := w.seen.all()
	require.GreaterOrEqual(w.t, len(seen), 4, "codes, states, verifiers and tokens were seen")
	for _, s := range seen {
		if len(s) < 8 {
			continue
		}
		if strings.Contains(logs, s) {
			w.t.Errorf("a secret (%d chars, starting %q) was logged", len(s), s[:4])
		}
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secrets are the values certops must never log.
type secrets struct {
	mu   sync.Mutex
	vals []string
}

func (s *secrets) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		if v != "" {
			s.vals = append(s.vals, v)
		}
	}
}

func (s *secrets) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vals...)
}

// recorder is certops's HTTP transport: it notes every bearer token and
// every secret of a token request and answer.
type recorder struct {
	next http.RoundTripper
	seen *secrets
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		r.seen.add(strings.TrimPrefix(auth, "Bearer "))
	}
	if req.URL.Path != "/oauth/token" || req.Body == nil {
		return r.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if form, err := url.ParseQuery(string(body)); err == nil {
		r.seen.add(form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token"), form.Get("client_secret"))
	}
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(data))
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(data, &tok) == nil {
		r.seen.add(tok.AccessToken, tok.RefreshToken)
	}
	return res, nil
}

// reviews lists the certifications a Tenant sees.
func reviews(t *testing.T, ctx context.Context, tn certs.Tenant) []certs.Certification {
	t.Helper()
	all, err := tn.ListAllCertifications(ctx, certs.CertificationFilter{})
	require.NoError(t, err)
	return all
}
