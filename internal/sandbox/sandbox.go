// Package sandbox is an emulated SailPoint Identity Security Cloud (ISC)
// tenant: an http.Handler that serves the certification and public-identity
// operations of SailPoint's beta, v3 and per-service v1 APIs (the specs in
// api/sailpoint) from one in-memory state, with OAuth2 client credentials
// and ISC's authorization-code flow (people sign in on a login page and
// act as themselves; oauth.go), ISC's rate limit, asynchronous
// reassignment tasks, and knobs for latency and faults. Every certops test talks to it over HTTP, and `cmd/sandbox`
// runs it as a local tenant for any ISC client.
//
// The whole API is in routes.go; every call goes through api.go (latency,
// authentication, rate limit, faults). Where SailPoint's documents are
// silent, the sandbox decides:
//   - Clients: the admin client (AdminClientID/AdminClientSecret) sees every
//     certification; reviewer clients sandbox-reviewer-N /
//     sandbox-reviewer-N-secret (N = 1..3, the reviewers of the first
//     seeded certifications) see only what they review, like personal
//     access tokens, and get 403 on others' certifications.
//   - People: every active person signs in on /oauth/authorize's login page
//     (Person, People) through an OAuth client (sandbox-certops,
//     confidential; sandbox-public, public); their user tokens act as they
//     do: the admin identity as the admin client, anyone else as a reviewer
//     client of their own. How the flow is checked: oauth.go.
//   - reviewer-identity=me (beta: reviewer-identitiy=me) is the caller's
//     identity; the admin client's identity ("Sandbox Admin") reviews
//     nothing, so "me" lists nothing for it.
//   - STAGED certifications are hidden from their reviewers (404).
//   - TARGET_SUMMARY references name an access id reviewed in the
//     certification; moved items keep their decisions and go to the new
//     reviewer's ACTIVE certification of the same campaign, or a new one
//     whose reassignment.from names the source. A certification's
//     reviewers are its reviewer plus those its work was reassigned to.
//   - Dates are relative to Config.Now when New runs; ids are deterministic
//     from the seed (runtime ids too, from a separate stream).
//   - Latency, faults and the rate limit apply to API operations only,
//     not to /oauth/* or /_sandbox/*, which need no token. A user token's
//     rate limit is per OAuth client and person.
//   - Beta CertificationDto: see certificationDto for its spec defects.
//   - Decisions: a decided item may be decided again until sign-off; the
//     decision history, which ISC's API does not show, is kept outside it
//     (see DecisionRecord), and so is who reassigned (ReassignmentRecord).
//     What the seed holds for reviews: seed.go.
package sandbox

import (
	"cmp"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a Sandbox. The zero value is the small default tenant.
type Config struct {
	// Seed makes the data: the same seed and size give the same ids,
	// names and items. Default 1. Dates are relative to Now at New.
	Seed int64
	// Certifications is how many certifications to seed (default 12;
	// 10_000 for the large size).
	Certifications int
	// ItemsPerCertification is how many review items each seeded
	// certification has (default 8; 10 for the large size).
	ItemsPerCertification int
	// RateLimit is how many API requests one client id may make per
	// RateWindow and API version (default 100, as ISC; negative means
	// unlimited).
	RateLimit  int
	RateWindow time.Duration // default 10s
	// Latency and Jitter are added to every API response (not to
	// /oauth/token or /_sandbox/*): Latency plus up to Jitter.
	Latency, Jitter time.Duration
	// ErrorRate is the fraction of API calls answered 500.
	ErrorRate float64
	// TaskQueuedFor is how long an async task stays QUEUED (default
	// 200ms); TaskRunningFor how long it then stays IN_PROGRESS (default
	// 300ms) before it ends in SUCCESS or ERROR.
	TaskQueuedFor, TaskRunningFor time.Duration
	// TokenTTL is the access tokens' lifetime (default 749s).
	TokenTTL time.Duration
	// RedirectURIs are the redirect URIs registered for the OAuth clients
	// (CertopsClientID and PublicClientID), matched exactly (default
	// DefaultRedirectURIs).
	RedirectURIs []string
	// AuthCodeTTL is how long an authorization code can be redeemed
	// (default 60s); RefreshTokenTTL a refresh token's lifetime from its
	// issue (default 24h).
	AuthCodeTTL, RefreshTokenTTL time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Size presets.
const (
	SmallCertifications = 12
	SmallItemsPerCert   = 8
	LargeCertifications = 10_000
	LargeItemsPerCert   = 10
)

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Certifications <= 0 {
		c.Certifications = SmallCertifications
	}
	if c.ItemsPerCertification <= 0 {
		c.ItemsPerCertification = SmallItemsPerCert
	}
	if c.RateLimit == 0 {
		c.RateLimit = 100
	}
	c.RateWindow = cmp.Or(c.RateWindow, 10*time.Second)
	c.TaskQueuedFor = cmp.Or(c.TaskQueuedFor, 200*time.Millisecond)
	c.TaskRunningFor = cmp.Or(c.TaskRunningFor, 300*time.Millisecond)
	c.TokenTTL = cmp.Or(c.TokenTTL, 749*time.Second)
	c.AuthCodeTTL = cmp.Or(c.AuthCodeTTL, 60*time.Second)
	c.RefreshTokenTTL = cmp.Or(c.RefreshTokenTTL, 24*time.Hour)
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = DefaultRedirectURIs
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Role of a client.
const (
	RoleAdmin    = "admin"
	RoleReviewer = "reviewer"
)

// The admin client's fixed credentials.
const (
	AdminClientID     = "sandbox-admin"
	AdminClientSecret = "sandbox-admin-secret"
)

// Credential is an API client of the tenant. The admin client is like an
// ORG_ADMIN API client: it sees every certification. Reviewer clients are
// like personal access tokens of a reviewer: they see only the
// certifications their identity reviews.
type Credential struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Role         string `json:"role"`
	IdentityID   string `json:"identityId"`
	Name         string `json:"name"`
	Email        string `json:"email"`
}

// reviewerClients is how many reviewer clients the sandbox offers:
// sandbox-reviewer-1 … -3, the reviewers of the first three seeded
// certifications.
const reviewerClients = 3

// Sandbox is the emulated tenant. It is safe for concurrent use.
type Sandbox struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	clients map[string]Credential
	order   []string // client ids, admin first

	mu      sync.Mutex
	st      *state
	newID   func() string // runtime ids (tasks, certifications), deterministic
	rng     *rand.Rand    // error rate and jitter
	tokens  map[secretKey]token
	oauth   oauthState
	limits  map[limitKey]*window
	faults  []Fault
	latency time.Duration
	jitter  time.Duration
	stats   statsCounters
	// decisions is the decision history (see DecisionRecord); decideCalls
	// numbers the decide calls that applied decisions.
	decisions   []DecisionRecord
	decideCalls int
	// reassignments is the reassignment history (see ReassignmentRecord).
	reassignments []ReassignmentRecord
}

// New builds a sandbox from cfg (defaults filled in).
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	st := seed(cfg, cfg.Now())
	s := &Sandbox{
		cfg:     cfg,
		log:     cfg.Logger,
		st:      st,
		newID:   newIDGen(cfg.Seed, 3).next,
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), 4)),
		tokens:  map[secretKey]token{},
		limits:  map[limitKey]*window{},
		latency: cfg.Latency,
		jitter:  cfg.Jitter,
	}
	s.stats.reset()
	s.clients = map[string]Credential{}
	admin := Credential{ClientID: AdminClientID, ClientSecret: AdminClientSecret, Role: RoleAdmin,
		IdentityID: st.admin.ID, Name: st.admin.Name, Email: st.admin.Email}
	s.clients[admin.ClientID] = admin
	s.order = append(s.order, admin.ClientID)
	seen := map[string]bool{}
	for _, c := range st.certs {
		if len(seen) == reviewerClients {
			break
		}
		if seen[c.Reviewer.ID] {
			continue
		}
		seen[c.Reviewer.ID] = true
		n := len(seen)
		cred := Credential{
			ClientID:     reviewerClientID(n),
			ClientSecret: reviewerClientID(n) + "-secret",
			Role:         RoleReviewer,
			IdentityID:   c.Reviewer.ID, Name: c.Reviewer.Name, Email: c.Reviewer.Email,
		}
		s.clients[cred.ClientID] = cred
		s.order = append(s.order, cred.ClientID)
	}
	s.oauth = newOAuthState(cfg.RedirectURIs)
	s.mux = s.routes()
	return s
}

func reviewerClientID(n int) string { return "sandbox-reviewer-" + string(rune('0'+n)) }

// Clients returns the tenant's API clients: the admin client first, then
// the reviewer clients.
func (s *Sandbox) Clients() []Credential {
	out := make([]Credential, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.clients[id])
	}
	return out
}

// SetLatency changes the latency added to every API response.
func (s *Sandbox) SetLatency(fixed, jitter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency, s.jitter = max(0, fixed), max(0, jitter)
}

// ServeHTTP serves the tenant's API.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.EscapedPath()) {
		// ServeMux would redirect to the cleaned path; ISC's gateway
		// answers that no such resource exists.
		writeError(w, notFound("no resource at this path"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath reports whether a path has no empty, "." or ".." segments,
// escaped or not ("/" alone is clean).
func cleanPath(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// SetIdentityActive makes an identity active or inactive (as when a person
// leaves), so tests can make a queued reassignment's target invalid.
// It returns false for an unknown identity.
func (s *Sandbox) SetIdentityActive(id string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.st.identityByID[id]
	if !ok {
		return false
	}
	if active {
		i.State, i.Status = "ACTIVE", "Active"
	} else {
		i.State, i.Status = "INACTIVE_LONG_TERM", "Terminated"
		// ISC ends the sessions of a person who leaves: their grants go.
		for _, g := range s.oauth.grants {
			if g.person == i && !g.revoked {
				s.revokeGrant(g, "identity inactive")
			}
		}
	}
	return true
}
