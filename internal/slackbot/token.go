package slackbot

import (
	"context"
	"sync"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/secret"
)

// RotatingAPI is the Slack Web API called with the bot token's current
// value. slack-go fixes the token when a Client is built and sends it in
// form bodies as well as in headers, so a transport cannot swap it; instead
// a new Client is built, once, when the token changes (see
// internal/secret for when a rotated token file is noticed). Calls already
// in flight finish with the token they started with.
type RotatingAPI struct {
	token secret.Source
	build func(token string) *slack.Client

	mu      sync.Mutex
	current string
	client  *slack.Client
}

var _ SlackAPI = (*RotatingAPI)(nil)

// NewRotatingAPI returns a SlackAPI that builds its client with build from
// token's current value.
func NewRotatingAPI(token secret.Source, build func(token string) *slack.Client) *RotatingAPI {
	return &RotatingAPI{token: token, build: build}
}

// Client returns the client for the token's current value.
func (r *RotatingAPI) Client() *slack.Client {
	tok := r.token.Value()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil || tok != r.current {
		r.client, r.current = r.build(tok), tok
	}
	return r.client
}

func (r *RotatingAPI) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	return r.Client().GetUserInfoContext(ctx, user, options...)
}

func (r *RotatingAPI) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	return r.Client().PostMessageContext(ctx, channelID, options...)
}

func (r *RotatingAPI) UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error) {
	return r.Client().UpdateMessageContext(ctx, channelID, timestamp, options...)
}

func (r *RotatingAPI) PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error) {
	return r.Client().PostEphemeralContext(ctx, channelID, userID, options...)
}

func (r *RotatingAPI) OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	return r.Client().OpenViewContext(ctx, triggerID, view)
}

func (r *RotatingAPI) GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error) {
	return r.Client().GetUserGroupMembersContext(ctx, userGroup, options...)
}

func (r *RotatingAPI) GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error) {
	return r.Client().GetPermalinkContext(ctx, params)
}
