package main

import (
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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/testkit"
)

// lockedBuffer is the module's synchronised buffer (internal/testkit).
type lockedBuffer = testkit.Buffer

func TestSecretsFromFilesAreReadAgainWhenRotated(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	setEnv(t, fake.GetAPIURL())
	dir := t.TempDir()
	signing := filepath.Join(dir, "signing-secret")
	token := filepath.Join(dir, "bot-token")
	require.NoError(t, os.WriteFile(signing, []byte("first-signing-secret\n"), 0o600))
	require.NoError(t, os.WriteFile(token, []byte("xoxb-from-a-file\n"), 0o600))
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SLACK_SIGNING_SECRET_FILE", signing)
	t.Setenv("SLACK_BOT_TOKEN_FILE", token)
	logs := &lockedBuffer{}
	base, stop := startRunLogging(t, logs, "--sandbox")

	post := func(signingSecret string) int {
		t.Helper()
		body := url.Values{"command": {"/certs"}, "text": {"help"}, "user_id": {"U1"}, "trigger_id": {fmt.Sprint(time.Now().UnixNano())}, "response_url": {"http://127.0.0.1:1/x"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader(body))
		ts := fmt.Sprint(time.Now().Unix())
		m := hmac.New(sha256.New, []byte(signingSecret))
		fmt.Fprintf(m, "v0:%s:%s", ts, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, post("first-signing-secret"))
	require.Equal(t, http.StatusUnauthorized, post("second-signing-secret"))

	require.NoError(t, os.WriteFile(signing, []byte("second-signing-secret\n"), 0o600))
	// The file is looked at every 10 s at most.
	deadline := time.Now().Add(30 * time.Second)
	for post("second-signing-secret") != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "the rotated signing secret was never accepted; logs:\n%s", logs.String())
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, post("first-signing-secret"), "the previous secret is accepted during the overlap")
	require.NoError(t, stop())

	out := logs.String()
	assert.Contains(t, out, "secret rotated")
	assert.Contains(t, out, "SLACK_SIGNING_SECRET_FILE")
	for _, s := range []string{"first-signing-secret", "second-signing-secret", "xoxb-from-a-file"} {
		assert.NotContains(t, out, s, "a secret in the logs")
	}
}

func TestSecretFileProblemsFailStartUp(t *testing.T) {
	fake := slacktest.NewTestServer()
	fake.Start()
	defer fake.Stop()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("xoxb-in-a-file"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"both the variable and the file", map[string]string{"SLACK_BOT_TOKEN_FILE": tokenFile}, []string{"SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are both set"}},
		{"a missing file", map[string]string{"SLACK_SIGNING_SECRET": "", "SLACK_SIGNING_SECRET_FILE": filepath.Join(dir, "nope")}, []string{"SLACK_SIGNING_SECRET_FILE", filepath.Join(dir, "nope")}},
		{"an empty file", map[string]string{"SLACK_BOT_TOKEN": "", "SLACK_BOT_TOKEN_FILE": empty}, []string{"SLACK_BOT_TOKEN_FILE", empty, "empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, fake.GetAPIURL())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "xoxb-")
		})
	}
}

func TestSocketModeReconnectsWithARotatedAppToken(t *testing.T) {
	dir := t.TempDir()
	appToken := filepath.Join(dir, "app-token")
	require.NoError(t, os.WriteFile(appToken, []byte("xapp-1-revoked\n"), 0o600))
	var fake *slacktest.Server
	var refused, opened atomic.Int32
	fake = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Header.Get("Authorization") == "Bearer xapp-1-revoked" {
				// The operator rotated the token and Slack revoked the old one.
				refused.Add(1)
				_ = os.WriteFile(appToken, []byte("xapp-1-rotated\n"), 0o600)
				_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
				return
			}
			opened.Add(1)
			_, _ = io.WriteString(w, `{"ok":true,"url":"`+fake.GetWSURL()+`"}`)
		})
	})
	fake.Start()
	defer fake.Stop()
	go func() { // slacktest's feed is unbuffered: drain it
		for range fake.SeenFeed {
		}
	}()
	setEnv(t, fake.GetAPIURL())
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_APP_TOKEN_FILE", appToken)
	logs := &lockedBuffer{}
	_, stop := startRunLogging(t, logs, "--sandbox")

	require.Eventually(t, func() bool { return opened.Load() > 0 }, 30*time.Second, 10*time.Millisecond, "never connected with the rotated token; logs:\n%s", logs.String())
	assert.EqualValues(t, 1, refused.Load(), "the revoked token was tried once")
	require.NoError(t, stop())
	assert.Contains(t, logs.String(), "reconnecting with the rotated SLACK_APP_TOKEN_FILE")
	assert.NotContains(t, logs.String(), "xapp-1-")
}
