package slackfake_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/slackbot/slackfake"
)

// Slack's documented example ("Verifying requests from Slack").
const (
	docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	docTS     = "1531420618"
	docBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestSignatureMatchesSlacksDocumentedExample(t *testing.T) {
	t.Parallel()
	assert.Equal(t, docSig, slackfake.Signature(docSecret, docTS, docBody))
}

// slack-go's verifier, independent of our signer, accepts what we sign now
// and refuses it with another secret or body.
func TestSignedRequestPassesSlackGoVerifier(t *testing.T) {
	t.Parallel()
	req, err := slackfake.SignedRequest(context.Background(), "http://bot.example/slack/commands", docSecret, docBody, time.Now())
	require.NoError(t, err)
	assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.Equal(t, docBody, string(body))

	verify := func(secret, body string) error {
		v, err := slack.NewSecretsVerifier(req.Header, secret)
		if err != nil {
			return err
		}
		_, _ = v.Write([]byte(body))
		return v.Ensure()
	}
	assert.NoError(t, verify(docSecret, docBody))
	assert.Error(t, verify("another-secret", docBody))
	assert.Error(t, verify(docSecret, docBody+"&text=list"))

	stale := slackfake.Sign(docSecret, docBody, time.Now().Add(-time.Hour))
	_, err = slack.NewSecretsVerifier(stale, docSecret)
	assert.Error(t, err, "slack-go refuses a signature an hour old")
}

func TestServerAnswersAndRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := slackfake.New(t)
	api := s.Client("xoxb-test")

	ch, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hello", false))
	require.NoError(t, err)
	assert.Equal(t, "C1", ch)
	_, _, _, err = api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("edited", false))
	require.NoError(t, err)
	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C1", Ts: ts})
	require.NoError(t, err)
	assert.Equal(t, "https://example.slack.com/archives/C1/p"+strings.ReplaceAll(ts, ".", ""), link)

	posts := s.Calls("chat.postMessage")
	require.Len(t, posts, 1)
	assert.Equal(t, ts, posts[0].TS, "the call records the ts it was answered with")
	assert.Equal(t, "hello", posts[0].Form.Get("text"))
	assert.Equal(t, "xoxb-test", posts[0].Form.Get("token"))
	updates := s.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Equal(t, ts, updates[0].Form.Get("ts"))
	assert.Len(t, s.Calls(), 3, "no filter: every call")
	assert.Len(t, s.Calls("chat.update", "chat.getPermalink"), 2)

	t.Run("users.info answers known users with their email", func(t *testing.T) {
		s.SetUser("UALICE", "alice@acme.example")
		s.PutUser("UBOB", slackfake.User{Email: "bob@acme.example", RealName: "Bob"})
		u, err := api.GetUserInfoContext(ctx, "UALICE")
		require.NoError(t, err)
		assert.Equal(t, "UALICE", u.ID)
		assert.Equal(t, "alice@acme.example", u.Profile.Email)
		u, err = api.GetUserInfoContext(ctx, "UBOB")
		require.NoError(t, err)
		assert.Equal(t, "Bob", u.RealName)
		_, err = api.GetUserInfoContext(ctx, "UNOBODY")
		assert.EqualError(t, err, "user_not_found")
	})
	t.Run("user groups", func(t *testing.T) {
		s.SetUserGroup("S1", "UALICE", "UBOB")
		members, err := api.GetUserGroupMembersContext(ctx, "S1")
		require.NoError(t, err)
		assert.Equal(t, []string{"UALICE", "UBOB"}, members)
		members, err = api.GetUserGroupMembersContext(ctx, "S-EMPTY")
		require.NoError(t, err)
		assert.Empty(t, members)
	})
}

func TestFailIsAnsweredOnceThenTheMethodSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := slackfake.New(t)
	api := s.Client("xoxb-test", slack.OptionRetry(0))
	s.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusTooManyRequests, Body: `{"ok":false,"error":"ratelimited"}`, Header: map[string]string{"Retry-After": "30"}})
	s.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusOK, Body: `{"ok":false,"error":"channel_not_found"}`})

	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("1", false))
	var rl *slack.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 30*time.Second, rl.RetryAfter)
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("2", false))
	assert.EqualError(t, err, "channel_not_found")
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("3", false))
	assert.NoError(t, err)

	calls := s.Calls("chat.postMessage")
	require.Len(t, calls, 3, "failed calls are recorded too")
	assert.Empty(t, calls[0].TS, "a failed post has no ts")
	assert.NotEmpty(t, calls[2].TS)
}

// slack-go's own upload flow (files.getUploadURLExternal, the POST to the
// upload URL, files.completeUploadExternal) runs against the fake, which
// keeps the file and where it was shared.
func TestServerTakesFileUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := slackfake.New(t)
	api := s.Client("xoxb-test")

	content := "seq,total\n1,1\n"
	f, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: "evidence.csv", FileSize: len(content), Content: content,
		Title: "Evidence", Channels: []string{"UALICE"}, InitialComment: "here it is",
	})
	require.NoError(t, err)
	assert.Equal(t, "Evidence", f.Title)
	files := s.Files()
	require.Len(t, files, 1)
	assert.Equal(t, slackfake.File{ID: f.ID, Name: "evidence.csv", Length: len(content), Content: []byte(content),
		Title: "Evidence", Channels: []string{"UALICE"}, Comment: "here it is", Completed: true}, files[0])
	got := s.Calls("files.getUploadURLExternal", "files.completeUploadExternal")
	require.Len(t, got, 2)
	assert.Equal(t, "evidence.csv", got[0].Form.Get("filename"))
	assert.Equal(t, strconv.Itoa(len(content)), got[0].Form.Get("length"))

	t.Run("completing a file never uploaded", func(t *testing.T) {
		_, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{Files: []slack.FileSummary{{ID: "FNOPE"}}})
		assert.EqualError(t, err, "file_not_found")
	})
	t.Run("a refused upload", func(t *testing.T) {
		s.Fail("files.getUploadURLExternal", slackfake.Failure{Status: http.StatusOK, Body: `{"ok":false,"error":"not_authed"}`})
		_, err = api.UploadFileContext(ctx, slack.UploadFileParameters{Filename: "x", FileSize: 1, Content: "x", Channel: "C1"})
		assert.ErrorContains(t, err, "not_authed")
	})
}
