package slackbot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/certops/certops/internal/certs"
)

// person is a Slack user mapped to an ISC identity.
type person struct {
	SlackID  string
	Name     string
	Email    string
	Identity certs.Identity
}

// identityResolver maps Slack users to ISC identities by email:
// users.info → Service.ResolveIdentity(email). Hits are cached with a
// bounded lifetime and size; misses are not, so a person added to ISC can
// use the bot at once.
type identityResolver struct {
	svc    Service
	api    SlackAPI
	admins []string
	cache  *ttlCache[string, person]
	// flight makes concurrent lookups of one user share one users.info
	// and one ResolveIdentity.
	flight singleflight.Group
	// signIn, in oauth mode, maps Slack users by their sign-in with
	// SailPoint instead of by email (signin.go).
	signIn *signInState
}

func newIdentityResolver(svc Service, api SlackAPI, cfg Config) *identityResolver {
	return &identityResolver{svc: svc, api: api, admins: cfg.Admins,
		cache: newTTLCache[string, person](cfg.IdentityCacheSize, cfg.IdentityTTL, cfg.Now)}
}

// lookup maps a Slack user id. caller is the actor on whose behalf the
// identity is looked up. Errors are *certs.Error with a message for people.
func (r *identityResolver) lookup(ctx context.Context, caller certs.Actor, slackUserID string, self bool) (person, error) {
	if p, ok := r.cache.get(slackUserID); ok {
		return p, nil
	}
	v, err, _ := r.flight.Do(fmt.Sprintf("%s/%t", slackUserID, self), func() (any, error) {
		return r.fetch(ctx, caller, slackUserID, self)
	})
	if err != nil {
		return person{}, err
	}
	return v.(person), nil
}

func (r *identityResolver) fetch(ctx context.Context, caller certs.Actor, slackUserID string, self bool) (person, error) {
	if r.signIn != nil {
		return r.fetchLinked(ctx, caller, slackUserID, self)
	}
	who := fmt.Sprintf("<@%s>", slackUserID)
	u, err := r.api.GetUserInfoContext(ctx, slackUserID)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "users_not_found") {
			return person{}, certs.Errorf(certs.ENOTFOUND, "Slack knows no user %s", who)
		}
		return person{}, &certs.Error{Code: certs.EUNAVAILABLE, Message: "Slack did not answer who " + who + " is; try again", Err: err}
	}
	email := strings.TrimSpace(u.Profile.Email)
	if email == "" {
		if self {
			return person{}, certs.Errorf(certs.EFORBIDDEN, "your Slack profile shows certops no email address, so certops cannot tell which SailPoint identity is yours; ask a workspace admin to check the app's users:read.email scope")
		}
		return person{}, certs.Errorf(certs.ENOTFOUND, "%s has no email address certops can see, so they cannot be matched to a SailPoint identity", who)
	}
	id, err := r.svc.ResolveIdentity(ctx, caller, email)
	if err != nil {
		if certs.ErrorCode(err) == certs.ENOTFOUND {
			if self {
				return person{}, certs.Errorf(certs.EFORBIDDEN, "no SailPoint identity has your email address %s, so certops cannot act for you; ask your identity admin to add it", email)
			}
			return person{}, certs.Errorf(certs.ENOTFOUND, "no SailPoint identity has %s's email address %s", who, email)
		}
		return person{}, err
	}
	name := u.RealName
	if name == "" {
		name = u.Name
	}
	p := person{SlackID: slackUserID, Name: name, Email: email, Identity: *id}
	r.cache.set(slackUserID, p)
	return p, nil
}

// actor returns the Actor for a Slack user, or a *certs.Error telling the
// user why certops cannot act for them.
func (r *identityResolver) actor(ctx context.Context, slackUserID, slackName string) (certs.Actor, error) {
	bare := r.bareActor(slackUserID, slackName)
	p, err := r.lookup(ctx, bare, slackUserID, true)
	if err != nil {
		return certs.Actor{}, err
	}
	bare.Name = p.Name
	bare.IdentityID = p.Identity.ID
	bare.Email = p.Email
	return bare, nil
}

// bareActor is the actor before its identity is known: enough to ask the
// Service who the user is, never enough to act on a certification.
func (r *identityResolver) bareActor(slackUserID, slackName string) certs.Actor {
	role := certs.RoleReviewer
	if slices.Contains(r.admins, slackUserID) {
		role = certs.RoleAdmin
	}
	return certs.Actor{ID: slackUserID, Name: slackName, Frontend: certs.FrontendSlack, Role: role}
}
