package slackbot

import (
	"context"
	"errors"
	"sync"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/secret"
)

// RotatingAPI is the Slack Web API called with the bot token's current
// value. slack-go fixes the token when a Client is built and sends it in
// form bodies as well as in headers, so a transport cannot swap it; instead
// a new Client is built, once, when the token changes (see
// internal/secret for when a rotated token file is noticed). Calls already
// in flight finish with the token they started with; a call Slack refuses
// for its token reads the file at once and, if the token changed, is made
// again with the new one.
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

// refusedAgain reports whether a call Slack refused for its token should be
// made again: the token file was read anew and holds another token. Slack
// acts on nothing it refused, so the second call cannot duplicate the first.
func (r *RotatingAPI) refusedAgain(err error) bool {
	var resp slack.SlackErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	switch resp.Err {
	case "invalid_auth", "token_revoked", "token_expired", "not_authed", "account_inactive":
	default:
		return false
	}
	f, ok := r.token.(interface{ Reload() bool })
	return ok && f.Reload()
}

func (r *RotatingAPI) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	u, err := r.Client().GetUserInfoContext(ctx, user, options...)
	if r.refusedAgain(err) {
		u, err = r.Client().GetUserInfoContext(ctx, user, options...)
	}
	return u, err
}

func (r *RotatingAPI) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	ch, ts, err := r.Client().PostMessageContext(ctx, channelID, options...)
	if r.refusedAgain(err) {
		ch, ts, err = r.Client().PostMessageContext(ctx, channelID, options...)
	}
	return ch, ts, err
}

func (r *RotatingAPI) UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error) {
	ch, ts, text, err := r.Client().UpdateMessageContext(ctx, channelID, timestamp, options...)
	if r.refusedAgain(err) {
		ch, ts, text, err = r.Client().UpdateMessageContext(ctx, channelID, timestamp, options...)
	}
	return ch, ts, text, err
}

func (r *RotatingAPI) PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error) {
	ts, err := r.Client().PostEphemeralContext(ctx, channelID, userID, options...)
	if r.refusedAgain(err) {
		ts, err = r.Client().PostEphemeralContext(ctx, channelID, userID, options...)
	}
	return ts, err
}

func (r *RotatingAPI) OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	v, err := r.Client().OpenViewContext(ctx, triggerID, view)
	if r.refusedAgain(err) {
		v, err = r.Client().OpenViewContext(ctx, triggerID, view)
	}
	return v, err
}

func (r *RotatingAPI) GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error) {
	m, err := r.Client().GetUserGroupMembersContext(ctx, userGroup, options...)
	if r.refusedAgain(err) {
		m, err = r.Client().GetUserGroupMembersContext(ctx, userGroup, options...)
	}
	return m, err
}

func (r *RotatingAPI) GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error) {
	link, err := r.Client().GetPermalinkContext(ctx, params)
	if r.refusedAgain(err) {
		link, err = r.Client().GetPermalinkContext(ctx, params)
	}
	return link, err
}
