package certs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The Service's part in reminders (reminders.go says what is sent when):
// one reading of ISC per sweep, the store's record that makes each message
// go out once, preferences, and the manager to escalate to. Front ends (the
// Slack bot) send the messages.

// ReviewerCerts is one reviewer's open certifications, due soonest first.
type ReviewerCerts struct {
	Reviewer       Reviewer
	Certifications []Certification
}

// OpenCertificationsByReviewer reads every open certification once
// (ListAllCertifications, one paged read whatever the number of reviewers)
// and groups them by reviewer identity, reviewers ordered by id. Governance
// group reviewers are left out: a group has no DM to remind.
//
// It is for the reminder sweep, not for people, and takes no Actor.
func (s *Service) OpenCertificationsByReviewer(ctx context.Context) ([]ReviewerCerts, error) {
	open := false
	all, err := s.opts.Tenant.ListAllCertifications(ctx, CertificationFilter{Completed: &open, Page: PageOptions{Limit: MaxPageLimit}})
	if err != nil {
		return nil, fmt.Errorf("list open certifications: %w", err)
	}
	by := map[string]*ReviewerCerts{}
	for _, c := range all {
		if c.Completed || c.Phase == PhaseSigned || c.Reviewer.ID == "" || c.Reviewer.Type == ReviewerGovernanceGroup {
			continue
		}
		rc, ok := by[c.Reviewer.ID]
		if !ok {
			rc = &ReviewerCerts{Reviewer: c.Reviewer}
			by[c.Reviewer.ID] = rc
		}
		rc.Certifications = append(rc.Certifications, c)
	}
	out := make([]ReviewerCerts, 0, len(by))
	for _, rc := range by {
		SortByDue(rc.Certifications)
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b ReviewerCerts) int { return strings.Compare(a.Reviewer.ID, b.Reviewer.ID) })
	return out, nil
}

// SortByDue orders certifications due soonest first (none last), then by
// name.
func SortByDue(cs []Certification) {
	slices.SortStableFunc(cs, func(a, b Certification) int {
		switch {
		case a.Due == nil && b.Due == nil:
		case a.Due == nil:
			return 1
		case b.Due == nil:
			return -1
		case !a.Due.Equal(*b.Due):
			return a.Due.Compare(*b.Due)
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// ClaimReminder claims a reminder for owner (Store.ClaimReminder): true
// when owner now holds it and should send it. A claim with Attempt > 1 may
// follow an owner that sent the message and died before recording it: look
// for it (the Slack bot reads the conversation for the message's metadata)
// before sending again.
func (s *Service) ClaimReminder(ctx context.Context, r Reminder, owner string, lease time.Duration) (*Reminder, bool, error) {
	if err := ValidateID("lease owner", owner); err != nil {
		return nil, false, err
	}
	return s.opts.Store.ClaimReminder(ctx, r, owner, lease)
}

// FinishReminder records a claimed reminder sent (or found sent:
// recovered) or skipped, with an audit event saying to whom (detail), in
// one transaction.
func (s *Service) FinishReminder(ctx context.Context, r *Reminder, owner string, state ReminderState, channel, ts string, snapshot []ReminderCert, action Action, certID, detail string) (*Reminder, error) {
	ev := Event{Actor: SystemActor, Action: action, CertificationID: certID, Count: len(snapshot),
		Detail: strings.TrimSpace(r.Key + " " + detail)}
	return s.opts.Store.FinishReminder(ctx, r.Key, owner, state, channel, ts, snapshot, ev)
}

// LastDigest is subject's last digest sent, or nil.
func (s *Service) LastDigest(ctx context.Context, subject string) (*Reminder, error) {
	r, err := s.opts.Store.LastReminder(ctx, ReminderDigest, subject)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return r, err
}

// ReminderPrefsOf returns an identity's reminder preferences (for the
// sweep).
func (s *Service) ReminderPrefsOf(ctx context.Context, identityID string) (ReminderPrefs, error) {
	return s.opts.Store.GetReminderPrefs(ctx, identityID)
}

// MyReminderPrefs returns the actor's own reminder preferences.
// Errors: EFORBIDDEN for an actor with no ISC identity.
func (s *Service) MyReminderPrefs(ctx context.Context, a Actor) (ReminderPrefs, error) {
	if err := checkActor(a); err != nil {
		return ReminderPrefs{}, err
	}
	if a.IdentityID == "" {
		return ReminderPrefs{}, Errorf(EFORBIDDEN, "certops does not know your SailPoint identity, so it has no reminders for you")
	}
	return s.opts.Store.GetReminderPrefs(ctx, a.IdentityID)
}

// SetMyReminderPrefs changes the actor's own reminder preferences: mode
// (empty keeps it) and snooze (zero time: none; a time: no digest before
// it). It is audited (reminder.prefs). Errors: EINVALID for an unknown
// mode; EFORBIDDEN for an actor with no ISC identity.
func (s *Service) SetMyReminderPrefs(ctx context.Context, a Actor, mode ReminderMode, snoozeUntil *time.Time) (ReminderPrefs, error) {
	p, err := s.MyReminderPrefs(ctx, a)
	if err != nil {
		return p, err
	}
	switch mode {
	case "":
	case ReminderModeDefault, ReminderModeWeekly, ReminderModeOff:
		p.Mode = mode
	default:
		return p, Errorf(EINVALID, "reminders can be off, weekly or default, not %q", mode)
	}
	if snoozeUntil != nil {
		p.SnoozeUntil = *snoozeUntil
	}
	detail := "mode " + string(orDefault(p.Mode))
	if !p.SnoozeUntil.IsZero() && p.SnoozeUntil.After(s.now()) {
		detail += ", snoozed until " + p.SnoozeUntil.UTC().Format(time.RFC3339)
	}
	ev := Event{Actor: a, Action: ActionReminderPrefs, Detail: detail}
	if err := s.opts.Store.PutReminderPrefs(ctx, a.IdentityID, p, ev); err != nil {
		return p, err
	}
	p.Updated = StoredTime(s.now())
	return p, nil
}

func orDefault(m ReminderMode) ReminderMode {
	if m == "" {
		return ReminderModeDefault
	}
	return m
}

// ManagerOf returns the manager of an identity (ISC identity's manager), or
// ENOTFOUND when it has none.
func (s *Service) ManagerOf(ctx context.Context, identityID string) (*Identity, error) {
	id, err := s.opts.Tenant.GetIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	if id.ManagerID == "" {
		return nil, Errorf(ENOTFOUND, "%s has no manager in SailPoint", id.Name)
	}
	return s.opts.Tenant.GetIdentity(ctx, id.ManagerID)
}
