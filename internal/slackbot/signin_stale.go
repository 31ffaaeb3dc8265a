package slackbot

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// dropStaleLink deletes the Slack user's link when the grant it names is
// gone (ISC refused it: the person left or became inactive, or signed out
// elsewhere), so that the link never outlives the sign-in. A link whose
// grant is still there is kept.
func (b *Bot) dropStaleLink(ctx context.Context, team, user string) {
	s := b.signIn
	key := slackBinding(team, user)
	l, err := s.cfg.Links.GetLink(ctx, key)
	if err != nil {
		return
	}
	ok, err := s.cfg.Service.SignedIn(ctx, l.IdentityID)
	if err != nil || ok {
		return
	}
	if err := s.cfg.Links.DeleteLink(ctx, key); err != nil && certs.ErrorCode(err) != certs.ENOTFOUND {
		b.log.Error("slackbot: a link whose sign-in is gone could not be deleted", "slack_user", user, "identity", l.IdentityID, "err", err)
		return
	}
	b.log.Info("slackbot: link deleted: its sign-in with SailPoint is gone", "slack_user", user, "identity", l.IdentityID)
}
