package sailpoint

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/certops/certops/internal/settings"
)

// API flavours: SailPoint's versioned v3 paths (/v3/certifications) or its
// per-service paths (/certifications/v1), which replace v3 and beta.
const (
	APIv3 = "v3"
	APIv1 = "v1"
)

// Config is how to reach one ISC tenant. LoadConfig reads it from the
// environment; New validates it again, so a Config built in code gets the
// same checks.
type Config struct {
	// BaseURL, ClientID and a client secret are required (Validate says so).
	BaseURL      string `envconfig:"SAIL_BASE_URL"`      // the tenant's API URL, e.g. https://acme.api.identitynow.com
	ClientID     string `envconfig:"SAIL_CLIENT_ID"`     // OAuth client id (or personal access token id)
	ClientSecret string `envconfig:"SAIL_CLIENT_SECRET"` // never logged; required unless ClientSecretFile is set
	// ClientSecretFile holds the client secret instead, re-read when the
	// file changes (internal/secret): a rotated secret is used from the
	// next token fetch, and a token request refused as unauthorized re-reads
	// the file at once. Setting both is an error.
	ClientSecretFile string `envconfig:"SAIL_CLIENT_SECRET_FILE"`
	TokenURL         string `envconfig:"SAIL_TOKEN_URL"`                // default {base}/oauth/token
	APIVersion       string `envconfig:"SAIL_API_VERSION" default:"v3"` // v3 | v1 (per-service paths)
	// RateLimit per RateWindow is SailPoint's limit per client id: at most
	// RateLimit of the client's requests are in flight or finished within
	// any RateWindow, and an idle window admits them all at once, with no
	// added wait. After 429s the client paces itself lower until a window
	// passes without one (see pacer). 0: no client-side limit (a 429's
	// Retry-After still holds every call).
	RateLimit  int           `envconfig:"SAIL_RATE_LIMIT" default:"100"`
	RateWindow time.Duration `envconfig:"SAIL_RATE_WINDOW" default:"10s"`
	// RateBurst, from 1 to RateLimit-1, also spreads requests evenly:
	// RateBurst at once, then one every RateWindow/RateLimit, even while
	// the window has room (the client's pace before; New logs a warning).
	// 0, the default, or RateLimit and more: the window alone.
	RateBurst   int           `envconfig:"SAIL_RATE_BURST" default:"0"`
	Timeout     time.Duration `envconfig:"SAIL_TIMEOUT" default:"30s"`     // per attempt
	MaxRetries  int           `envconfig:"SAIL_MAX_RETRIES" default:"5"`   // retry budget per read
	Concurrency int           `envconfig:"SAIL_CONCURRENCY" default:"8"`   // pages fetched at once by list-all
	MaxBackoff  time.Duration `envconfig:"SAIL_MAX_BACKOFF" default:"10s"` // cap of the exponential backoff between retries; 0 in code: 10s
	// AllowHTTP lets the base and token URLs be plain http on any host, not
	// only on loopback: for the sandbox tenant (cmd/sandbox) running as its
	// own Deployment in a trial cluster (manifests/components/sandbox). The
	// client secret and tokens then cross the network unencrypted, so never
	// set it for a real tenant; New logs a warning when it is used.
	AllowHTTP bool `envconfig:"SAIL_ALLOW_HTTP"`
}

// Bounds that keep a typo from turning into a denial of service.
const (
	maxRetriesLimit     = 20
	maxConcurrencyLimit = 64
)

// LoadConfig reads the SAIL_* variables from the environment and validates
// them, reporting every problem at once (an errors.Join of
// *settings.Problem), each naming its variable. A value that does not parse
// is not echoed: it might be a secret pasted in the wrong variable.
func LoadConfig() (Config, error) {
	var cfg Config
	var errs settings.Errors
	errs.Add(settings.Process("", &cfg))
	// Validate names again what Process found missing or unparsable;
	// settings.Errors keeps the first word on each variable.
	errs.Add(cfg.Validate())
	if err := errs.Err(); err != nil {
		return Config{}, errors.Join(err.(*settings.Error).Problems...)
	}
	return cfg, nil
}

// Validate checks every setting and returns all problems at once, each naming
// its variable. The base and token URLs must be https unless their host is a
// loopback address (the sandbox, a local proxy).
func (c Config) Validate() error {
	var errs []error
	add := func(name, format string, args ...any) { errs = append(errs, settings.Invalidf(name, format, args...)) }

	if strings.TrimSpace(c.BaseURL) == "" {
		errs = append(errs, settings.Missingf("SAIL_BASE_URL", "(the tenant's API URL, e.g. https://acme.api.identitynow.com)"))
	} else if err := checkURL(c.BaseURL, c.AllowHTTP); err != nil {
		add("SAIL_BASE_URL", "%v", err)
	}
	if c.TokenURL != "" {
		if err := checkURL(c.TokenURL, c.AllowHTTP); err != nil {
			add("SAIL_TOKEN_URL", "%v", err)
		}
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, settings.Missingf("SAIL_CLIENT_ID", "(the id of an ISC API client of an ORG_ADMIN or CERT_ADMIN identity)"))
	}
	switch {
	case c.ClientSecret == "" && c.ClientSecretFile == "":
		errs = append(errs, settings.Missingf("SAIL_CLIENT_SECRET", "(or SAIL_CLIENT_SECRET_FILE)"))
	case c.ClientSecret != "" && c.ClientSecretFile != "":
		add("SAIL_CLIENT_SECRET", "and SAIL_CLIENT_SECRET_FILE are both set: set only one (SAIL_CLIENT_SECRET_FILE to re-read the secret when the file changes)")
	}
	if c.APIVersion != APIv3 && c.APIVersion != APIv1 {
		add("SAIL_API_VERSION", "must be v3 or v1, got %s", printable(c.APIVersion))
	}
	if c.RateLimit < 0 {
		add("SAIL_RATE_LIMIT", "must be 0 (no limit) or more, got %d", c.RateLimit)
	}
	if c.RateLimit > 0 && c.RateWindow <= 0 {
		add("SAIL_RATE_WINDOW", "must be positive, got %s", c.RateWindow)
	}
	if c.RateBurst < 0 {
		add("SAIL_RATE_BURST", "must be 0 or more, got %d", c.RateBurst)
	}
	if c.Timeout <= 0 {
		add("SAIL_TIMEOUT", "must be positive, got %s", c.Timeout)
	}
	if c.MaxRetries < 0 || c.MaxRetries > maxRetriesLimit {
		add("SAIL_MAX_RETRIES", "must be between 0 and %d, got %d", maxRetriesLimit, c.MaxRetries)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrencyLimit {
		add("SAIL_CONCURRENCY", "must be between 1 and %d, got %d", maxConcurrencyLimit, c.Concurrency)
	}
	if c.MaxBackoff < 0 {
		add("SAIL_MAX_BACKOFF", "must be 0 or more, got %s", c.MaxBackoff)
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute https URL, or http on a loopback host (on
// any host with allowHTTP), with no credentials, query or fragment.
func checkURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL: %v", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("must be an absolute https URL, got %s", printable(raw))
	}
	if u.User != nil {
		return errors.New("must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment")
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return fmt.Errorf("must use https (http is allowed only on loopback hosts, or with SAIL_ALLOW_HTTP=true for the sandbox), got %s", printable(raw))
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// printable shows a value in an error message: as is when it is a plain
// word, quoted otherwise, and cut short.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	plain := s != ""
	for _, r := range s {
		if r <= ' ' || r == '"' || r > '~' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return fmt.Sprintf("%q", s)
}
