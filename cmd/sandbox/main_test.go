package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// Run the command on a free port, read its banner, get a token and list
// certifications, then stop it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--seed", "3", "--redirect-uris", " http://127.0.0.1:9/cb,https://certops.example/oauth/callback "}, outW, io.Discard)
		outW.Close()
	}()

	var base, curl string
	var banner strings.Builder
	lines := bufio.NewScanner(outR)
	for lines.Scan() {
		line := lines.Text()
		banner.WriteString(line + "\n")
		if v, ok := strings.CutPrefix(line, "Base URL:"); ok {
			base = strings.TrimSpace(v)
		}
		if strings.Contains(line, "curl -s -H") {
			curl = line
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	require.NotEmpty(t, base, "the banner names the base URL")
	assert.NotContains(t, base, ":0", "the actual port")
	assert.Contains(t, curl, base+"/v3/certifications")
	// The people's passwords and the OAuth clients, like the API clients'.
	admin := sandbox.New(sandbox.Config{Seed: 3}).People()[0]
	assert.Contains(t, banner.String(), admin.Username+" / "+admin.Password)
	assert.Contains(t, banner.String(), sandbox.CertopsClientID+" / "+sandbox.CertopsClientSecret)
	assert.Contains(t, banner.String(), "matched exactly (--redirect-uris): http://127.0.0.1:9/cb, https://certops.example/oauth/callback\n")
	assert.Contains(t, banner.String(), "Authorize URL: "+base+"/oauth/authorize")

	// The login page answers for a redirect URI of the flag, and only for those.
	authorize := func(redirectURI string) *http.Response {
		q := url.Values{"response_type": {"code"}, "client_id": {sandbox.CertopsClientID}, "redirect_uri": {redirectURI}, "state": {"s"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		res, err := http.Get(base + "/oauth/authorize?" + q.Encode())
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res := authorize("http://127.0.0.1:9/cb")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action 'self' http://127.0.0.1:9;")
	assert.Equal(t, http.StatusBadRequest, authorize(sandbox.DefaultRedirectURIs[0]).StatusCode)

	res, err := http.PostForm(base+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret},
	})
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	require.NotEmpty(t, tok.AccessToken)

	req, _ := http.NewRequest("GET", base+"/v3/certifications?count=true", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var certs []map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&certs))
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, certs, sandbox.SmallCertifications)
	assert.Equal(t, "12", res.Header.Get("X-Total-Count"))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "graceful shutdown")
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunConfiguration(t *testing.T) {
	t.Setenv("SANDBOX_SIZE", "large")
	t.Setenv("SANDBOX_TASK_TIME", "1s")
	var c config
	require.NoError(t, envconfigProcess(&c))
	cfg, err := sandboxConfig(c)
	require.NoError(t, err)
	assert.Equal(t, 10_000, cfg.Certifications)
	assert.Equal(t, 10, cfg.ItemsPerCertification)
	assert.Equal(t, 400*time.Millisecond, cfg.TaskQueuedFor)
	assert.Equal(t, 600*time.Millisecond, cfg.TaskRunningFor)

	c.Certifications = 50
	cfg, err = sandboxConfig(c)
	require.NoError(t, err)
	assert.Equal(t, 50, cfg.Certifications, "an explicit count overrides the size")

	for name, bad := range map[string]func(*config){
		"size":       func(c *config) { c.Size = "medium" },
		"rate limit": func(c *config) { c.RateLimit = 0 },
		"latency":    func(c *config) { c.Latency = -time.Second },
		"task time":  func(c *config) { c.TaskTime = 0 },
		"error rate": func(c *config) { c.ErrorRate = 2 },
		"redirect":   func(c *config) { c.RedirectURIs = "http://127.0.0.1/cb,/relative" },
		"fragment":   func(c *config) { c.RedirectURIs = "https://certops.example/cb#x" },
	} {
		t.Run(name, func(t *testing.T) {
			c := config{Size: "small", RateLimit: 100, TaskTime: time.Second}
			bad(&c)
			_, err := sandboxConfig(c)
			assert.Error(t, err)
		})
	}

	err = run(context.Background(), []string{"sandbox", "--size", "huge", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "huge")

	assert.Equal(t, sandbox.DefaultRedirectURIs, sandbox.New(cfg).OAuthClients()[0].RedirectURIs, "none given: the defaults")
	t.Setenv("SANDBOX_REDIRECT_URIS", "ftp://x/cb")
	c = config{}
	require.NoError(t, envconfigProcess(&c))
	_, err = sandboxConfig(c)
	assert.ErrorContains(t, err, "SANDBOX_REDIRECT_URIS (--redirect-uris) redirect URI \"ftp://x/cb\" must be an http or https URL")
}

func TestRunReportsEveryProblemAtOnce(t *testing.T) {
	t.Setenv("SANDBOX_SEED", "forty-two")
	t.Setenv("SANDBOX_LOG_LEVEL", "chatty")
	t.Setenv("SANDBOX_ERROR_RATE", "2")
	err := run(context.Background(), []string{"sandbox", "--size", "huge", "--task-time", "0s", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Equal(t, "configuration: 5 settings to fix:\n"+
		"  - SANDBOX_SEED must be a whole number\n"+
		"  - SANDBOX_LOG_LEVEL must be debug, info, warn or error, got \"chatty\"\n"+
		"  - SANDBOX_SIZE (--size) must be small or large, got \"huge\"\n"+
		"  - SANDBOX_TASK_TIME (--task-time) must be positive, got 0s\n"+
		"  - SANDBOX_ERROR_RATE (--error-rate) must be between 0 and 1, got 2", err.Error())
}

func TestHelpExitsZero(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"sandbox", "--help"}, io.Discard, &out))
	assert.Contains(t, out.String(), "Usage: sandbox [flags]")
	assert.Contains(t, out.String(), "-seed")
}
