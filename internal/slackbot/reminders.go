package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// The reminder sweep: certs decides which digest and escalation is due
// (internal/certs/reminders.go); this file finds each reviewer in Slack
// (users.lookupByEmail, which also gives their time zone), sends the
// message once, and keeps Slack's rate limits.
//
// Exactly once: each message has a key (certs.DigestKey, EscalationKey),
// claimed in the store before it is sent and finished after
// (Service.ClaimReminder, FinishReminder), so two replicas never both send
// it and a restart does not send the day's digests again. A replica that
// dies between posting and recording leaves a lapsed claim; whoever claims
// it next (Attempt > 1) first reads the conversation (conversations.history
// newest first, with include_all_metadata) for a message whose
// metadata is {event_type: certops_reminder, event_payload: {key}} and, if
// it is there, records it as sent instead of posting again. Slack lets us
// know no more than that: a post whose request Slack received but whose
// answer was lost, and which Slack had not yet stored when history was
// read, would be sent twice; history is read after the lease (minutes)
// has passed, by which time Slack has answered any post.

// ReminderService is what the sweep needs of certs.Service.
type ReminderService interface {
	OpenCertificationsByReviewer(ctx context.Context) ([]certs.ReviewerCerts, error)
	ClaimReminder(ctx context.Context, r certs.Reminder, owner string, lease time.Duration) (*certs.Reminder, bool, error)
	FinishReminder(ctx context.Context, r *certs.Reminder, owner string, state certs.ReminderState, channel, ts string, snapshot []certs.ReminderCert, action certs.Action, certID, detail string) (*certs.Reminder, error)
	LastDigest(ctx context.Context, subject string) (*certs.Reminder, error)
	ReminderPrefsOf(ctx context.Context, identityID string) (certs.ReminderPrefs, error)
	ManagerOf(ctx context.Context, identityID string) (*certs.Identity, error)
}

var _ ReminderService = (*certs.Service)(nil)

// ReminderAPI is the part of Slack's Web API the sweep calls.
type ReminderAPI interface {
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

var _ ReminderAPI = (*slack.Client)(nil)

// ReminderEventType is the metadata event_type of certops' reminders.
const ReminderEventType = "certops_reminder"

// RemindersConfig configures the sweep. Zero values get the defaults noted.
type RemindersConfig struct {
	Schedule certs.ReminderSchedule
	// AdminsChannel receives escalations whose step says channel.
	AdminsChannel string
	// Command is the slash command named in the messages ("/certs").
	Command string
	// Owner names this replica in claims (hostname:pid); Lease is how long
	// a claim lasts (2m).
	Owner string
	Lease time.Duration
	// Interval between sweeps (5m).
	Interval time.Duration
	// PostEvery paces chat.postMessage across the sweep (250ms: 4 a second,
	// and never 2 a second to one channel); a ratelimited answer waits its
	// Retry-After and tries again, up to MaxRetries (5) times.
	PostEvery  time.Duration
	MaxRetries int
	// CertificationURL as in Config.
	CertificationURL string
	Now              func() time.Time
	Sleep            func(ctx context.Context, d time.Duration) error
	Logger           *slog.Logger
}

func (c *RemindersConfig) setDefaults() {
	if c.Command == "" {
		c.Command = "/certs"
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Interval <= 0 {
		c.Interval = 5 * time.Minute
	}
	if c.PostEvery <= 0 {
		c.PostEvery = 250 * time.Millisecond
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Schedule.Hours == (certs.WorkingHours{}) {
		c.Schedule.Hours = certs.DefaultWorkingHours
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Reminders sends digests and escalations.
type Reminders struct {
	svc ReminderService
	api ReminderAPI
	cfg RemindersConfig
	log *slog.Logger

	mu        sync.Mutex
	people    map[string]slackPerson // by email, kept for peopleTTL across sweeps
	peopleAt  time.Time              // when people was last emptied
	lastPost  time.Time
	byChannel map[string]time.Time // last post per channel
}

// peopleTTL is how long a Slack user found by email is reused: looking
// everyone up on every sweep would spend users.lookupByEmail's Tier 3
// budget (about 50 a minute) again every few minutes.
const peopleTTL = 6 * time.Hour

type slackPerson struct {
	ID  string
	Loc *time.Location
}

// NewReminders returns a sweep.
func NewReminders(svc ReminderService, api ReminderAPI, cfg RemindersConfig) *Reminders {
	cfg.setDefaults()
	return &Reminders{svc: svc, api: api, cfg: cfg, log: cfg.Logger}
}

// SweepStats counts one sweep's work.
type SweepStats struct {
	Reviewers, Digests, Escalations, Recovered, Skipped int
}

// Run sweeps every Interval until ctx ends.
func (r *Reminders) Run(ctx context.Context) error {
	for {
		if st, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("slackbot: reminder sweep failed; next sweep will retry", "err", err)
		} else if st.Digests+st.Escalations > 0 {
			r.log.Info("slackbot: reminders sent", "digests", st.Digests, "escalations", st.Escalations, "recovered", st.Recovered)
		}
		if err := sleepCtx(ctx, r.cfg.Interval); err != nil {
			return nil
		}
	}
}

// Sweep reads ISC once, and sends each reviewer's digest and each
// certification's escalation that is due and not yet sent.
func (r *Reminders) Sweep(ctx context.Context) (SweepStats, error) {
	ctx = certs.Background(ctx) // nobody waits on it: its SailPoint calls go after people's
	var st SweepStats
	all, err := r.svc.OpenCertificationsByReviewer(ctx)
	if err != nil {
		return st, err
	}
	r.mu.Lock()
	if r.people == nil || r.cfg.Now().Sub(r.peopleAt) >= peopleTTL {
		r.people, r.peopleAt = map[string]slackPerson{}, r.cfg.Now()
	}
	r.mu.Unlock()
	var errs []error
	for _, rc := range all {
		if ctx.Err() != nil {
			break
		}
		st.Reviewers++
		if err := r.reviewer(ctx, rc, &st); err != nil {
			errs = append(errs, fmt.Errorf("reviewer %s: %w", rc.Reviewer.ID, err))
			if len(errs) > 20 {
				break
			}
		}
	}
	return st, errors.Join(errs...)
}

func (r *Reminders) reviewer(ctx context.Context, rc certs.ReviewerCerts, st *SweepStats) error {
	now := r.cfg.Now()
	p, err := r.person(ctx, rc.Reviewer.Email)
	if err != nil {
		return err
	}
	if p.ID == "" {
		st.Skipped++
		return nil // not in Slack: nobody to remind
	}
	prefs, err := r.svc.ReminderPrefsOf(ctx, rc.Reviewer.ID)
	if err != nil {
		return err
	}
	last, err := r.svc.LastDigest(ctx, rc.Reviewer.ID)
	if err != nil {
		return err
	}
	if due, ok := r.cfg.Schedule.DigestDue(now, p.Loc, rc.Reviewer.ID, rc.Certifications, prefs, last); ok {
		var prev []certs.ReminderCert
		if last != nil {
			prev = last.Snapshot
		}
		m := renderDigest(r.cfg, rc, due, prev, now, p.Loc)
		snap := certs.SnapshotOf(rc.Certifications)
		sent, recovered, err := r.sendOnce(ctx, certs.Reminder{Key: due.Key, Kind: certs.ReminderDigest, Subject: rc.Reviewer.ID},
			p.ID, m, snap, certs.ActionReminderSent, "", "to "+p.ID)
		if err != nil {
			return err
		}
		if sent {
			st.Digests++
		}
		if recovered {
			st.Recovered++
		}
	}
	for _, c := range rc.Certifications {
		e, ok := r.cfg.Schedule.EscalationDue(now, p.Loc, c)
		if !ok {
			continue
		}
		if err := r.escalate(ctx, rc.Reviewer, p, c, e, st); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reminders) escalate(ctx context.Context, rev certs.Reviewer, p slackPerson, c certs.Certification, e certs.EscalationDue, st *SweepStats) error {
	rem := certs.Reminder{Key: e.Key, Kind: certs.ReminderEscalation, Subject: rev.ID}
	var targets []string
	var managerName string
	if e.Step.Manager {
		mgr, err := r.svc.ManagerOf(ctx, rev.ID)
		switch {
		case certs.ErrorCode(err) == certs.ENOTFOUND:
		case err != nil:
			return err
		default:
			mp, err := r.person(ctx, mgr.Email)
			if err != nil {
				return err
			}
			if mp.ID != "" {
				targets = append(targets, mp.ID)
				managerName = mgr.Name
			}
		}
	}
	if e.Step.Channel && r.cfg.AdminsChannel != "" {
		targets = append(targets, r.cfg.AdminsChannel)
	}
	m := renderEscalation(r.cfg, rev, p.ID, c, e, r.cfg.Now())
	// One claim for the step; each target is one post, recorded together.
	// A post to the first target that succeeded is found again by its
	// metadata on recovery, the same as a digest.
	got, ok, err := r.svc.ClaimReminder(ctx, rem, r.cfg.Owner, r.cfg.Lease)
	if err != nil || !ok {
		return err
	}
	var where []string
	for _, to := range targets {
		ch, ts, found, err := r.findOrPost(ctx, got, to, m)
		if err != nil {
			return err
		}
		if found {
			st.Recovered++
		}
		where = append(where, ch+"/"+ts)
	}
	state := certs.ReminderSent
	if len(targets) == 0 {
		state = certs.ReminderSkipped
	}
	detail := "step " + e.Step.String() + " to " + strings.Join(targets, ",")
	if managerName != "" {
		detail += " (manager " + managerName + ")"
	}
	if _, err := r.svc.FinishReminder(ctx, got, r.cfg.Owner, state, strings.Join(targets, ","), strings.Join(where, ","), nil, certs.ActionEscalated, c.ID, detail); err != nil {
		return err
	}
	if state == certs.ReminderSent {
		st.Escalations++
	}
	return nil
}

// sendOnce claims rem and, if this replica holds it, posts m to channel
// (unless an earlier attempt did) and records it.
func (r *Reminders) sendOnce(ctx context.Context, rem certs.Reminder, channel string, m message, snap []certs.ReminderCert, action certs.Action, certID, detail string) (sent, recovered bool, err error) {
	got, ok, err := r.svc.ClaimReminder(ctx, rem, r.cfg.Owner, r.cfg.Lease)
	if err != nil || !ok {
		return false, false, err
	}
	ch, ts, found, err := r.findOrPost(ctx, got, channel, m)
	if err != nil {
		return false, false, err // the claim lapses; the next sweep looks for the post first
	}
	if found {
		action = certs.ActionReminderRecovered
	}
	if _, err := r.svc.FinishReminder(ctx, got, r.cfg.Owner, certs.ReminderSent, ch, ts, snap, action, certID, detail); err != nil {
		return false, false, err
	}
	return !found, found, nil
}

// findOrPost posts m with the reminder's metadata, unless this is a later
// attempt and the conversation already holds it.
func (r *Reminders) findOrPost(ctx context.Context, rem *certs.Reminder, channel string, m message) (ch, ts string, found bool, err error) {
	if rem.Attempt > 1 {
		ch, ts, found, err = r.find(ctx, rem, channel)
		if err != nil || found {
			return ch, ts, found, err
		}
	}
	opts := append(msgOptions(m), slack.MsgOptionMetadata(slack.SlackMetadata{
		EventType: ReminderEventType, EventPayload: map[string]any{"key": rem.Key}}))
	err = r.withRetry(ctx, channel, func() error {
		var err error
		ch, ts, err = r.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ch, ts, false, err
}

// find reads the conversation since the reminder was first claimed for a
// message carrying its key.
func (r *Reminders) find(ctx context.Context, rem *certs.Reminder, channel string) (string, string, bool, error) {
	conv := channel
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		var c *slack.Channel
		err := r.withRetry(ctx, "", func() error {
			var err error
			c, _, _, err = r.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}, ReturnIM: true})
			return err
		})
		if err != nil {
			return "", "", false, fmt.Errorf("open the DM with %s to look for reminder %s: %w", channel, rem.Key, err)
		}
		conv = c.ID
	}
	// Newest first, up to historyPages pages: the claim is minutes old,
	// and a DM with the bot or the admins' channel holds far fewer
	// messages since. (No oldest bound: ts are Slack's clock, not ours.)
	cursor := ""
	for range historyPages {
		var h *slack.GetConversationHistoryResponse
		err := r.withRetry(ctx, "", func() error {
			var err error
			h, err = r.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: conv, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
			return err
		})
		if err != nil {
			return "", "", false, fmt.Errorf("read %s for reminder %s: %w", conv, rem.Key, err)
		}
		for _, msg := range h.Messages {
			if msg.Metadata.EventType == ReminderEventType && msg.Metadata.EventPayload["key"] == rem.Key {
				return conv, msg.Timestamp, true, nil
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			return "", "", false, nil
		}
		cursor = h.ResponseMetaData.NextCursor
	}
	return "", "", false, nil
}

// historyPages bounds the search for a reminder's message (200 a page).
const historyPages = 5

// withRetry paces posts (to channel; "": not a post) PostEvery apart and
// at least a second apart per channel, and, on ratelimited, waits Slack's
// Retry-After and tries again (MaxRetries times).
func (r *Reminders) withRetry(ctx context.Context, channel string, call func() error) error {
	for attempt := 0; ; attempt++ {
		if channel != "" {
			r.mu.Lock()
			now := time.Now()
			at := latest(r.lastPost.Add(r.cfg.PostEvery), r.byChannel[channel].Add(time.Second), now)
			wait := at.Sub(now)
			r.lastPost = at
			if r.byChannel == nil || len(r.byChannel) > 10000 {
				r.byChannel = map[string]time.Time{}
			}
			r.byChannel[channel] = at
			r.mu.Unlock()
			if err := r.cfg.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		err := call()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || attempt >= r.cfg.MaxRetries {
			return err
		}
		r.log.Warn("slackbot: Slack asked the reminders to slow down", "retry_after", rl.RetryAfter)
		if err := r.cfg.Sleep(ctx, max(rl.RetryAfter, time.Second)); err != nil {
			return err
		}
	}
}

// person finds a Slack user by email (cached for peopleTTL): their id and
// time zone (UTC when Slack has none). An unknown email is no user.
func (r *Reminders) person(ctx context.Context, email string) (slackPerson, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return slackPerson{}, nil
	}
	r.mu.Lock()
	p, ok := r.people[email]
	r.mu.Unlock()
	if ok {
		return p, nil
	}
	var u *slack.User
	err := r.withRetry(ctx, "", func() error {
		var err error
		u, err = r.api.GetUserByEmailContext(ctx, email)
		return err
	})
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && (se.Err == "users_not_found" || se.Err == "user_not_found"):
		p = slackPerson{}
	case err != nil:
		return p, fmt.Errorf("find %s in Slack: %w", email, err)
	default:
		p = slackPerson{ID: u.ID, Loc: time.UTC}
		if u.TZ != "" {
			if l, err := time.LoadLocation(u.TZ); err == nil {
				p.Loc = l
			}
		}
	}
	r.mu.Lock()
	r.people[email] = p
	r.mu.Unlock()
	return p, nil
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
