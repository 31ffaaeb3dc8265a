package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// oauthBenchPeople is how many signed-in people BenchmarkOAuthPeople runs.
const oauthBenchPeople = 20

// oauthPhase is what one phase of BenchmarkOAuthPeople measured.
type oauthPhase struct {
	elapsed       time.Duration // from the start to the last answer
	calls, errors int           // tool calls answered, of which error results or failures
	isc, limited  int           // ISC calls the sandbox counted, and its 429s
	identities    int           // identities the sandbox saw acting
	p50, p99      time.Duration
}

func (p oauthPhase) perSec() float64 { return float64(p.calls) / p.elapsed.Seconds() }

// BenchmarkOAuthPeople: 20 people signed in with SailPoint over MCP
// (mcp-server --sandbox --http, CERTOPS_IDENTITY=oauth; each through the
// go-sdk's OAuth client: discovery, registration, the sandbox's login
// page), each calling list_certifications for their own reviews in a loop
// for CERTOPS_BENCH_DURATION (-sessions.duration; 20 s), with the sandbox's
// limit of 100 per 10 s per client id and person on. Then the same calls
// (same arguments) from 20 sessions with the static bearer token of
// mcp-server --sandbox --http in email mode, which certops serves with its
// one admin API client: the shared client.
// Reported per phase: tool calls/s served (answered over the time until
// the last answer, calls running at the deadline included), the sandbox's
// ISC calls and 429s, error results, p50/p99; and speedup, people ÷ shared.
// Each phase starts on an idle window (11 s apart).
//
//	CERTOPS_BENCH_DURATION=20s go test -run '^$' -bench OAuthPeople -benchtime 1x ./cmd/mcp-server
func BenchmarkOAuthPeople(b *testing.B) {
	skipShort(b)
	d := benchDuration(b)
	var people, shared oauthPhase
	for b.Loop() {
		people, shared = runOAuthPeople(b, d)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(people.perSec(), "calls/s")
	b.ReportMetric(float64(people.isc)/people.elapsed.Seconds(), "isc-calls/s")
	b.ReportMetric(float64(people.limited), "429s")
	b.ReportMetric(float64(people.errors), "error-results")
	b.ReportMetric(ms(people.p50), "p50-ms")
	b.ReportMetric(ms(people.p99), "p99-ms")
	b.ReportMetric(float64(people.identities), "identities")
	b.ReportMetric(shared.perSec(), "shared:calls/s")
	b.ReportMetric(float64(shared.isc)/shared.elapsed.Seconds(), "shared:isc-calls/s")
	b.ReportMetric(float64(shared.limited), "shared:429s")
	b.ReportMetric(float64(shared.errors), "shared:error-results")
	b.ReportMetric(ms(shared.p50), "shared:p50-ms")
	b.ReportMetric(ms(shared.p99), "shared:p99-ms")
	b.ReportMetric(people.perSec()/max(shared.perSec(), 1e-9), "speedup")
}

func runOAuthPeople(b *testing.B, d time.Duration) (oauthPhase, oauthPhase) {
	// startOAuth, quieter: a debug log of thousands of calls is not what is
	// measured.
	port := freePort(b)
	base := "http://127.0.0.1:" + port
	b.Setenv("CERTOPS_IDENTITY", "oauth")
	b.Setenv("CERTOPS_OAUTH_REDIRECT_URL", base+"/oauth/callback")
	b.Setenv("CERTOPS_LOG_LEVEL", "info")
	w := &oauthWorld{t: b, srv: startHTTP(b, "--http", "127.0.0.1:"+port), base: base, seen: &seenSecrets{}}

	ppl := benchPeople(b, w.srv.SandboxURL, oauthBenchPeople)

	args := make([]map[string]any, len(ppl))
	signedIn := make([]*mcp.ClientSession, len(ppl))
	for i, p := range ppl {
		args[i] = map[string]any{"reviewer": p.IdentityID}
		signedIn[i], _ = w.connect(p)
	}
	// The sign-ins' own calls are not measured: start on an idle window.
	time.Sleep(benchWindow + time.Second)
	people := oauthRun(b, w.srv, signedIn, args, d)

	// The shared client: in oauth mode the static token must sign in too,
	// so the same server in email mode (the default), whose static token
	// certops serves with its admin API client.
	b.Setenv("CERTOPS_IDENTITY", "email")
	srv := startHTTP(b)
	sharedSessions := make([]*mcp.ClientSession, len(ppl))
	for i := range ppl {
		transport := &mcp.StreamableClientTransport{Endpoint: srv.URL, MaxRetries: -1,
			HTTPClient: &http.Client{Transport: bearer{token: srv.Token, next: http.DefaultTransport}}}
		cs, err := newClient(clientOptions{}).Connect(b.Context(), transport, nil)
		require.NoError(b, err)
		b.Cleanup(func() { _ = cs.Close() })
		sharedSessions[i] = cs
	}
	time.Sleep(benchWindow + time.Second)
	shared := oauthRun(b, srv, sharedSessions, args, d)
	return people, shared
}

// oauthRun has each session call list_certifications with its arguments
// in a loop until d has passed.
func oauthRun(b *testing.B, srv *httpServer, sessions []*mcp.ClientSession, args []map[string]any, d time.Duration) oauthPhase {
	oauthBenchStats(b, srv.SandboxURL, http.MethodDelete)
	var (
		mu  sync.Mutex
		lat []time.Duration
		ph  oauthPhase
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for i, cs := range sessions {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				r, err := cs.CallTool(b.Context(), &mcp.CallToolParams{Name: "list_certifications", Arguments: args[i]})
				took := time.Since(t0)
				mu.Lock()
				ph.calls++
				lat = append(lat, took)
				if err != nil || r.IsError {
					ph.errors++
					if ph.errors == 1 {
						var text string
						if r != nil && len(r.Content) > 0 {
							if tc, ok := r.Content[0].(*mcp.TextContent); ok {
								text = tc.Text
							}
						}
						b.Logf("session %d: first error: err=%v result=%s", i, err, text)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ph.elapsed = time.Since(start)
	ph.p50, ph.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	st := oauthBenchStats(b, srv.SandboxURL, http.MethodGet)
	for _, c := range st.Clients {
		ph.isc += c.Calls
		ph.limited += c.RateLimited
	}
	ph.identities = len(st.Identities)
	return ph
}

// oauthBenchStats reads (GET) or resets (DELETE) the sandbox's counters.
func oauthBenchStats(b *testing.B, sandboxURL, method string) sandbox.Stats {
	req, err := http.NewRequestWithContext(b.Context(), method, sandboxURL+"/_sandbox/stats", nil)
	require.NoError(b, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(b, err)
	defer res.Body.Close()
	require.Less(b, res.StatusCode, 300)
	var st sandbox.Stats
	if method == http.MethodGet {
		require.NoError(b, json.NewDecoder(res.Body).Decode(&st))
	}
	return st
}

// benchPeople are n people of the sandbox who can sign in: those
// /_sandbox/people lists (the admin identity, the reviewer clients'
// reviewers), then reviewers of open certifications, each signing in with
// their alias and the sandbox's password (alias + "-password"), then
// other active people.
func benchPeople(b *testing.B, sandboxURL string, n int) []sandbox.Person {
	get := func(path, token string, out any) {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, sandboxURL+path, nil)
		require.NoError(b, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		defer res.Body.Close()
		require.Equal(b, http.StatusOK, res.StatusCode, path)
		require.NoError(b, json.NewDecoder(res.Body).Decode(out))
	}
	var out []sandbox.Person
	get("/_sandbox/people", "", &out)
	seen := map[string]bool{}
	for _, p := range out {
		seen[p.IdentityID] = true
	}
	res, err := http.PostForm(sandboxURL+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}})
	require.NoError(b, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(b, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	var certsList []struct {
		Reviewer  struct{ ID string } `json:"reviewer"`
		Completed bool                `json:"completed"`
	}
	get("/v3/certifications?limit=250", tok.AccessToken, &certsList)
	var ids []string
	for _, c := range certsList {
		if !c.Completed && !seen[c.Reviewer.ID] {
			seen[c.Reviewer.ID] = true
			ids = append(ids, c.Reviewer.ID)
		}
	}
	for _, id := range ids {
		if len(out) >= n {
			break
		}
		var found []struct {
			ID, Name, Alias string
			Email           *string
		}
		get("/v3/public-identities?filters="+url.QueryEscape(`id eq "`+id+`"`), tok.AccessToken, &found)
		if len(found) != 1 || found[0].Alias == "" || found[0].Email == nil {
			continue
		}
		f := found[0]
		out = append(out, sandbox.Person{Username: f.Alias, Password: f.Alias + "-password", Role: sandbox.RoleReviewer,
			IdentityID: f.ID, Name: f.Name, Email: *f.Email})
	}
	// Then anyone else active.
	var everyone []struct {
		ID, Name, Alias string
		Email           *string
		IdentityState   *string `json:"identityState"`
	}
	get("/v3/public-identities?limit=250", tok.AccessToken, &everyone)
	for _, f := range everyone {
		if len(out) >= n {
			break
		}
		if seen[f.ID] || f.Alias == "" || f.Email == nil || f.IdentityState == nil || *f.IdentityState != "ACTIVE" {
			continue
		}
		seen[f.ID] = true
		out = append(out, sandbox.Person{Username: f.Alias, Password: f.Alias + "-password", Role: sandbox.RoleReviewer,
			IdentityID: f.ID, Name: f.Name, Email: *f.Email})
	}
	require.GreaterOrEqual(b, len(out), n, "people who can sign in")
	return out[:n]
}
