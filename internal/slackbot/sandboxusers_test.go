package slackbot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/slackbot/slackfake"
)

func TestSandboxUsersAnswerEachSlackUserWithTheSandboxPersonTheyStandFor(t *testing.T) {
	t.Parallel()
	fs := slackfake.New(t)
	fs.PutUser("UREAL0001", slackfake.User{Email: "jane@corp.example", RealName: "Jane"})
	fs.PutUser("UREAL0002", slackfake.User{Email: "omar@corp.example", RealName: "Omar"})
	api := SandboxUsers(fs.Client("xoxb-test"), func(id string) string {
		if id == "UREAL0002" {
			return "sandbox.admin@acme.example"
		}
		return "mateo.brown@acme.example"
	})
	ctx := context.Background()

	u, err := api.GetUserInfoContext(ctx, "UREAL0001")
	require.NoError(t, err)
	assert.Equal(t, "mateo.brown@acme.example", u.Profile.Email)
	assert.Equal(t, "Jane", u.RealName, "the rest of the profile is Slack's")
	u, err = api.GetUserInfoContext(ctx, "UREAL0002")
	require.NoError(t, err)
	assert.Equal(t, "sandbox.admin@acme.example", u.Profile.Email)

	_, err = api.GetUserInfoContext(ctx, "UNOSUCH01")
	require.Error(t, err, "Slack's refusals pass through")
	_, _, err = api.PostMessageContext(ctx, "C1")
	require.NoError(t, err)
	assert.Len(t, fs.Calls("chat.postMessage"), 1, "other calls go to Slack")
}
