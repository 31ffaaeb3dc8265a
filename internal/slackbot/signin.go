package slackbot

// Sign in with SailPoint from Slack (CERTOPS_IDENTITY=oauth; issue 16,
// item 4). A person who has not linked their Slack account is answered
// with a "Sign in with SailPoint" button. Its link is certops's own
// (/oauth/slack/start on the bot's HTTP listener, in Socket Mode too) and
// carries a token sealed with the grant key (AES-GCM: signed and opaque)
// naming their Slack team and user, a nonce and an expiry; it works once.
// Opening it starts the sign-in bound to "slack:<team>/<user>"
// (SignIn.Start), puts that binding in a sealed, HttpOnly, SameSite=Lax
// cookie scoped to the callback, and sends the browser to ISC's login
// page. ISC sends it back to the callback (CERTOPS_OAUTH_REDIRECT_URL's
// path) with code and state; the callback completes the sign-in for the
// cookie's binding (the state must have been started for it: a link
// forwarded to someone else, or a callback URL planted in another browser,
// is refused), saves the Slack user → identity link (certs.LinkStore) and
// shows a result page (signin_pages.go). From then on the Slack user is
// that identity: the bot's Service calls are bound to their own ISC client
// (SignIn.Bind), so what they approve and decide reaches ISC as them. No
// email is matched in this mode.
//
// /certs whoami says who certops knows the person as; /certs logout
// deletes their grant and link. Logging out is a slash command, signed by
// Slack: no web endpoint can be made to do it (CSRF-safe).
//
// Never logged: the link's token, the cookie, ISC's code and state.
//
// Limits: a link's single use is remembered by the process that served
// it, and internal/signin keeps started sign-ins in the process that
// started them: with several replicas, /oauth/ must reach one replica
// (session affinity), as the callback must reach the one that started it.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// SignIn is the sign-in service as the bot uses it (internal/signin's
// Service, adapted by cmd/slackbot).
type SignIn interface {
	// Start begins a sign-in bound to binding and returns ISC's login URL.
	Start(ctx context.Context, binding string) (string, error)
	// Complete finishes it with ISC's state and code and returns the
	// identity that signed in, and its user name when ISC says.
	Complete(ctx context.Context, binding, state, code string) (identityID, userName string, err error)
	// Bind returns ctx acting as the identity (their own ISC client).
	Bind(ctx context.Context, identityID string) (context.Context, error)
	SignOut(ctx context.Context, identityID string) (bool, error)
	SignedIn(ctx context.Context, identityID string) (bool, error)
}

// Sealer seals and opens short texts under a context string (the grant
// key, *grantkey.Keyring).
type Sealer interface {
	Seal(context, plain string) (string, error)
	Open(context, sealed string) (string, error)
}

// SignInConfig turns on Sign in with SailPoint (CERTOPS_IDENTITY=oauth).
type SignInConfig struct {
	Service SignIn
	// Links keeps each Slack user's identity (the store).
	Links certs.LinkStore
	// Keys seal the links' tokens and the browser's cookie.
	Keys Sealer
	// RedirectURL is the callback as registered in ISC; the bot serves its
	// path, and the links point to its origin.
	RedirectURL string
	// LinkTTL is how long a sign-in link may be opened (default 10 minutes).
	LinkTTL time.Duration
}

const (
	signInStartPath   = "/oauth/slack/start"
	signInCookie      = "certops_slack_signin"
	sealLink          = "certops slack sign-in link"
	sealSession       = "certops slack sign-in session"
	actionSignIn      = "signin_link"
	defaultLinkTTL    = 10 * time.Minute
	sessionTTL        = 15 * time.Minute
	slackBindingPrefx = "slack:"
)

// ErrNotLinked is what a person who has not signed in from Slack is told.
const errNotLinked = "you have not signed in with SailPoint from Slack yet: certops acts in SailPoint as you, with your own sign-in. Sign in with SailPoint (`%s login`), then try again"

// signInNeeded is the refusal of a person who must sign in first.
type signInNeeded struct {
	team, user string
	again      bool
	msg        string
}

func (e *signInNeeded) Error() string { return e.msg }

// certsError makes it a *certs.Error (EFORBIDDEN) with itself as the cause.
func (e *signInNeeded) certsError() error {
	return &certs.Error{Code: certs.EFORBIDDEN, Message: e.msg, Err: e}
}

// signInState is the bot's side of the flow.
type signInState struct {
	cfg     SignInConfig
	origin  string // scheme://host of RedirectURL
	cbPath  string
	secure  bool
	used    *ttlCache[string, struct{}] // nonces of opened links
	teams   *ttlCache[string, string]   // Slack user → team (users.info)
	command string
}

func newSignInState(cfg SignInConfig, command string, now func() time.Time) (*signInState, error) {
	u, err := url.Parse(cfg.RedirectURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("slackbot: SignIn.RedirectURL must be an absolute URL")
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = defaultLinkTTL
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return &signInState{cfg: cfg, origin: u.Scheme + "://" + u.Host, cbPath: path, secure: u.Scheme == "https",
		used:  newTTLCache[string, struct{}](100000, cfg.LinkTTL+time.Minute, now),
		teams: newTTLCache[string, string](10000, time.Hour, now), command: command}, nil
}

func slackBinding(team, user string) string { return slackBindingPrefx + team + "/" + user }

func parseBinding(b string) (team, user string, ok bool) {
	rest, ok := strings.CutPrefix(b, slackBindingPrefx)
	if !ok {
		return "", "", false
	}
	team, user, ok = strings.Cut(rest, "/")
	return team, user, ok && user != ""
}

// link makes a sign-in link for the Slack user.
func (s *signInState) link(team, user string, now time.Time) (string, error) {
	nonce, err := randomID()
	if err != nil {
		return "", err
	}
	payload := strings.Join([]string{"v1", team, user, nonce, strconv.FormatInt(now.Add(s.cfg.LinkTTL).Unix(), 10)}, "\n")
	sealed, err := s.cfg.Keys.Seal(sealLink, payload)
	if err != nil {
		return "", err
	}
	return s.origin + signInStartPath + "?link=" + url.QueryEscape(sealed), nil
}

// openLink checks a link's token: team, user, nonce, or false when it is
// not certops's, or expired.
func (s *signInState) openLink(token string, now time.Time) (team, user, nonce string, ok bool) {
	plain, err := s.cfg.Keys.Open(sealLink, token)
	if err != nil {
		return "", "", "", false
	}
	f := strings.Split(plain, "\n")
	if len(f) != 5 || f[0] != "v1" {
		return "", "", "", false
	}
	exp, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return "", "", "", false
	}
	return f[1], f[2], f[3], true
}

// routes adds the sign-in's pages to the bot's HTTP mux.
func (b *Bot) signInRoutes(mux *http.ServeMux, instrument func(string, http.Handler) http.Handler) {
	s := b.signIn
	if s == nil {
		return
	}
	mux.Handle("GET "+signInStartPath, instrument("signin_start", http.HandlerFunc(b.serveSignInStart)))
	mux.Handle("GET "+s.cbPath, instrument("signin_callback", http.HandlerFunc(b.serveSignInCallback)))
}

func (b *Bot) serveSignInStart(w http.ResponseWriter, r *http.Request) {
	s := b.signIn
	now := b.cfg.Now()
	team, user, nonce, ok := s.openLink(r.URL.Query().Get("link"), now)
	if !ok {
		b.log.Warn("slackbot: sign-in link refused: not certops's, or expired")
		writePage(w, http.StatusGone, expiredPage(s.command))
		return
	}
	if !s.used.addIfAbsent(nonce, struct{}{}) {
		b.log.Warn("slackbot: sign-in link refused: already used", "slack_user", user, "team", team)
		writePage(w, http.StatusGone, expiredPage(s.command))
		return
	}
	binding := slackBinding(team, user)
	authURL, err := s.cfg.Service.Start(r.Context(), binding)
	if err != nil {
		b.log.Error("slackbot: sign-in could not start", "slack_user", user, "team", team, "err", certs.ErrorMessage(err))
		writePage(w, http.StatusInternalServerError, errorPage(s.command))
		return
	}
	cookie, err := s.cfg.Keys.Seal(sealSession, binding+"\n"+strconv.FormatInt(now.Add(sessionTTL).Unix(), 10))
	if err != nil {
		b.log.Error("slackbot: sign-in could not start: the grant key is not usable", "err", err)
		writePage(w, http.StatusInternalServerError, errorPage(s.command))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: cookie, Path: s.cbPath, MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	b.log.Info("slackbot: sign-in with SailPoint started", "slack_user", user, "team", team)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// session is the binding of the browser's cookie, if it holds a live one.
func (s *signInState) session(r *http.Request, now time.Time) (string, bool) {
	c, err := r.Cookie(signInCookie)
	if err != nil {
		return "", false
	}
	plain, err := s.cfg.Keys.Open(sealSession, c.Value)
	if err != nil {
		return "", false
	}
	binding, exp, ok := strings.Cut(plain, "\n")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !now.Before(time.Unix(n, 0)) {
		return "", false
	}
	return binding, true
}

func (b *Bot) serveSignInCallback(w http.ResponseWriter, r *http.Request) {
	s := b.signIn
	ctx := r.Context()
	q := r.URL.Query()
	// The cookie has done its work, whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: s.cbPath, MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	binding, ok := s.session(r, b.cfg.Now())
	team, user, bok := parseBinding(binding)
	if !ok || !bok {
		b.log.Warn("slackbot: sign-in callback refused: no live sign-in in this browser")
		writePage(w, http.StatusBadRequest, expiredPage(s.command))
		return
	}
	if e := q.Get("error"); e != "" {
		// Use the state up: it must not be completed later.
		_, _, _ = s.cfg.Service.Complete(ctx, binding, q.Get("state"), "")
		b.log.Info("slackbot: sign-in with SailPoint not completed", "slack_user", user, "team", team, "error", oauthErrorCode(e))
		writePage(w, http.StatusOK, deniedPage(s.command))
		return
	}
	id, name, err := s.cfg.Service.Complete(ctx, binding, q.Get("state"), q.Get("code"))
	if err != nil {
		if certs.ErrorCode(err) == certs.EFORBIDDEN {
			b.log.Warn("slackbot: sign-in with SailPoint refused", "slack_user", user, "team", team, "why", certs.ErrorMessage(err))
			writePage(w, http.StatusBadRequest, expiredPage(s.command))
			return
		}
		b.log.Error("slackbot: sign-in with SailPoint failed", "slack_user", user, "team", team, "err", certs.ErrorMessage(err))
		writePage(w, http.StatusBadGateway, errorPage(s.command))
		return
	}
	if err := s.cfg.Links.SaveLink(ctx, &certs.Link{Key: binding, IdentityID: id}); err != nil {
		b.log.Error("slackbot: sign-in could not be linked to the Slack user", "slack_user", user, "team", team, "identity", id, "err", err)
		writePage(w, http.StatusInternalServerError, errorPage(s.command))
		return
	}
	b.identities.cache.delete(user)
	s.teams.set(user, team)
	b.log.Info("slackbot: Slack user signed in with SailPoint", "slack_user", user, "team", team, "identity", id)
	writePage(w, http.StatusOK, successPage(name, s.command))
}

// oauthErrorCode is an OAuth error code fit for a log: ISC's, or "other".
func oauthErrorCode(e string) string {
	switch e {
	case "access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope", "server_error", "temporarily_unavailable", "login_required", "consent_required":
		return e
	}
	return "other"
}

// team is the Slack user's team (users.info), remembered.
func (s *signInState) team(ctx context.Context, api SlackAPI, user string) (string, error) {
	if t, ok := s.teams.get(user); ok {
		return t, nil
	}
	u, err := api.GetUserInfoContext(ctx, user)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "users_not_found") {
			return "", certs.Errorf(certs.ENOTFOUND, "Slack knows no user <@%s>", user)
		}
		return "", &certs.Error{Code: certs.EUNAVAILABLE, Message: "Slack did not answer who <@" + user + "> is; try again", Err: err}
	}
	s.teams.set(user, u.TeamID)
	return u.TeamID, nil
}

// fetchLinked is identityResolver.fetch in oauth mode: the Slack user's
// link, never their email.
func (r *identityResolver) fetchLinked(ctx context.Context, caller certs.Actor, slackUserID string, self bool) (person, error) {
	s := r.signIn
	team, err := s.team(ctx, r.api, slackUserID)
	if err != nil {
		return person{}, err
	}
	l, err := s.cfg.Links.GetLink(ctx, slackBinding(team, slackUserID))
	if certs.ErrorCode(err) == certs.ENOTFOUND {
		if self {
			return person{}, (&signInNeeded{team: team, user: slackUserID, msg: fmt.Sprintf(errNotLinked, s.command)}).certsError()
		}
		return person{}, certs.Errorf(certs.ENOTFOUND, "<@%s> has not signed in with SailPoint from Slack, so certops cannot tell who they are in SailPoint; name them by email or identity id instead", slackUserID)
	}
	if err != nil {
		return person{}, err
	}
	if self {
		ok, err := s.cfg.Service.SignedIn(ctx, l.IdentityID)
		if err != nil {
			return person{}, err
		}
		if !ok {
			return person{}, (&signInNeeded{team: team, user: slackUserID, again: true,
				msg: fmt.Sprintf("your SailPoint sign-in is no longer valid: sign in with SailPoint again (`%s login`), then try again", s.command)}).certsError()
		}
	}
	p := person{SlackID: slackUserID, Identity: certs.Identity{ID: l.IdentityID}}
	// Who the identity is (name, email), as certops's own client reads it:
	// only what the link already says is trusted.
	if id, err := r.svc.ResolveIdentity(certs.AsService(ctx), caller, l.IdentityID); err == nil && id.ID == l.IdentityID {
		p.Identity = *id
		p.Name, p.Email = id.Name, id.Email
	}
	r.cache.set(slackUserID, p)
	return p, nil
}

// signInPrompt renders err as the "Sign in with SailPoint" prompt when it
// says the person must sign in (first, or again).
func (b *Bot) signInPrompt(user string, err error) (message, bool) {
	s := b.signIn
	if s == nil || err == nil {
		return message{}, false
	}
	var need *signInNeeded
	if !errors.As(err, &need) {
		msg := certs.ErrorMessage(err)
		if certs.ErrorCode(err) != certs.EFORBIDDEN || !(strings.Contains(msg, "sign in with SailPoint") || msg == certs.ErrSignInRequired) {
			return message{}, false
		}
		need = &signInNeeded{user: user, again: true, msg: msg}
	}
	b.identities.cache.delete(user)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	team := need.team
	if team == "" {
		t, err := s.team(ctx, b.api, user)
		if err != nil {
			return message{}, false
		}
		team = t
	}
	if need.again {
		b.dropStaleLink(ctx, team, user)
	}
	m, err := b.signInMessage(team, user, capitalize(need.msg)+".")
	if err != nil {
		b.log.Error("slackbot: no sign-in link could be made", "slack_user", user, "err", err)
		return message{}, false
	}
	return m, true
}

// signInMessage is text with the "Sign in with SailPoint" button.
func (b *Bot) signInMessage(team, user, text string) (message, error) {
	link, err := b.signIn.link(team, user, b.cfg.Now())
	if err != nil {
		return message{}, err
	}
	btn := slack.NewButtonBlockElement(actionSignIn, "", plain("Sign in with SailPoint"))
	btn.URL = link
	btn.Style = slack.StylePrimary
	mins := int(b.signIn.cfg.LinkTTL / time.Minute)
	return message{Text: ":key: " + text, Blocks: []slack.Block{
		section(":key: " + esc(text)),
		slack.NewActionBlock("signin", btn),
		contextLine(fmt.Sprintf("The button works once, for %d minutes, and only for you. SailPoint's login page opens in your browser; certops never sees your password.", mins)),
	}}, nil
}

// signInCommands are /certs login, whoami and logout (oauth mode only).
func (b *Bot) signInCommands() []*command {
	if b.signIn == nil {
		return nil
	}
	return []*command{
		{
			Name: "login", Summary: "Sign in with SailPoint, so that certops acts in SailPoint as you.",
			Parse: noArgs(func(ctx context.Context, in *invocation) (message, error) {
				team, err := b.signIn.team(ctx, b.api, in.user)
				if err != nil {
					return message{}, err
				}
				return b.signInMessage(team, in.user, fmt.Sprintf("You are already signed in with SailPoint as %s. To sign in as someone else, sign in again", in.actor.Name))
			}),
		},
		{
			Name: "whoami", Summary: "Show who certops knows you as in SailPoint (your sign-in with SailPoint).",
			Parse: noArgs(func(ctx context.Context, in *invocation) (message, error) {
				a := in.actor
				who := a.Name
				if who == "" {
					who = "identity " + a.IdentityID
				}
				if a.Email != "" {
					who += " (" + a.Email + ")"
				}
				text := fmt.Sprintf(":bust_in_silhouette: You are *%s* in SailPoint, identity `%s`, signed in with SailPoint from this Slack account: certops acts in SailPoint as you. `%s logout` signs you out.", esc(who), esc(a.IdentityID), b.cfg.Command)
				return message{Text: text, Blocks: []slack.Block{section(text)}}, nil
			}),
		},
		{
			Name: "logout", Summary: "Sign out of SailPoint: certops no longer acts for you until you sign in again.",
			Parse: noArgs(func(ctx context.Context, in *invocation) (message, error) {
				team, err := b.signIn.team(ctx, b.api, in.user)
				if err != nil {
					return message{}, err
				}
				if _, err := b.signIn.cfg.Service.SignOut(ctx, in.actor.IdentityID); err != nil {
					return message{}, err
				}
				if err := b.signIn.cfg.Links.DeleteLink(ctx, slackBinding(team, in.user)); err != nil && certs.ErrorCode(err) != certs.ENOTFOUND {
					return message{}, err
				}
				b.identities.cache.delete(in.user)
				b.log.Info("slackbot: Slack user signed out of SailPoint", "slack_user", in.user, "identity", in.actor.IdentityID)
				text := fmt.Sprintf(":wave: You are signed out of SailPoint: certops no longer acts for you, here or in your AI assistant, until you sign in again (`%s login`).", b.cfg.Command)
				return message{Text: text, Blocks: []slack.Block{section(text)}}, nil
			}),
		},
	}
}

// noArgs is a subcommand that takes no arguments.
func noArgs(w work) func(*command, string) (work, error) {
	return func(c *command, args string) (work, error) {
		if strings.TrimSpace(args) != "" {
			return nil, c.usage("this subcommand takes no arguments")
		}
		return w, nil
	}
}

// personService is the Service with each call made as its actor
// (SignIn.Bind on the call's context): in oauth mode a Slack user's calls
// go to ISC with their own sign-in. An actor without an identity (before
// it is known) is not bound: certs.PersonRouter then refuses a call that
// would reach ISC.
type personService struct {
	Service
	signIn SignIn
}

func (s personService) bind(ctx context.Context, a certs.Actor) (context.Context, error) {
	if a.IdentityID == "" {
		return ctx, nil
	}
	return s.signIn.Bind(ctx, a.IdentityID)
}

// randomID is 128 random bits, URL-safe.
func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
