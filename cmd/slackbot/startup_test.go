package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
)

func TestStartUpReportsEveryProblemAtOnce(t *testing.T) {
	for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_APPROVALS_CHANNEL", "SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"} {
		t.Setenv(k, "")
	}
	t.Setenv("CERTOPS_REQUEST_TTL", "0s")
	t.Setenv("SLACK_NOTIFIER_LEASE", "a while")
	err := run(context.Background(), []string{"slackbot", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "configuration: 8 settings to fix:\n"), msg)
	for _, name := range []string{"SLACK_BOT_TOKEN", "SLACK_APPROVALS_CHANNEL", "SLACK_SIGNING_SECRET", "SLACK_NOTIFIER_LEASE",
		"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "CERTOPS_REQUEST_TTL"} {
		assert.Contains(t, msg, "\n  - "+name+" ", "each problem on its line")
	}
	assert.Contains(t, msg, "\n  - SLACK_NOTIFIER_LEASE must be a duration such as 30s or 1m\n")
	assert.NotContains(t, msg, "a while", "values are not echoed")
	assert.True(t, strings.HasSuffix(msg, "\n"+app.SandboxHint), msg)

	// With --sandbox the SailPoint settings are not needed, nor suggested.
	err = run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SAIL_")
	assert.Contains(t, err.Error(), "SLACK_BOT_TOKEN")
}

func TestHelpExitsZero(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"slackbot", "--help"}, io.Discard, &out))
	assert.Contains(t, out.String(), "Usage: slackbot [flags]")
	assert.Contains(t, out.String(), "-sandbox")
}

// runUntilItStops runs the bot and returns its error once it stopped by
// itself.
func runUntilItStops(t *testing.T, logs io.Writer) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, logs)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("the bot did not stop")
		return nil
	}
}

func refusingSlack(t *testing.T, method string) *slacktest.Server {
	t.Helper()
	fake := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
		})
	})
	fake.Start()
	t.Cleanup(fake.Stop)
	go func() { // slacktest's feed is unbuffered: drain it
		for range fake.SeenFeed {
		}
	}()
	return fake
}

func TestRefusedTokensStopTheBotNamingThem(t *testing.T) {
	t.Run("bot token", func(t *testing.T) {
		fake := refusingSlack(t, "auth.test")
		setEnv(t, fake.GetAPIURL())
		t.Setenv("SLACK_BOT_TOKEN", "xoxb-refused-secret")
		logs := &lockedBuffer{}
		err := runUntilItStops(t, logs)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Slack refused SLACK_BOT_TOKEN (invalid_auth): use the app's Bot User OAuth Token")
		assert.NotContains(t, err.Error()+logs.String(), "refused-secret")
	})
	t.Run("app-level token", func(t *testing.T) {
		fake := refusingSlack(t, "apps.connections.open")
		setEnv(t, fake.GetAPIURL())
		t.Setenv("SLACK_SIGNING_SECRET", "")
		t.Setenv("SLACK_APP_TOKEN", "xapp-1-refused-secret")
		logs := &lockedBuffer{}
		err := runUntilItStops(t, logs)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Slack refused SLACK_APP_TOKEN (invalid_auth): use the app-level token (xapp-…)")
		assert.NotContains(t, err.Error()+logs.String(), "refused-secret")
	})
}

// status is the HTTP status of GET url.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSocketModeIsReadyOnceConnected(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	go func() { // slacktest's feed is unbuffered: drain it
		for range fake.SeenFeed {
		}
	}()
	setEnv(t, fake.GetAPIURL())
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-test-secret")
	logs := &lockedBuffer{}
	base, stop := startRunLogging(t, logs, "--sandbox")
	require.Eventually(t, func() bool { return status(t, base+"/readyz") == http.StatusOK }, 30*time.Second, 20*time.Millisecond,
		"ready once connected; logs:\n%s", logs.String())
	require.NoError(t, stop())
	out := logs.String()
	assert.Contains(t, out, `msg="Socket Mode: connecting to Slack"`)
	assert.Contains(t, out, `msg="Socket Mode: connected to Slack"`)
	assert.Contains(t, out, `msg="Slack accepted SLACK_BOT_TOKEN"`)
	assert.NotContains(t, out, "test-secret")
	assert.NotContains(t, out, "xoxb-test")
}

func TestSocketModeIsNotReadyWhileSlackIsUnreachable(t *testing.T) {
	setEnv(t, "http://127.0.0.1:1/") // nothing listens there
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-test-secret")
	logs := &lockedBuffer{}
	base, stop := startRunLogging(t, logs, "--sandbox")
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `msg="Socket Mode: could not connect to Slack; retrying" component=slackbot attempt=1`)
	}, 30*time.Second, 20*time.Millisecond, "logs:\n%s", logs.String())
	assert.Equal(t, http.StatusServiceUnavailable, status(t, base+"/readyz"))
	assert.Equal(t, http.StatusOK, status(t, base+"/healthz"), "up, though not ready")
	require.NoError(t, stop(), "Slack being unreachable is no reason to stop")
	out := logs.String()
	assert.Contains(t, out, "could not reach Slack to check SLACK_BOT_TOKEN; going on")
	assert.Contains(t, out, "Socket Mode: cannot connect to Slack", "/readyz's reason is logged")
	assert.NotContains(t, out, "test-secret")
	assert.NotContains(t, out, "xoxb-test")
}
