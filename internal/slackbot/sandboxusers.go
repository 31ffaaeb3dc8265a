package slackbot

import (
	"context"

	"github.com/slack-go/slack"
)

// SandboxUsers returns api with users.info answering, for each Slack user,
// the email of the sandbox person they stand for (emailFor; "" keeps the
// profile's own). `slackbot --sandbox` in a real workspace uses it: the
// emulated tenant's people are @acme.example, so no one's own email would
// match an identity, and everyone would be told so. Every other call goes
// to api unchanged; the bot itself maps users as it always does.
func SandboxUsers(api SlackAPI, emailFor func(slackUserID string) string) SlackAPI {
	return &sandboxUsers{SlackAPI: api, emailFor: emailFor}
}

type sandboxUsers struct {
	SlackAPI
	emailFor func(string) string
}

func (s *sandboxUsers) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	u, err := s.SlackAPI.GetUserInfoContext(ctx, user, options...)
	if err != nil {
		return nil, err
	}
	if email := s.emailFor(user); email != "" {
		cp := *u
		cp.Profile.Email = email
		return &cp, nil
	}
	return u, nil
}
