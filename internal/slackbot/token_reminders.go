package slackbot

import (
	"context"

	"github.com/slack-go/slack"
)

// The Web API calls of the reminder sweep (reminders.go) and App Home, on
// the rotating client, as token.go does for the bot's others.

var _ ReminderAPI = (*RotatingAPI)(nil)

func (r *RotatingAPI) GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error) {
	return r.Client().GetUserByEmailContext(ctx, email)
}

func (r *RotatingAPI) OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error) {
	return r.Client().OpenConversationContext(ctx, params)
}

func (r *RotatingAPI) GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	return r.Client().GetConversationHistoryContext(ctx, params)
}
