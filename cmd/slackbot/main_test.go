package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/certops/certops/internal/metrics/metricstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const testSigningSecret = "test-signing-secret"

func sign(ts, body string) string {
	m := hmac.New(sha256.New, []byte(testSigningSecret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// startRun runs the command as main would, on a loopback port, and returns
// its base URL and a stop function that returns run's error.
func startRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	return startRunLogging(t, io.Discard, args...)
}

// startRunLogging is startRun with the logs written to stderr.
func startRunLogging(t *testing.T, stderr io.Writer, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"slackbot", "--addr", "127.0.0.1:0"}, args...), pw, stderr)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case u := <-addr:
		return u, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("run did not start listening")
	}
	return "", nil
}

func setEnv(t *testing.T, slackURL string) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", testSigningSecret)
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_APPROVALS_CHANNEL", "CAPPROVALS")
	t.Setenv("SLACK_APPROVERS", "UDAVE0004")
	t.Setenv("SLACK_API_URL", slackURL)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "certops.db"))
}

func TestRunServesSlackInHTTPModeAgainstTheSandbox(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	setEnv(t, fake.GetAPIURL())
	base, stop := startRun(t, "--sandbox")

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	body := url.Values{"command": {"/certs"}, "text": {"help"}, "user_id": {"U1"}, "trigger_id": {"t1"}, "response_url": {"http://127.0.0.1:1/x"}}.Encode()
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader(body))
		ts := fmt.Sprint(time.Now().Unix())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		if sig == "" {
			sig = sign(ts, body)
		}
		req.Header.Set("X-Slack-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	code, raw := post("")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, raw, "reassign")
	code, _ = post("v0=" + strings.Repeat("0", 64))
	assert.Equal(t, http.StatusUnauthorized, code)

	f := metricstest.Scrape(t, base+"/metrics")
	cmds, reqs := "certops_slash_commands_total", "certops_http_requests_total"
	assert.Equal(t, 1.0, f.Value(cmds, map[string]string{"subcommand": "help", "outcome": "ok"}), f.Series(cmds))
	assert.Equal(t, 1.0, f.Value(reqs, map[string]string{"handler": "slack_commands", "code": "200"}), f.Series(reqs))
	assert.Equal(t, 1.0, f.Value(reqs, map[string]string{"handler": "slack_commands", "code": "401"}), f.Series(reqs))
	assert.Equal(t, 1.0, f.Value(reqs, map[string]string{"handler": "readyz", "code": "200"}), f.Series(reqs))
	assert.Contains(t, f, "go_goroutines")

	require.NoError(t, stop(), "a clean shutdown")
}

func TestRunServesSlackInSocketMode(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	go func() { // slacktest's feed is unbuffered: drain it
		for range fake.SeenFeed {
		}
	}()
	setEnv(t, fake.GetAPIURL())
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-test")
	base, stop := startRun(t, "--sandbox")

	resp, err := http.Post(base+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("text=help"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no HTTP transport in Socket Mode")
	assert.Contains(t, metricstest.Scrape(t, base+"/metrics"), "certops_sailpoint_rate_limited_total", "/metrics is served in Socket Mode too")

	raw, err := os.ReadFile("testdata/socket-mode.slash_commands.captured.json")
	require.NoError(t, err)
	env := strings.Replace(strings.Replace(string(raw), `"/mycommand"`, `"/certs"`, 1), `"foobar"`, `"help"`, 1)
	fake.SendToWebsocket(env)
	deadline := time.Now().Add(20 * time.Second)
	var ack string
	for ack == "" && time.Now().Before(deadline) {
		for _, m := range fake.GetSeenInboundMessages() {
			if strings.Contains(m, "e16988f4-ac45-4b4a-93b4-1851a6f77e6d") {
				ack = m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NotEmpty(t, ack, "the envelope was acknowledged")
	assert.Contains(t, ack, "reassign", "with the help in the ack")
	require.NoError(t, stop())
}

func TestRunRefusesIncompleteConfiguration(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	for _, tc := range []struct {
		name, unset, want string
		set               map[string]string
	}{
		{"no bot token", "SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN", nil},
		{"no approvals channel", "SLACK_APPROVALS_CHANNEL", "SLACK_APPROVALS_CHANNEL", nil},
		{"HTTP mode without signing secret", "SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET", nil},
		{"Socket Mode with a bot token as app token", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", map[string]string{"SLACK_APP_TOKEN": "xoxb-wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, fake.GetAPIURL())
			t.Setenv(tc.unset, "")
			for k, v := range tc.set {
				t.Setenv(k, v)
			}
			err := run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// The manifest creates the app the code expects: the default command, the
// request URLs the HTTP transport serves, and only the scopes it uses.
func TestManifestMatchesTheBot(t *testing.T) {
	raw, err := os.ReadFile("../../manifests/slack-app.yaml")
	require.NoError(t, err)
	var m struct {
		Features struct {
			AppHome struct {
				MessagesTab bool `yaml:"messages_tab_enabled"`
				HomeTab     bool `yaml:"home_tab_enabled"`
			} `yaml:"app_home"`
			SlashCommands []struct {
				Command      string `yaml:"command"`
				URL          string `yaml:"url"`
				ShouldEscape bool   `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketMode         bool `yaml:"socket_mode_enabled"`
			EventSubscriptions struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
		} `yaml:"settings"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &m))
	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, "/certs", m.Features.SlashCommands[0].Command)
	assert.True(t, strings.HasSuffix(m.Features.SlashCommands[0].URL, "/slack/commands"))
	assert.True(t, m.Features.SlashCommands[0].ShouldEscape, "mentions arrive as <@U…|name>")
	assert.True(t, m.Settings.Interactivity.Enabled)
	assert.True(t, strings.HasSuffix(m.Settings.Interactivity.RequestURL, "/slack/interactions"))
	assert.ElementsMatch(t, []string{"commands", "chat:write", "users:read", "users:read.email", "usergroups:read", "files:write", "im:write", "im:history", "channels:history"}, m.OAuth.Scopes.Bot)
	assert.True(t, m.Features.AppHome.MessagesTab, "/certs review posts to the app's DM with the reviewer")
	assert.True(t, m.Features.AppHome.HomeTab, "the bot publishes a Home tab")
	assert.Equal(t, []string{"app_home_opened"}, m.Settings.EventSubscriptions.BotEvents)
	assert.True(t, strings.HasSuffix(m.Settings.EventSubscriptions.RequestURL, "/slack/events"), "the Events API request URL the HTTP transport serves")
}
