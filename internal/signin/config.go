package signin

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/settings"
)

// Identity modes (CERTOPS_IDENTITY).
const (
	// ModeEmail: certops calls ISC with its own API client for everyone and
	// learns who a person is by email (the default; nothing here is used).
	ModeEmail = "email"
	// ModeOAuth: each person signs in with SailPoint and certops calls ISC
	// as them.
	ModeOAuth = "oauth"
)

// Config is certops as an OAuth client of ISC (CERTOPS_IDENTITY=oauth).
type Config struct {
	// ClientID and ClientSecret are an ISC OAuth client with the
	// AUTHORIZATION_CODE and REFRESH_TOKEN grant types and RedirectURL among
	// its redirect URIs. No secret: a public client (PKCE only).
	ClientID     string
	ClientSecret secret.Source // nil: public client
	// AuthURL is ISC's authorize endpoint
	// (https://{tenant}.login.sailpoint.com/oauth/authorize); TokenURL its
	// token endpoint ({SAIL_BASE_URL}/oauth/token).
	AuthURL, TokenURL string
	// RedirectURL is certops's callback, registered exactly in ISC.
	RedirectURL string
	Scopes      []string
	// StateTTL is how long a started sign-in may be completed (default
	// DefaultStateTTL).
	StateTTL time.Duration
}

// DefaultStateTTL is how long a sign-in link stays usable.
const DefaultStateTTL = 10 * time.Minute

// DefaultScopes are ISC's scopes for everything the person may do.
var DefaultScopes = []string{"sp:scopes:all"}

// LoadConfig reads the sign-in settings when CERTOPS_IDENTITY is oauth
// (mode is then ModeOAuth); in email mode it reads nothing else. baseURL and
// tokenURL are SAIL_BASE_URL and SAIL_TOKEN_URL (the defaults of the
// endpoints). Problems are *settings.Problem, each naming its variable,
// never echoing a value.
func LoadConfig(getenv func(string) string, baseURL, tokenURL string, opts secret.Options) (mode string, cfg Config, err error) {
	mode = strings.TrimSpace(getenv("CERTOPS_IDENTITY"))
	switch mode {
	case "", ModeEmail:
		return ModeEmail, Config{}, nil
	case ModeOAuth:
	default:
		return ModeEmail, Config{}, settings.Invalidf("CERTOPS_IDENTITY", "must be email or oauth")
	}
	var errs []error
	base := strings.TrimRight(baseURL, "/")
	cfg = Config{
		ClientID:    strings.TrimSpace(getenv("CERTOPS_OAUTH_CLIENT_ID")),
		AuthURL:     strings.TrimSpace(getenv("CERTOPS_OAUTH_AUTHORIZE_URL")),
		TokenURL:    strings.TrimSpace(tokenURL),
		RedirectURL: strings.TrimSpace(getenv("CERTOPS_OAUTH_REDIRECT_URL")),
		Scopes:      strings.Fields(strings.ReplaceAll(getenv("CERTOPS_OAUTH_SCOPES"), ",", " ")),
	}
	if cfg.ClientID == "" {
		errs = append(errs, settings.Missingf("CERTOPS_OAUTH_CLIENT_ID", "(an ISC OAuth client with the AUTHORIZATION_CODE and REFRESH_TOKEN grant types; CERTOPS_IDENTITY=oauth)"))
	}
	sec, err := secret.FromEnv("CERTOPS_OAUTH_CLIENT_SECRET", getenv, opts)
	if err != nil {
		errs = append(errs, settings.Named(err))
	}
	cfg.ClientSecret = sec
	if cfg.AuthURL == "" && base != "" {
		cfg.AuthURL = base + "/oauth/authorize"
	}
	if cfg.TokenURL == "" && base != "" {
		cfg.TokenURL = base + "/oauth/token"
	}
	if cfg.RedirectURL == "" {
		errs = append(errs, settings.Missingf("CERTOPS_OAUTH_REDIRECT_URL", "(certops's callback as registered in the ISC OAuth client, e.g. https://certops.acme.com/oauth/callback)"))
	} else if err := checkURL(cfg.RedirectURL); err != nil {
		errs = append(errs, settings.Invalidf("CERTOPS_OAUTH_REDIRECT_URL", "%v", err))
	}
	if v := getenv("CERTOPS_OAUTH_AUTHORIZE_URL"); v != "" {
		if err := checkURL(cfg.AuthURL); err != nil {
			errs = append(errs, settings.Invalidf("CERTOPS_OAUTH_AUTHORIZE_URL", "%v", err))
		}
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	return mode, cfg, errors.Join(errs...)
}

// checkURL accepts an absolute https URL, or http on a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute https URL")
	}
	if u.Fragment != "" || u.User != nil {
		return errors.New("must have no fragment nor credentials")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return errors.New("must use https (http only on loopback hosts)")
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}
