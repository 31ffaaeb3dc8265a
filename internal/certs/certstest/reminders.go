package certstest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Reminders, as the SQL stores keep them (internal/store/reminders.go).

func (db *database) reminderTables() {
	if db.reminders == nil {
		db.reminders = map[string]*certs.Reminder{}
		db.prefs = map[string]certs.ReminderPrefs{}
	}
}

func storedSnapshot(s []certs.ReminderCert) []certs.ReminderCert {
	if len(s) == 0 {
		return nil
	}
	out := *clone(&s)
	for i := range out {
		if out[i].Due != nil {
			d := certs.StoredTime(*out[i].Due)
			out[i].Due = &d
		}
	}
	return out
}

func copyReminder(r *certs.Reminder) *certs.Reminder {
	out := *r
	out.Snapshot = storedSnapshot(r.Snapshot)
	return &out
}

// ClaimReminder claims r.Key for owner until now+lease (certs.Store).
func (s *Store) ClaimReminder(ctx context.Context, r certs.Reminder, owner string, leaseFor time.Duration) (*certs.Reminder, bool, error) {
	if r.Key == "" || r.Kind == "" || r.Subject == "" || owner == "" {
		return nil, false, certs.Errorf(certs.EINVALID, "a reminder key, kind, subject and lease owner are required")
	}
	if leaseFor <= 0 {
		return nil, false, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", leaseFor)
	}
	if err := certs.ValidateStorableTexts("reminder key", r.Key, "reminder kind", string(r.Kind), "reminder subject", r.Subject, "lease owner", owner); err != nil {
		return nil, false, err
	}
	end, err := s.begin(ctx, "claim reminder")
	if err != nil {
		return nil, false, err
	}
	defer end()
	s.db.reminderTables()
	now := s.clock()
	cur, ok := s.db.reminders[r.Key]
	if !ok {
		cur = &certs.Reminder{Key: r.Key, Kind: r.Kind, Subject: r.Subject, State: certs.ReminderClaimed,
			Attempt: 1, Owner: owner, LeaseUntil: now.Add(leaseFor), Created: now}
		s.db.reminders[r.Key] = cur
		return copyReminder(cur), true, nil
	}
	if cur.State != certs.ReminderClaimed || (cur.Owner != owner && cur.LeaseUntil.After(now)) {
		return copyReminder(cur), false, nil
	}
	cur.Attempt++
	cur.Owner, cur.LeaseUntil = owner, now.Add(leaseFor)
	return copyReminder(cur), true, nil
}

// FinishReminder records a claimed reminder sent or skipped (certs.Store).
func (s *Store) FinishReminder(ctx context.Context, key, owner string, state certs.ReminderState, channel, ts string, snapshot []certs.ReminderCert, events ...certs.Event) (*certs.Reminder, error) {
	if state != certs.ReminderSent && state != certs.ReminderSkipped {
		return nil, certs.Errorf(certs.EINVALID, "a reminder finishes sent or skipped, not %q", state)
	}
	if err := certs.ValidateStorableTexts("reminder channel", channel, "reminder ts", ts); err != nil {
		return nil, err
	}
	if b, err := json.Marshal(snapshot); err != nil {
		return nil, &certs.Error{Code: certs.EINTERNAL, Message: "reminder snapshot cannot be stored", Err: err}
	} else if err := certs.ValidateStorableJSON("reminder snapshot", b); err != nil {
		return nil, err
	}
	evs, err := storedEvents(s.clock(), events)
	if err != nil {
		return nil, err
	}
	end, err := s.begin(ctx, "finish reminder")
	if err != nil {
		return nil, err
	}
	defer end()
	s.db.reminderTables()
	cur, ok := s.db.reminders[key]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "no reminder %s", key)
	}
	if cur.State != certs.ReminderClaimed || owner == "" || cur.Owner != owner {
		return nil, certs.Errorf(certs.ECONFLICT, "%s does not hold reminder %s (it is %s, held by %s)", reminderOwner(owner), key, cur.State, reminderOwner(cur.Owner))
	}
	cur.State, cur.Channel, cur.TS = state, channel, ts
	cur.Snapshot = storedSnapshot(snapshot)
	cur.Finished = s.clock()
	cur.Owner, cur.LeaseUntil = "", time.Time{}
	s.db.appendLocked(evs)
	return copyReminder(cur), nil
}

// GetReminder returns a reminder by key, or ENOTFOUND (certs.Store).
func (s *Store) GetReminder(ctx context.Context, key string) (*certs.Reminder, error) {
	end, err := s.begin(ctx, "get reminder")
	if err != nil {
		return nil, err
	}
	defer end()
	s.db.reminderTables()
	cur, ok := s.db.reminders[key]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "no reminder %s", key)
	}
	return copyReminder(cur), nil
}

// LastReminder returns subject's latest sent reminder of kind (certs.Store).
func (s *Store) LastReminder(ctx context.Context, kind certs.ReminderKind, subject string) (*certs.Reminder, error) {
	end, err := s.begin(ctx, "last reminder")
	if err != nil {
		return nil, err
	}
	defer end()
	s.db.reminderTables()
	var last *certs.Reminder
	for _, r := range s.db.reminders {
		if r.Kind != kind || r.Subject != subject || r.State != certs.ReminderSent {
			continue
		}
		if last == nil || r.Finished.After(last.Finished) || (r.Finished.Equal(last.Finished) && r.Key > last.Key) {
			last = r
		}
	}
	if last == nil {
		return nil, certs.Errorf(certs.ENOTFOUND, "no %s sent about %s", kind, subject)
	}
	return copyReminder(last), nil
}

// GetReminderPrefs returns subject's preferences (certs.Store).
func (s *Store) GetReminderPrefs(ctx context.Context, subject string) (certs.ReminderPrefs, error) {
	end, err := s.begin(ctx, "get reminder prefs")
	if err != nil {
		return certs.ReminderPrefs{}, err
	}
	defer end()
	s.db.reminderTables()
	return s.db.prefs[subject], nil
}

// PutReminderPrefs replaces subject's preferences (certs.Store).
func (s *Store) PutReminderPrefs(ctx context.Context, subject string, p certs.ReminderPrefs, events ...certs.Event) error {
	if subject == "" {
		return certs.Errorf(certs.EINVALID, "a person is required")
	}
	if err := certs.ValidateStorableTexts("reminder subject", subject, "reminder mode", string(p.Mode)); err != nil {
		return err
	}
	evs, err := storedEvents(s.clock(), events)
	if err != nil {
		return err
	}
	end, err := s.begin(ctx, "put reminder prefs")
	if err != nil {
		return err
	}
	defer end()
	s.db.reminderTables()
	p.SnoozeUntil = certs.StoredTime(p.SnoozeUntil)
	p.Updated = s.clock()
	s.db.prefs[subject] = p
	s.db.appendLocked(evs)
	return nil
}

func reminderOwner(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return owner
}
