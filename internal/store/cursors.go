package store

import (
	"context"
	"time"

	"github.com/certops/certops/internal/certs"
)

// ClaimEvents leases consumer's cursor to owner until now+lease and returns up
// to limit events after it. It returns none, and leaves the cursor alone,
// when another owner holds an unexpired lease or there is nothing to read.
// The owner holding the lease may claim again (after a failed delivery, say)
// and gets the same events from the cursor, with the lease extended.
func (c *core) ClaimEvents(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]certs.Event, error) {
	if consumer == "" || owner == "" {
		return nil, certs.Errorf(certs.EINVALID, "a consumer and a lease owner are required")
	}
	if lease <= 0 {
		return nil, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", lease)
	}
	if limit <= 0 {
		return nil, nil
	}
	now := c.clock()
	var events []certs.Event
	err := c.withTx(ctx, "claim events", func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO event_cursors (consumer, last_seq) VALUES ($1, 0)
			ON CONFLICT (consumer) DO NOTHING`, consumer); err != nil {
			return err
		}
		cur, err := readCursor(ctx, t, c.eng, consumer)
		if err != nil {
			return err
		}
		if cur.owner != "" && cur.owner != owner && cur.until.After(now) {
			return nil
		}
		events, err = queryEvents(ctx, t, `SELECT `+eventColumns+` FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
			cur.lastSeq, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		_, err = t.exec(ctx, `UPDATE event_cursors SET lease_owner = $2, lease_until = $3 WHERE consumer = $1`,
			consumer, owner, c.eng.timeArg(now.Add(lease)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// AckEvents moves consumer's cursor to seq (never backwards) and releases the
// lease. Only the lease's owner may: anyone else is ECONFLICT, since another
// replica may have taken the events over. An owner whose lease lapsed but was
// not taken over may still ack: nobody else has read those events.
func (c *core) AckEvents(ctx context.Context, consumer, owner string, seq int64) error {
	return c.withTx(ctx, "ack events", func(t tx) error {
		cur, err := readCursor(ctx, t, c.eng, consumer)
		if err != nil {
			return err
		}
		if cur.owner != owner || owner == "" {
			return certs.EventLeaseConflict(consumer, owner)
		}
		_, err = t.exec(ctx, `UPDATE event_cursors SET last_seq = CASE WHEN last_seq > $2 THEN last_seq ELSE $2 END,
			lease_owner = NULL, lease_until = NULL WHERE consumer = $1`, consumer, seq)
		return err
	})
}

type cursor struct {
	lastSeq int64
	owner   string
	until   time.Time
}

// readCursor reads consumer's cursor row, locking it (a missing row reads as
// the zero cursor).
func readCursor(ctx context.Context, t tx, eng engine, consumer string) (cursor, error) {
	var cur cursor
	rs, err := t.query(ctx, `SELECT last_seq, COALESCE(lease_owner, ''), lease_until FROM event_cursors
		WHERE consumer = $1`+eng.forUpdate(), consumer)
	if err != nil {
		return cur, err
	}
	defer rs.Close()
	if rs.Next() {
		if err := rs.Scan(&cur.lastSeq, &cur.owner, dbTime{&cur.until}); err != nil {
			return cur, err
		}
	}
	return cur, rs.Err()
}
