package slackbot

import (
	"context"

	"github.com/slack-go/slack"
)

// The App Home's Web API call (home.go) on the rotating client.

var _ HomeAPI = (*RotatingAPI)(nil)

func (r *RotatingAPI) PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	return r.Client().PublishViewContext(ctx, req)
}
