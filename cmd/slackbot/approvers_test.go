package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/slackbot/slackfake"
)

// Approvers Slack does not know stop start-up, named as any other setting
// problem: a request filed for them would wait, undecided, until it expired.
func TestApproversSlackDoesNotKnowStopStartUp(t *testing.T) {
	fake := slackfake.New(t)
	fake.SetUser("UDAVE0004", "dave@example.com")
	fake.Fail("usergroups.users.list", slackfake.Failure{Status: http.StatusOK, Body: `{"ok":false,"error":"no_such_subteam"}`})
	setEnv(t, fake.GetAPIURL())
	t.Setenv("SLACK_APPROVERS", "UDAVE0004,UGHOST001,@erin")
	t.Setenv("SLACK_APPROVER_GROUP", "SGHOST0001")
	var stdout strings.Builder
	err := run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, &stdout, io.Discard)
	require.Error(t, err)
	assert.Equal(t, "configuration: 2 settings to fix:\n"+
		"  - SLACK_APPROVERS names UGHOST001, @erin, which this Slack workspace does not know (users.info: user_not_found); give member ids, U…: a person's profile → ⋮ → Copy member ID\n"+
		"  - SLACK_APPROVER_GROUP names SGHOST0001, which is not a user group of this Slack workspace (usergroups.users.list: no_such_subteam); give the group's id, S…, not its @handle",
		err.Error())
	assert.NotContains(t, stdout.String(), "listening", "nothing started")
	var asked []string
	for _, c := range fake.Calls("users.info") {
		asked = append(asked, c.Form.Get("user"))
	}
	assert.Equal(t, []string{"UDAVE0004", "UGHOST001", "@erin"}, asked, "each approver asked once")
}

// stubDirectory answers the start-up check from tables.
type stubDirectory struct {
	users  map[string]*slack.User
	groups map[string][]string
	err    error // every call's, when set
	calls  int
}

func (d *stubDirectory) GetUserInfoContext(_ context.Context, user string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	d.calls++
	if d.err != nil {
		return nil, d.err
	}
	if u, ok := d.users[user]; ok {
		return u, nil
	}
	return nil, slack.SlackErrorResponse{Err: "user_not_found"}
}

func (d *stubDirectory) GetUserGroupMembersContext(_ context.Context, group string, _ ...slack.GetUserGroupMembersOption) ([]string, error) {
	d.calls++
	if d.err != nil {
		return nil, d.err
	}
	if m, ok := d.groups[group]; ok {
		return m, nil
	}
	return nil, slack.SlackErrorResponse{Err: "no_such_subteam"}
}

func TestCheckApprovers(t *testing.T) {
	t.Parallel()
	known := &stubDirectory{
		users:  map[string]*slack.User{"U1": {ID: "U1"}, "U2": {ID: "U2"}, "UGONE": {ID: "UGONE", Deleted: true}},
		groups: map[string][]string{"S1": {"U1"}, "SEMPTY": {}},
	}
	for _, tc := range []struct {
		name      string
		dir       *stubDirectory
		approvers []string
		group     string
		err       string // "" for none
		log       string // what the warning says, if any
	}{
		{"nothing to check", &stubDirectory{err: errors.New("never asked")}, nil, "", "", ""},
		{"all known", known, []string{"U1", "U2"}, "S1", "", ""},
		{"a deactivated user and an unknown one", known, []string{"U1", "UGONE", "UNOPE"}, "", "configuration: SLACK_APPROVERS names UNOPE, which this Slack workspace does not know (users.info: user_not_found); " +
			"give member ids, U…: a person's profile → ⋮ → Copy member ID; and names UGONE, whose Slack account is deactivated", ""},
		{"a group without members is only logged", known, nil, "SEMPTY", "", "SLACK_APPROVER_GROUP has no members"},
		{"Slack unreachable: logged, start-up goes on", &stubDirectory{err: errors.New("dial tcp 127.0.0.1:1: connection refused")}, []string{"U1", "U2"}, "S1", "",
			"could not ask Slack for the members of SLACK_APPROVER_GROUP; going on"},
		{"rate limited: logged, start-up goes on", &stubDirectory{err: &slack.RateLimitedError{}}, []string{"U1"}, "", "", "could not ask Slack whether SLACK_APPROVERS names its users; going on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			err := checkApprovers(context.Background(), tc.dir, tc.approvers, tc.group, slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.err == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, tc.err, err.Error())
			}
			if tc.log != "" {
				assert.Contains(t, logs.String(), "level=WARN msg=\""+tc.log)
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
	t.Run("an unreachable Slack is asked once about the users", func(t *testing.T) {
		d := &stubDirectory{err: errors.New("unreachable")}
		require.NoError(t, checkApprovers(context.Background(), d, []string{"U1", "U2", "U3"}, "", slog.New(slog.DiscardHandler)))
		assert.Equal(t, 1, d.calls)
	})
}

func TestTestSlack(t *testing.T) {
	t.Parallel()
	for apiURL, want := range map[string]bool{
		"":                              false,
		"https://slack.com/api/":        false,
		"https://SLACK.COM/api/":        false,
		"https://acme.slack.com/api/":   false,
		"https://slack-gov.com/api/":    false,
		"http://127.0.0.1:41234/":       true,
		"https://slack.com.evil.test/":  true,
		"http://localhost:3001/api/":    true,
		"https://notslack.com/api/":     true,
		"https://fake-slack.internal/x": true,
	} {
		assert.Equal(t, want, testSlack(apiURL), apiURL)
	}
}

// CERTOPS_LOG_LEVEL is honoured as the MCP server honours it, and a wrong
// one is reported with the other settings.
func TestLogLevel(t *testing.T) {
	t.Run("warn leaves out INFO", func(t *testing.T) {
		fake := slacktest.NewTestServer()
		fake.Start()
		defer fake.Stop()
		go func() { // slacktest's feed is unbuffered: drain it
			for range fake.SeenFeed {
			}
		}()
		setEnv(t, fake.GetAPIURL())
		t.Setenv("CERTOPS_LOG_LEVEL", "warn")
		logs := &lockedBuffer{}
		_, stop := startRunLogging(t, logs, "--sandbox")
		require.NoError(t, stop())
		assert.NotContains(t, logs.String(), "level=INFO")
		assert.Contains(t, logs.String(), "level=WARN", "a test Slack is warned about")
	})
	t.Run("debug", func(t *testing.T) {
		assert.Equal(t, slog.LevelDebug, logLevel(func(string) string { return "DEBUG" }))
		assert.Equal(t, slog.LevelInfo, logLevel(func(string) string { return "" }))
		assert.Equal(t, slog.LevelInfo, logLevel(func(string) string { return "loud" }), "reported by loadConfig")
	})
	t.Run("a wrong one is a setting to fix", func(t *testing.T) {
		setEnv(t, "http://127.0.0.1:1/")
		t.Setenv("CERTOPS_LOG_LEVEL", "loud")
		err := run(context.Background(), []string{"slackbot", "--sandbox", "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
		require.Error(t, err)
		assert.Equal(t, `configuration: CERTOPS_LOG_LEVEL must be debug, info, warn or error, got "loud"`, err.Error())
	})
}
