package main

import (
	"context"
	"fmt"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/signin"
	"github.com/certops/certops/internal/slackbot"
)

// slackSignIn is the bot's Sign in with SailPoint in oauth mode
// (CERTOPS_IDENTITY=oauth), nil in email mode.
func slackSignIn(a *app.App, cfg app.Config) (*slackbot.SignInConfig, error) {
	if !cfg.Identity.OAuth() || a.SignIn == nil {
		return nil, nil
	}
	links, ok := a.Store.(certs.LinkStore)
	if !ok {
		return nil, fmt.Errorf("sign-in: the store keeps no Slack links")
	}
	redirect := cfg.Identity.SignIn.RedirectURL
	return &slackbot.SignInConfig{Service: signInAdapter{a.SignIn}, Links: links, Keys: cfg.Identity.Keys, RedirectURL: redirect}, nil
}

// signInAdapter is *signin.Service as slackbot.SignIn.
type signInAdapter struct{ *signin.Service }

func (s signInAdapter) Complete(ctx context.Context, binding, state, code string) (string, string, error) {
	r, err := s.Service.Complete(ctx, binding, state, code)
	if err != nil {
		return "", "", err
	}
	return r.IdentityID, r.UserName, nil
}
