package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Reminders (certs.Reminder): one row per message certops sends at most once,
// claimed with a lease before it is sent and finished after; and each
// person's reminder preferences.

const reminderColumns = `key, kind, subject, state, attempt, COALESCE(lease_owner, ''), lease_until,
	channel, ts, snapshot, created, finished`

func scanReminder(rs rows) (*certs.Reminder, error) {
	var r certs.Reminder
	var kind, state, snapshot string
	if err := rs.Scan(&r.Key, &kind, &r.Subject, &state, &r.Attempt, &r.Owner, dbTime{&r.LeaseUntil},
		&r.Channel, &r.TS, &snapshot, dbTime{&r.Created}, dbTime{&r.Finished}); err != nil {
		return nil, err
	}
	r.Kind, r.State = certs.ReminderKind(kind), certs.ReminderState(state)
	if err := json.Unmarshal([]byte(snapshot), &r.Snapshot); err != nil {
		return nil, &certs.Error{Code: certs.EINTERNAL, Message: "stored reminder snapshot is unreadable", Err: err}
	}
	if len(r.Snapshot) == 0 {
		r.Snapshot = nil
	}
	return &r, nil
}

func readReminder(ctx context.Context, q querier, key, lock string) (*certs.Reminder, error) {
	rs, err := q.query(ctx, `SELECT `+reminderColumns+` FROM reminders WHERE key = $1`+lock, key)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return nil, err
		}
		return nil, certs.Errorf(certs.ENOTFOUND, "no reminder %s", key)
	}
	return scanReminder(rs)
}

func encodeSnapshot(s []certs.ReminderCert) (string, error) {
	if s == nil {
		s = []certs.ReminderCert{}
	}
	for i := range s {
		if s[i].Due != nil {
			d := certs.StoredTime(*s[i].Due)
			s[i].Due = &d
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", &certs.Error{Code: certs.EINTERNAL, Message: "reminder snapshot cannot be stored", Err: err}
	}
	if err := certs.ValidateStorableJSON("reminder snapshot", b); err != nil {
		return "", err
	}
	return string(b), nil
}

// ClaimReminder claims r.Key for owner (certs.Store).
func (c *core) ClaimReminder(ctx context.Context, r certs.Reminder, owner string, lease time.Duration) (*certs.Reminder, bool, error) {
	if r.Key == "" || r.Kind == "" || r.Subject == "" || owner == "" {
		return nil, false, certs.Errorf(certs.EINVALID, "a reminder key, kind, subject and lease owner are required")
	}
	if lease <= 0 {
		return nil, false, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", lease)
	}
	if err := certs.ValidateStorableTexts("reminder key", r.Key, "reminder kind", string(r.Kind), "reminder subject", r.Subject, "lease owner", owner); err != nil {
		return nil, false, err
	}
	now := c.clock()
	until := now.Add(lease)
	var out *certs.Reminder
	var claimed bool
	err := c.withTx(ctx, "claim reminder", func(t tx) error {
		n, err := t.exec(ctx, `INSERT INTO reminders (key, kind, subject, state, attempt, lease_owner, lease_until, created)
			VALUES ($1, $2, $3, $4, 1, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
			r.Key, string(r.Kind), r.Subject, string(certs.ReminderClaimed), owner, c.eng.timeArg(until), c.eng.timeArg(now))
		if err != nil {
			return err
		}
		if n == 1 {
			claimed = true
			out, err = readReminder(ctx, t, r.Key, "")
			return err
		}
		cur, err := readReminder(ctx, t, r.Key, c.eng.forUpdate())
		if err != nil {
			return err
		}
		out = cur
		if cur.State != certs.ReminderClaimed || (cur.Owner != owner && cur.LeaseUntil.After(now)) {
			return nil
		}
		if _, err := t.exec(ctx, `UPDATE reminders SET attempt = attempt + 1, lease_owner = $2, lease_until = $3 WHERE key = $1`,
			r.Key, owner, c.eng.timeArg(until)); err != nil {
			return err
		}
		claimed = true
		out, err = readReminder(ctx, t, r.Key, "")
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, claimed, nil
}

// FinishReminder records a claimed reminder sent or skipped (certs.Store).
func (c *core) FinishReminder(ctx context.Context, key, owner string, state certs.ReminderState, channel, ts string, snapshot []certs.ReminderCert, events ...certs.Event) (*certs.Reminder, error) {
	if state != certs.ReminderSent && state != certs.ReminderSkipped {
		return nil, certs.Errorf(certs.EINVALID, "a reminder finishes sent or skipped, not %q", state)
	}
	if err := certs.ValidateStorableTexts("reminder channel", channel, "reminder ts", ts); err != nil {
		return nil, err
	}
	snap, err := encodeSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	now := c.clock()
	var out *certs.Reminder
	err = c.withTx(ctx, "finish reminder", func(t tx) error {
		cur, err := readReminder(ctx, t, key, c.eng.forUpdate())
		if err != nil {
			return err
		}
		if cur.State != certs.ReminderClaimed || owner == "" || cur.Owner != owner {
			return certs.Errorf(certs.ECONFLICT, "%s does not hold reminder %s (it is %s, held by %s)", reminderOwner(owner), key, cur.State, reminderOwner(cur.Owner))
		}
		if _, err := t.exec(ctx, `UPDATE reminders SET state = $2, channel = $3, ts = $4, snapshot = $5, finished = $6,
			lease_owner = NULL, lease_until = NULL WHERE key = $1`,
			key, string(state), channel, ts, snap, c.eng.timeArg(now)); err != nil {
			return err
		}
		if err := c.insertEvents(ctx, t, now, events); err != nil {
			return err
		}
		out, err = readReminder(ctx, t, key, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetReminder returns a reminder by key (certs.Store).
func (c *core) GetReminder(ctx context.Context, key string) (*certs.Reminder, error) {
	return readReminder(ctx, c.eng, key, "")
}

// LastReminder returns subject's latest sent reminder of kind (certs.Store).
func (c *core) LastReminder(ctx context.Context, kind certs.ReminderKind, subject string) (*certs.Reminder, error) {
	rs, err := c.eng.query(ctx, `SELECT `+reminderColumns+` FROM reminders
		WHERE kind = $1 AND subject = $2 AND state = $3 ORDER BY finished DESC, key DESC LIMIT 1`,
		string(kind), subject, string(certs.ReminderSent))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return nil, err
		}
		return nil, certs.Errorf(certs.ENOTFOUND, "no %s sent about %s", kind, subject)
	}
	return scanReminder(rs)
}

// GetReminderPrefs returns subject's preferences (certs.Store).
func (c *core) GetReminderPrefs(ctx context.Context, subject string) (certs.ReminderPrefs, error) {
	var p certs.ReminderPrefs
	rs, err := c.eng.query(ctx, `SELECT mode, snooze_until, updated FROM reminder_prefs WHERE subject = $1`, subject)
	if err != nil {
		return p, err
	}
	defer rs.Close()
	if rs.Next() {
		var mode string
		if err := rs.Scan(&mode, dbTime{&p.SnoozeUntil}, dbTime{&p.Updated}); err != nil {
			return p, err
		}
		p.Mode = certs.ReminderMode(mode)
	}
	return p, rs.Err()
}

// PutReminderPrefs replaces subject's preferences (certs.Store).
func (c *core) PutReminderPrefs(ctx context.Context, subject string, p certs.ReminderPrefs, events ...certs.Event) error {
	if subject == "" {
		return certs.Errorf(certs.EINVALID, "a person is required")
	}
	if err := certs.ValidateStorableTexts("reminder subject", subject, "reminder mode", string(p.Mode)); err != nil {
		return err
	}
	now := c.clock()
	return c.withTx(ctx, "put reminder prefs", func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO reminder_prefs (subject, mode, snooze_until, updated) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subject) DO UPDATE SET mode = excluded.mode, snooze_until = excluded.snooze_until, updated = excluded.updated`,
			subject, string(p.Mode), c.eng.timeArg(certs.StoredTime(p.SnoozeUntil)), c.eng.timeArg(now)); err != nil {
			return err
		}
		return c.insertEvents(ctx, t, now, events)
	})
}

func reminderOwner(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return owner
}
