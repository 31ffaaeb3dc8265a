// Package slackbot is certops' Slack front end: the /certs slash command,
// the Confirm / Approve / Deny buttons, the review (review.go: evidence,
// Approve / Revoke and Sign off, in the reviewer's DM) and the notifier
// that keeps approval messages up to date.
//
// The bot is an edge, not a brain: it verifies what Slack sends, acknowledges
// at once, turns the payload into a call on the certs Service (on a bounded
// worker pool, never on Slack's request), and renders what comes back with
// render.go. Every rule — who may approve or decide, what a plan moves,
// exactly-once submission — lives in internal/certs.
//
// The same Bot serves both transports: HTTP (Handler) and Socket Mode
// (RunSocketMode) call Bot.Command and Bot.Interaction.
package slackbot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// Service is what the bot needs of certs.Service, which satisfies it: the
// bot's every read and change, and the outbox its notifier tells Slack
// about. Tests wrap the real Service to hold or count calls.
type Service interface {
	ListCertifications(ctx context.Context, a certs.Actor, q certs.CertificationQuery) (certs.Page[certs.Certification], error)
	GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error)
	ListReviewers(ctx context.Context, a certs.Actor, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error)
	ListReviewItems(ctx context.Context, a certs.Actor, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error)
	ListItemPermissions(ctx context.Context, a certs.Actor, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error)
	ListPendingTasks(ctx context.Context, a certs.Actor, certID string) ([]certs.Task, error)
	GetTask(ctx context.Context, a certs.Actor, taskID string) (*certs.Task, error)
	ResolveIdentity(ctx context.Context, a certs.Actor, idOrEmail string) (*certs.Identity, error)
	PlanReassignment(ctx context.Context, a certs.Actor, in certs.PlanInput) (*certs.Plan, error)
	RequestApproval(ctx context.Context, a certs.Actor, planID, digest string, approvers []string, refs map[string]string) (*certs.Request, error)
	// MayDecideRequest, before asking an approver anything more (Deny's
	// form); ListAudit, for when a request was decided.
	MayDecideRequest(ctx context.Context, a certs.Actor, requestID string) error
	Approve(ctx context.Context, a certs.Actor, requestID string) (*certs.Request, error)
	Deny(ctx context.Context, a certs.Actor, requestID, reason string) (*certs.Request, error)
	ListAudit(ctx context.Context, a certs.Actor, f certs.EventFilter) ([]certs.Event, error)
	GetRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error)
	SetFrontendRefs(ctx context.Context, a certs.Actor, id string, refs map[string]string) (*certs.Request, error)
	// The review (review.go): evidence, decisions and sign-off.
	ListEvidence(ctx context.Context, a certs.Actor, certID string, ids []string) ([]certs.ItemEvidence, error)
	MayDecide(ctx context.Context, a certs.Actor, certID, onBehalf string) error
	PlanDecisions(ctx context.Context, a certs.Actor, in certs.DecisionInput) (*certs.Plan, error)
	PlanSignOff(ctx context.Context, a certs.Actor, certID, onBehalf string) (*certs.Plan, error)
	GetPlan(ctx context.Context, a certs.Actor, id string) (*certs.Plan, error)
	SubmitPlan(ctx context.Context, a certs.Actor, planID, digest string) (*certs.Request, error)
	ExportReviewEvidence(ctx context.Context, a certs.Actor, certID string) ([]certs.EvidenceRecord, error) // evidence.go
	ClaimNotifications(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]certs.Notification, error)
	AckNotifications(ctx context.Context, consumer, owner string, seq int64) error
}

var _ Service = (*certs.Service)(nil)

// SlackAPI is the part of slack-go's Web API client the bot calls;
// *slack.Client satisfies it.
type SlackAPI interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
	// The evidence export's file, in a direct message (evidence.go).
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ SlackAPI = (*slack.Client)(nil)

// Config configures a Bot. Zero values get the defaults noted.
type Config struct {
	// Command is the slash command's name ("/certs").
	Command string
	// ApprovalsChannel is the channel id where requests are posted for
	// approval.
	ApprovalsChannel string
	// Approvers are Slack user ids that may decide requests;
	// ApproverGroup is a Slack user group id whose members may too
	// (resolved when a request is filed).
	Approvers     []string
	ApproverGroup string
	// Admins are Slack user ids that act with certs.RoleAdmin.
	Admins []string
	// CertificationURL links certifications to the tenant's UI: a URL
	// with "{id}" where the certification id goes. No links when empty.
	CertificationURL string

	// Workers and QueueSize bound the pool that does the work after an
	// acknowledgement (defaults 8 and 256). JobTimeout bounds one job
	// (default 2 minutes).
	Workers    int
	QueueSize  int
	JobTimeout time.Duration

	// IdentityTTL and IdentityCacheSize bound the Slack user → ISC identity
	// cache (defaults 10 minutes and 10 000 users).
	IdentityTTL       time.Duration
	IdentityCacheSize int

	// MaxBodyBytes caps an HTTP request body (default 64 KiB; Slack's
	// largest interaction payloads are a few KiB).
	MaxBodyBytes int64

	// HTTPClient posts to response_url (http.DefaultClient's settings with
	// a 10 s timeout when nil).
	HTTPClient *http.Client
	// AnyResponseURL lets the bot post to a payload's response_url on any
	// host. Off (the default), it posts only to Slack's own
	// (https://hooks.slack.com, hooks.slack-gov.com) and answers a payload
	// naming another with chat.postEphemeral. For a test Slack only
	// (cmd/slackbot: a SLACK_API_URL that is not Slack's).
	AnyResponseURL bool
	// ReminderHours are the working hours of reminders (CERTOPS_REMINDERS_HOURS,
	// _DAYS): a digest's Snooze buttons wait until they start again
	// (certs.DefaultWorkingHours when zero).
	ReminderHours certs.WorkingHours
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics counts slash commands (none when nil; *metrics.Metrics fits).
	Metrics Metrics
	// SignIn, when set (CERTOPS_IDENTITY=oauth), has people sign in with
	// SailPoint from Slack and act in ISC as themselves; no email is
	// matched (signin.go).
	SignIn *SignInConfig
}

// Metrics receives one record per /certs command: the subcommand (one of
// the command table's names, or "unknown": the text is typed by people)
// and the outcome, "ok" or the certs error code it failed with.
type Metrics interface {
	SlashCommand(subcommand, outcome string)
}

// Slash command outcomes beside the certs error codes.
const (
	outcomeOK         = "ok"
	subcommandUnknown = "unknown"
)

// countCommand records a command's outcome.
func (b *Bot) countCommand(name string, err error) {
	if b.cfg.Metrics == nil {
		return
	}
	outcome := outcomeOK
	if err != nil {
		var usage *usageError
		if errors.As(err, &usage) {
			outcome = certs.EINVALID
		} else {
			outcome = certs.ErrorCode(err)
		}
	}
	b.cfg.Metrics.SlashCommand(name, outcome)
}

func (c *Config) setDefaults() {
	if c.Command == "" {
		c.Command = "/certs"
	}
	if !strings.HasPrefix(c.Command, "/") {
		c.Command = "/" + c.Command
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 2 * time.Minute
	}
	if c.IdentityTTL <= 0 {
		c.IdentityTTL = 10 * time.Minute
	}
	if c.IdentityCacheSize <= 0 {
		c.IdentityCacheSize = 10000
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Bot turns Slack payloads into Service calls. Create it with New, start its
// worker pool with Start, and stop it with Shutdown.
type Bot struct {
	cfg        Config
	svc        Service
	api        SlackAPI
	log        *slog.Logger
	commands   []*command
	identities *identityResolver
	seen       *ttlCache[string, struct{}] // deliveries already handled
	pool       *pool
	render     *renderer
	review     *reviewState
	home       *homeState   // home.go: Home tab refreshes
	signIn     *signInState // signin.go: nil in email mode
	// side tracks the few Slack calls made beside an ack (views.open), so
	// that Shutdown waits for them too.
	side sync.WaitGroup
}

// New returns a Bot. svc and api are required.
func New(cfg Config, svc Service, api SlackAPI) *Bot {
	cfg.setDefaults()
	b := &Bot{
		cfg:    cfg,
		svc:    svc,
		api:    api,
		log:    cfg.Logger,
		seen:   newTTLCache[string, struct{}](50000, 30*time.Minute, cfg.Now),
		render: &renderer{now: cfg.Now, command: cfg.Command, certURL: cfg.CertificationURL},
		review: newReviewState(),
		home:   newHomeState(),
	}
	if cfg.SignIn != nil {
		s, err := newSignInState(*cfg.SignIn, cfg.Command, cfg.Now)
		if err != nil {
			panic(err) // checked with the other settings at start-up
		}
		b.signIn = s
		b.svc = personService{Service: svc, signIn: cfg.SignIn.Service}
	}
	b.identities = newIdentityResolver(b.svc, api, cfg)
	b.identities.signIn = b.signIn
	b.commands = append(b.commandTable(), b.signInCommands()...)
	b.pool = newPool(cfg.Workers, cfg.QueueSize, cfg.JobTimeout, cfg.Logger)
	return b
}

// Start starts the worker pool. Jobs run with contexts derived from ctx's
// values but not its cancellation: Shutdown, not ctx, ends them.
func (b *Bot) Start(ctx context.Context) { b.pool.start(context.WithoutCancel(ctx)) }

// Shutdown stops taking work and waits, until ctx ends, for queued and
// running jobs to finish.
func (b *Bot) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.side.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return b.pool.shutdown(ctx)
}

// firstDelivery reports whether the delivery (kind, id) has not been seen
// before, and marks it seen. Slack retries deliveries it thinks failed (X-Slack-Retry-Num) and a
// user can send the same payload twice; both must do nothing twice.
func (b *Bot) firstDelivery(kind, id string) bool {
	if id == "" {
		return true
	}
	return b.seen.addIfAbsent(kind+":"+id, struct{}{})
}
