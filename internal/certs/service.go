package certs

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Policy is how a deployment wants reassignments decided. Front ends build
// it from their configuration; the Service enforces it.
type Policy struct {
	// RequireApproval makes SubmitPlan file a request for approvers instead
	// of submitting (MCP); Slack always files requests.
	RequireApproval bool
	// Approvers are approver keys (see Actor.Keys) allowed to decide every
	// request, in addition to those a front end adds when filing.
	Approvers []string
	// RequestTTL is how long a request waits for a decision
	// (DefaultRequestTTL when zero).
	RequestTTL time.Duration
}

// Options configures a Service. Tenant and Store are required.
type Options struct {
	Tenant Tenant
	Store  Store
	Policy Policy
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); tests inject their own.
	Now func() time.Time
	// NewID makes ids for plans and requests (random when nil).
	NewID func() string
	// TaskPoll is the first wait between reads of a running ISC task; it
	// doubles up to TaskPollMax. Defaults: 500ms and 10s.
	TaskPoll, TaskPollMax time.Duration
	// Owner names this process in leases (hostname:pid when empty).
	Owner string

	// SubmitLease is how long a request may sit in approved or submitting
	// without a change before the worker takes it over (default 5m). Every
	// recorded ISC call renews it, and each ISC call made while submitting
	// is bounded by half of it, so a live submitter is never overtaken.
	SubmitLease time.Duration
	// ClaimLease is how long the worker holds a request it claimed
	// (default 1m).
	ClaimLease time.Duration
	// ExportThreshold is the number of rows from which a read counts as a
	// bulk export and is audited (default ExportThreshold).
	ExportThreshold int
	// Metrics receives approval outcomes and request ages (none when nil).
	Metrics Metrics
}

// ExportThreshold is the default number of rows from which a read is a bulk
// export and writes an ActionExport event.
const ExportThreshold = 100

// CertificationQuery selects certifications for a person.
type CertificationQuery struct {
	// Reviewer is "" or "me" for the actor's own certifications, or an
	// identity id (admins only).
	Reviewer string
	// CampaignID restricts to one campaign; with it and no Reviewer, an
	// admin sees every reviewer's certifications of the campaign.
	CampaignID string
	// Completed selects open (false) or completed (true) ones; nil is both.
	Completed *bool
	Page      PageOptions
}

// CertificationDetail is one certification with what certops knows about
// it beyond ISC: the reassignment requests filed against it and its pending
// ISC tasks.
type CertificationDetail struct {
	Certification
	DecidedFraction float64    `json:"progress"`
	PendingTasks    []Task     `json:"pendingTasks"`
	Requests        []*Request `json:"requests"`
}

// Service is the one service layer both front ends call. Every method takes
// the Actor on whose behalf it runs; reviewer-role actors see and act on only
// the certifications their identity reviews (EFORBIDDEN otherwise: the ids
// are random, so saying "not yours" leaks nothing and tells the person why).
//
// The methods are spread over files by concept: service_certifications.go
// (reads), service_plan.go (planning), service_requests.go (filing and
// deciding), service_audit.go; the life of a request after that is
// described once in lifecycle.go and carried out by submit.go, settle.go and
// service_worker.go, with the rules of each kind of change in change_*.go.
type Service struct {
	opts Options
	log  *slog.Logger

	// polls holds, per submitted request, when this process next reads its
	// ISC tasks (the backoff between TaskPoll and TaskPollMax). It is a
	// per-process cache: losing it only means an earlier poll.
	pollMu sync.Mutex
	polls  map[string]pollState
}

type pollState struct {
	next time.Time
	wait time.Duration
}

// NewService returns a Service. It panics if Tenant or Store is nil.
func NewService(opts Options) *Service {
	if opts.Tenant == nil || opts.Store == nil {
		panic("certs.NewService: Tenant and Store are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.NewString() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.TaskPoll <= 0 {
		opts.TaskPoll = 500 * time.Millisecond
	}
	if opts.TaskPollMax <= 0 {
		opts.TaskPollMax = 10 * time.Second
	}
	if opts.TaskPollMax < opts.TaskPoll {
		opts.TaskPollMax = opts.TaskPoll
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if opts.Policy.RequestTTL <= 0 {
		opts.Policy.RequestTTL = DefaultRequestTTL
	}
	if opts.SubmitLease <= 0 {
		opts.SubmitLease = 5 * time.Minute
	}
	if opts.ClaimLease <= 0 {
		opts.ClaimLease = time.Minute
	}
	if opts.ExportThreshold <= 0 {
		opts.ExportThreshold = ExportThreshold
	}
	if opts.Metrics != nil {
		opts.Store = meteredStore{Store: opts.Store, met: opts.Metrics, now: func() time.Time { return opts.Now().UTC() }}
	}
	return &Service{opts: opts, log: opts.Logger, polls: map[string]pollState{}}
}

// Policy returns the policy in force (with defaults applied).
func (s *Service) Policy() Policy { return s.opts.Policy }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// event returns an audit event stamped with the service's clock.
func (s *Service) event(a Actor, action Action, certID string) Event {
	return Event{Time: s.now(), Actor: a, Action: action, CertificationID: certID}
}
