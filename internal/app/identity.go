package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/grantkey"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/settings"
	"github.com/certops/certops/internal/signin"
)

// IdentityConfig is how people are known to ISC (CERTOPS_IDENTITY): email
// (the default: one service client for everyone, people matched by email;
// nothing below is used) or oauth (each person signs in with SailPoint and
// certops calls ISC as them; internal/signin).
type IdentityConfig struct {
	Mode   string
	SignIn signin.Config
	Keys   *grantkey.Keyring
}

// OAuth reports whether people sign in with SailPoint.
func (c IdentityConfig) OAuth() bool { return c.Mode == signin.ModeOAuth }

// loadIdentity reads CERTOPS_IDENTITY and, in oauth mode, the sign-in
// settings and the grant key. With the sandbox, the OAuth client is the
// sandbox's (sandbox-certops), its endpoints are filled in at Open, the
// redirect URL defaults to the sandbox's first, and without a grant key a
// key is made for the run (its grants die with the temporary store).
func loadIdentity(sail sailpoint.Config, withSandbox bool) (IdentityConfig, error) {
	getenv := os.Getenv
	if withSandbox {
		getenv = func(name string) string {
			switch name {
			case "CERTOPS_OAUTH_CLIENT_ID":
				return sandbox.CertopsClientID
			case "CERTOPS_OAUTH_CLIENT_SECRET":
				return sandbox.CertopsClientSecret
			case "CERTOPS_OAUTH_CLIENT_SECRET_FILE", "CERTOPS_OAUTH_AUTHORIZE_URL":
				return ""
			case "CERTOPS_OAUTH_REDIRECT_URL":
				if v := os.Getenv(name); v != "" {
					return v
				}
				return sandbox.DefaultRedirectURIs[0]
			}
			return os.Getenv(name)
		}
	}
	mode, sc, err := signin.LoadConfig(getenv, sail.BaseURL, sail.TokenURL, secret.Options{})
	cfg := IdentityConfig{Mode: mode, SignIn: sc}
	if mode != signin.ModeOAuth {
		return cfg, err
	}
	keys, kerr := grantkey.FromEnv(os.Getenv, secret.Options{})
	if kerr != nil && withSandbox && os.Getenv(grantkey.EnvKey) == "" && os.Getenv(grantkey.EnvKey+"_FILE") == "" {
		keys, kerr = runKey()
	}
	if kerr != nil {
		if strings.Contains(kerr.Error(), "is required") {
			kerr = settings.Missingf(grantkey.EnvKey+"_FILE", "(a file holding a 256-bit key, e.g. openssl rand -base64 32; CERTOPS_IDENTITY=oauth)")
		} else {
			kerr = settings.Named(kerr)
		}
		return cfg, errors.Join(err, kerr)
	}
	cfg.Keys = keys
	return cfg, err
}

// runKey is a grant key for one sandbox run.
func runKey() (*grantkey.Keyring, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return grantkey.New(secret.Static(base64.StdEncoding.EncodeToString(b)), nil)
}

// openSignIn makes the sign-in service in oauth mode and returns the Tenant
// the Service is given: a certs.PersonRouter that sends each person's calls
// with their own client (Required: no person's call goes with the service
// client) and background work with the service client. In email mode it
// returns the service client, as before.
func (a *App) openSignIn(_ context.Context, cfg Config, spOpts sailpoint.Options, tenant *sailpoint.Client) (certs.Tenant, error) {
	id := cfg.Identity
	if !id.OAuth() {
		return tenant, nil
	}
	sc := id.SignIn
	if a.Sandbox != nil {
		sc.AuthURL = a.SandboxURL + "/oauth/authorize"
		sc.TokenURL = a.SandboxURL + "/oauth/token"
	}
	svc, err := signin.New(sc, signin.Options{
		Store: a.Store, Keys: id.Keys, SailPoint: cfg.Sail, Client: spOpts, Logger: a.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	a.SignIn = svc
	return certs.PersonRouter{Service: tenant, Required: true}, nil
}
