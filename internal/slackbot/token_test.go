package slackbot

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/store/storetest"
	"github.com/certops/certops/internal/testkit"
)

// lockedBuffer is the module's synchronised buffer (internal/testkit).
type lockedBuffer = testkit.Buffer

// secretFile writes value to a file and opens it as a secret.File that
// looks at the file on every read.
func secretFile(t *testing.T, name, value string, clk *storetest.Clock, logs *lockedBuffer) (*secret.File, string) {
	t.Helper()
	return secretFileChecked(t, name, value, -1, clk, logs)
}

// secretFileChecked is secretFile looking at the file every checkEvery.
func secretFileChecked(t *testing.T, name, value string, checkEvery time.Duration, clk *storetest.Clock, logs *lockedBuffer) (*secret.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(value+"\n"), 0o600))
	f, err := secret.OpenFile(name, path, secret.Options{CheckEvery: checkEvery, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	return f, path
}

func TestSigningSecretRotation(t *testing.T) {
	t.Parallel()
	clk := storetest.NewClock(time.Now())
	logs := &lockedBuffer{}
	src, path := secretFile(t, "SLACK_SIGNING_SECRET_FILE", "first-signing-secret", clk, logs)
	b := setupWith(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	srv := httptest.NewServer(b.bot.HandlerFrom(src))
	t.Cleanup(srv.Close)

	post := func(signingSecret string) int {
		t.Helper()
		body := commandBody(t, alice, "help", b.hooks.URL+"/x", b.trigger())
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/slack/commands", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sign(signingSecret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusOK, post("first-signing-secret"))
	require.Equal(t, http.StatusUnauthorized, post("second-signing-secret"), "not yet rotated")

	require.NoError(t, os.WriteFile(path, []byte("second-signing-secret\n"), 0o600))
	assert.Equal(t, http.StatusOK, post("second-signing-secret"), "the new secret is accepted without a restart")
	assert.Equal(t, http.StatusOK, post("first-signing-secret"), "the previous one during the overlap")
	clk.Advance(SigningOverlap)
	assert.Equal(t, http.StatusUnauthorized, post("first-signing-secret"), "and not after it")
	assert.Equal(t, http.StatusOK, post("second-signing-secret"))

	assert.Contains(t, logs.String(), "secret rotated")
	assert.Contains(t, logs.String(), "rejected an unverified request")
	assert.NotContains(t, logs.String(), "signing-secret\"", "no secret in the logs")
	assert.NotContains(t, logs.String(), "first-signing")
	assert.NotContains(t, logs.String(), "second-signing")
}

func TestBotTokenRotation(t *testing.T) {
	t.Parallel()
	clk := storetest.NewClock(time.Now())
	logs := &lockedBuffer{}
	src, path := secretFile(t, "SLACK_BOT_TOKEN_FILE", "xoxb-first", clk, logs)
	fs := newFakeSlack(t)
	builds := 0
	api := NewRotatingAPI(src, func(token string) *slack.Client {
		builds++
		return slack.New(token, slack.OptionAPIURL(fs.GetAPIURL()))
	})
	ctx := context.Background()

	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("one", false))
	require.NoError(t, err)
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("two", false))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("xoxb-second\n"), 0o600))
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("three", false))
	require.NoError(t, err)

	calls := fs.Calls("chat.postMessage")
	require.Len(t, calls, 3)
	assert.Equal(t, "xoxb-first", calls[0].Form.Get("token"))
	assert.Equal(t, "xoxb-first", calls[1].Form.Get("token"))
	assert.Equal(t, "xoxb-second", calls[2].Form.Get("token"), "the rotated token is used at the next call")
	assert.Equal(t, 2, builds, "a client per token, not per call")
	assert.NotContains(t, logs.String(), "xoxb-")
}

func TestBotTokenRefusedReadsTheFileAgain(t *testing.T) {
	t.Parallel()
	clk := storetest.NewClock(time.Now())
	logs := &lockedBuffer{}
	src, path := secretFileChecked(t, "SLACK_BOT_TOKEN_FILE", "xoxb-revoked", time.Hour, clk, logs)
	fs := newFakeSlack(t)
	api := NewRotatingAPI(src, func(token string) *slack.Client { return slack.New(token, slack.OptionAPIURL(fs.GetAPIURL())) })
	// Rotated, and the old token revoked, before the file is due for a look.
	require.NoError(t, os.WriteFile(path, []byte("xoxb-rotated\n"), 0o600))
	fs.fail("chat.postMessage", failure{status: http.StatusOK, body: `{"ok":false,"error":"token_revoked"}`})

	_, _, err := api.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("hello", false))
	require.NoError(t, err)
	calls := fs.Calls("chat.postMessage")
	require.Len(t, calls, 2)
	assert.Equal(t, "xoxb-revoked", calls[0].Form.Get("token"))
	assert.Equal(t, "xoxb-rotated", calls[1].Form.Get("token"), "made again with the rotated token")

	fs.fail("chat.postMessage", failure{status: http.StatusOK, body: `{"ok":false,"error":"token_revoked"}`})
	_, _, err = api.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("hello", false))
	require.Error(t, err, "a refusal with no new token is the caller's to handle")
	assert.Len(t, fs.Calls("chat.postMessage"), 3, "and is not repeated")
}
