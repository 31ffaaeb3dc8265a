package slackbot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// The campaign tracker: one message per tracked campaign, in a channel of
// its own, with the campaign's progress by reviewer (most behind first),
// edited in place (chat.update) when a decision or reassignment lands, at
// most once per MinInterval per campaign.
//
// The message is posted once across replicas and restarts: it is a
// reminder of kind "tracker" keyed "tracker/<campaign>" in the store,
// claimed before it is posted and finished with its channel and ts, which
// every replica then reads back to edit it.

// TrackerKind is the reminder kind of a tracker message.
const TrackerKind certs.ReminderKind = "tracker"

// TrackerEventType is the metadata event_type of a tracker message.
const TrackerEventType = "certops_tracker"

// TrackerKey is the store key of a campaign's tracker message.
func TrackerKey(campaignID string) string { return "tracker/" + campaignID }

// TrackerService is what the tracker needs of certs.Service.
type TrackerService interface {
	CampaignProgress(ctx context.Context, campaignID string) (*certs.CampaignProgress, error)
	ClaimReminder(ctx context.Context, r certs.Reminder, owner string, lease time.Duration) (*certs.Reminder, bool, error)
	FinishReminder(ctx context.Context, r *certs.Reminder, owner string, state certs.ReminderState, channel, ts string, snapshot []certs.ReminderCert, action certs.Action, certID, detail string) (*certs.Reminder, error)
	ClaimNotifications(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]certs.Notification, error)
	AckNotifications(ctx context.Context, consumer, owner string, seq int64) error
}

var _ TrackerService = (*certs.Service)(nil)

// TrackerAPI is the part of Slack's Web API the tracker calls.
type TrackerAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
}

var _ TrackerAPI = (*slack.Client)(nil)

// TrackerConfig configures a Tracker. Zero values get the defaults noted.
type TrackerConfig struct {
	// Campaigns maps an ISC campaign id to the channel of its tracker.
	Campaigns map[string]string
	// MinInterval is the least time between two updates of one
	// campaign's message (30s): chat.update is Tier 3.
	MinInterval time.Duration
	// Every refreshes every tracked campaign at least this often (5m), for
	// decisions made in ISC itself, which certops hears nothing of.
	Every time.Duration
	// Consumer names the tracker's cursor in the Service's outbox
	// ("slack-tracker"): the events of decisions and reassignments made
	// through certops, each read by one replica, which refreshes.
	Consumer string
	// Owner and Lease as in RemindersConfig.
	Owner string
	Lease time.Duration
	Now   func() time.Time
	// Logger receives failures (slog.Default()).
	Logger *slog.Logger
}

// Tracker keeps the tracked campaigns' messages up to date.
type Tracker struct {
	svc TrackerService
	api TrackerAPI
	cfg TrackerConfig

	mu       sync.Mutex
	dirty    map[string]bool      // campaigns to refresh
	last     map[string]time.Time // last refresh per campaign
	campaign map[string]string    // certification id → tracked campaign, from the last refresh
}

// NewTracker returns a tracker of cfg.Campaigns, each due a first refresh.
func NewTracker(svc TrackerService, api TrackerAPI, cfg TrackerConfig) *Tracker {
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = 30 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Minute
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "slack-tracker"
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Tracker{svc: svc, api: api, cfg: cfg, dirty: map[string]bool{}, last: map[string]time.Time{}, campaign: map[string]string{}}
	for id := range cfg.Campaigns {
		t.dirty[id] = true
	}
	return t
}

// Changed tells the tracker that a certification changed (a decision, a
// sign-off, a reassignment): its campaign's message is refreshed at the
// next Flush that MinInterval allows. Certifications of campaigns not
// tracked, or not yet seen, are ignored.
func (t *Tracker) Changed(certID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.campaign[certID]; ok {
		t.dirty[c] = true
	}
}

// Flush refreshes each changed campaign whose last refresh is at least
// MinInterval old; the others wait for a later Flush. It returns how many
// it refreshed.
func (t *Tracker) Flush(ctx context.Context) (int, error) {
	now := t.cfg.Now()
	var due []string
	t.mu.Lock()
	for id := range t.dirty {
		if last, ok := t.last[id]; !ok || now.Sub(last) >= t.cfg.MinInterval {
			due = append(due, id)
		}
	}
	t.mu.Unlock()
	n := 0
	for _, id := range due {
		if err := t.Refresh(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Run, every second until ctx ends, reads the outbox for changed
// certifications (Events), refreshes every campaign each Every, and
// Flushes.
func (t *Tracker) Run(ctx context.Context) error {
	for {
		if err := t.Events(ctx); err != nil && ctx.Err() == nil {
			t.cfg.Logger.Warn("slackbot: campaign tracker could not read what changed; will retry", "err", err)
		}
		now := t.cfg.Now()
		t.mu.Lock()
		for id := range t.cfg.Campaigns {
			if last, ok := t.last[id]; ok && now.Sub(last) >= t.cfg.Every {
				t.dirty[id] = true
			}
		}
		t.mu.Unlock()
		if _, err := t.Flush(ctx); err != nil && ctx.Err() == nil {
			t.cfg.Logger.Warn("slackbot: campaign tracker update failed; will retry", "err", err)
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return nil
		}
	}
}

// Events claims the outbox events after the tracker's cursor and marks
// the campaigns of the certifications they are about as Changed.
func (t *Tracker) Events(ctx context.Context) error {
	for {
		evs, err := t.svc.ClaimNotifications(ctx, t.cfg.Consumer, t.cfg.Owner, t.cfg.Lease, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, ev := range evs {
			if ev.CertificationID != "" {
				t.Changed(ev.CertificationID)
			}
			if ev.Request != nil {
				t.Changed(ev.Request.Plan.CertificationID)
			}
		}
		if err := t.svc.AckNotifications(ctx, t.cfg.Consumer, t.cfg.Owner, evs[len(evs)-1].Seq); err != nil {
			return err
		}
		if len(evs) < 500 {
			return nil
		}
	}
}

// Refresh reads the campaign's progress and posts its message (the first
// time, on one replica) or edits it in place.
func (t *Tracker) Refresh(ctx context.Context, campaignID string) error {
	channel, ok := t.cfg.Campaigns[campaignID]
	if !ok {
		return certs.Errorf(certs.ENOTFOUND, "campaign %s is not tracked", campaignID)
	}
	p, err := t.svc.CampaignProgress(ctx, campaignID)
	if err != nil {
		return err
	}
	m := renderTracker(p, t.cfg.Now())
	rem, mine, err := t.svc.ClaimReminder(ctx, certs.Reminder{Key: TrackerKey(campaignID), Kind: TrackerKind, Subject: campaignID}, t.cfg.Owner, t.cfg.Lease)
	if err != nil {
		return err
	}
	switch {
	case mine:
		opts := append(msgOptions(m), slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType: TrackerEventType, EventPayload: map[string]any{"campaign": campaignID}}))
		ch, ts, err := t.api.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return fmt.Errorf("post the tracker of campaign %s: %w", campaignID, err)
		}
		if _, err := t.svc.FinishReminder(ctx, rem, t.cfg.Owner, certs.ReminderSent, ch, ts, nil, certs.ActionReminderSent, "", "campaign tracker in "+ch); err != nil {
			return err
		}
	case rem.State == certs.ReminderSent:
		if _, _, _, err := t.api.UpdateMessageContext(ctx, rem.Channel, rem.TS, msgOptions(m)...); err != nil {
			return fmt.Errorf("update the tracker of campaign %s: %w", campaignID, err)
		}
	default:
		return nil // another replica is posting it; left dirty, tried again later
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.dirty, campaignID)
	t.last[campaignID] = t.cfg.Now()
	for _, id := range p.CertificationIDs {
		t.campaign[id] = campaignID
	}
	return nil
}

// trackerRows bounds the reviewers listed (50 blocks a message, and a
// section's 3,000 characters): the most behind come first.
const trackerRows = 40

func renderTracker(p *certs.CampaignProgress, now time.Time) message {
	pct := 0
	if p.DecisionsTotal > 0 {
		pct = p.DecisionsMade * 100 / p.DecisionsTotal
	}
	behind := 0
	for _, r := range p.Reviewers {
		if !r.Done() && r.Due != nil && now.After(*r.Due) {
			behind++
		}
	}
	head := fmt.Sprintf(":bar_chart: *%s*: %d of %d decisions made (%d%%), %d of %s signed off",
		esc(p.Campaign.Name), p.DecisionsMade, p.DecisionsTotal, pct, p.Signed, pluralize(p.Certifications, "certification", "certifications"))
	if behind > 0 {
		head += fmt.Sprintf(", :red_circle: %s overdue", pluralize(behind, "reviewer", "reviewers"))
	}
	m := message{Text: strings.ReplaceAll(head, "*", "") + "."}
	m.Blocks = append(m.Blocks, section(head+"."))
	var lines []string
	for i, r := range p.Reviewers {
		if i == trackerRows {
			lines = append(lines, fmt.Sprintf("…and %d more reviewers", len(p.Reviewers)-trackerRows))
			break
		}
		line := fmt.Sprintf("%s — %d of %d decisions", esc(cmpOr(r.Reviewer.Name, r.Reviewer.ID)), r.DecisionsMade, r.DecisionsTotal)
		switch {
		case r.Done():
			line = ":white_check_mark: " + line + ", signed off"
		case r.Due != nil && now.After(*r.Due):
			line = ":red_circle: " + line + ", overdue since " + slackDate(*r.Due)
		case r.Due != nil:
			line += ", due " + slackDate(*r.Due)
		}
		if r.Certifications > 1 {
			line += fmt.Sprintf(" (%d of %d certifications signed off)", r.Signed, r.Certifications)
		}
		lines = append(lines, line)
	}
	// Sections of up to 10 lines keep each well under 3,000 characters.
	for i := 0; i < len(lines); i += 10 {
		m.Blocks = append(m.Blocks, section(strings.Join(lines[i:min(i+10, len(lines))], "\n")))
	}
	m.Blocks = append(m.Blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		"Updated "+slackDate(now)+" as decisions and reassignments land.", false, false)))
	return m
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
