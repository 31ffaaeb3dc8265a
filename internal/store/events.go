package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/certops/certops/internal/certs"
)

// insertEvents appends events in transaction t; an event without a time gets
// now.
//
// Events double as an outbox read with a cursor ("seq > last acked"), so seq
// order must be commit order: a consumer that has read seq 8 must never later
// find a 7 committed behind it. SQLite gives this for free (one writer at a
// time). On PostgreSQL sequence values are handed out before commit, so two
// concurrent transactions can commit 8 before 7; engine.lockEvents takes a
// transaction-level advisory lock there, just before the inserts, which
// serializes event-writing transactions from their first insert to their
// commit. We chose this over reading only events older than a safety margin
// (a long transaction can outlast any margin and then be skipped forever) and
// over per-event delivery rows (more writes per event, per consumer). The
// cost is that event-writing commits queue on one lock, held only for the
// inserts and the commit itself; the lock is taken last so no other lock is
// ever awaited while holding it.
func (c *core) insertEvents(ctx context.Context, t tx, now time.Time, events []certs.Event) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		if err := checkEventText(e); err != nil {
			return err
		}
	}
	if err := c.eng.lockEvents(ctx, t); err != nil {
		return err
	}
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = now
		}
		actor, err := json.Marshal(e.Actor)
		if err != nil {
			return &certs.Error{Code: certs.EINTERNAL, Message: "event cannot be stored", Err: err}
		}
		taskIDs, trackingIDs := jsonList(e.TaskIDs), jsonList(e.TrackingIDs)
		if _, err := t.exec(ctx, `INSERT INTO events (time, actor, actor_key, actor_identity_key,
			action, request_id, certification_id, count, task_ids, tracking_ids, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.eng.timeArg(certs.StoredTime(e.Time)), string(actor), e.Actor.FrontendKey(), e.Actor.IdentityKey(),
			string(e.Action), e.RequestID, e.CertificationID, e.Count, taskIDs, trackingIDs, e.Detail); err != nil {
			return err
		}
	}
	return nil
}

// checkEventText refuses text the database cannot hold (see
// certs.ValidateStorable).
func checkEventText(e certs.Event) error {
	if err := certs.ValidateStorableEventTexts(e); err != nil {
		return err
	}
	actor, err := json.Marshal(e.Actor)
	if err != nil {
		return &certs.Error{Code: certs.EINTERNAL, Message: "event cannot be stored", Err: err}
	}
	for _, c := range []struct {
		what string
		json string
	}{{"event actor", string(actor)}, {"event task ids", jsonList(e.TaskIDs)}, {"event tracking ids", jsonList(e.TrackingIDs)}} {
		if err := certs.ValidateStorableJSON(c.what, []byte(c.json)); err != nil {
			return err
		}
	}
	return nil
}

// jsonList encodes a list of ids ("[]" for none).
func jsonList(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids) // []string always marshals
	return string(b)
}

// AppendEvents appends audit events that accompany no state change.
func (c *core) AppendEvents(ctx context.Context, events ...certs.Event) error {
	if len(events) == 0 {
		return nil
	}
	return c.withTx(ctx, "append events", func(t tx) error {
		return c.insertEvents(ctx, t, c.clock(), events)
	})
}

const eventColumns = `seq, time, actor, action, request_id, certification_id, count, task_ids, tracking_ids, detail`

// ListEvents returns the events f selects, oldest first.
func (c *core) ListEvents(ctx context.Context, f certs.EventFilter) ([]certs.Event, error) {
	var p params
	var where []string
	if f.RequestID != "" {
		where = append(where, "request_id = "+p.add(f.RequestID))
	}
	if f.CertificationID != "" {
		where = append(where, "certification_id = "+p.add(f.CertificationID))
	}
	if f.ActorKey != "" {
		k := p.add(f.ActorKey)
		where = append(where, "(actor_key = "+k+" OR actor_identity_key = "+k+")")
	}
	if f.AfterSeq > 0 {
		where = append(where, "seq > "+p.add(f.AfterSeq))
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT " + p.add(f.Limit)
	}
	return queryEvents(ctx, c.eng, q, p...)
}

func queryEvents(ctx context.Context, q querier, sql string, args ...any) ([]certs.Event, error) {
	rs, err := q.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []certs.Event
	for rs.Next() {
		var e certs.Event
		var actor, action, taskIDs, trackingIDs string
		if err := rs.Scan(&e.Seq, dbTime{&e.Time}, &actor, &action, &e.RequestID, &e.CertificationID,
			&e.Count, &taskIDs, &trackingIDs, &e.Detail); err != nil {
			return nil, err
		}
		e.Action = certs.Action(action)
		for _, f := range []struct {
			col string
			v   any
		}{{actor, &e.Actor}, {taskIDs, &e.TaskIDs}, {trackingIDs, &e.TrackingIDs}} {
			if err := json.Unmarshal([]byte(f.col), f.v); err != nil {
				return nil, corrupt("event", strconv.FormatInt(e.Seq, 10), err)
			}
		}
		if len(e.TaskIDs) == 0 {
			e.TaskIDs = nil
		}
		if len(e.TrackingIDs) == 0 {
			e.TrackingIDs = nil
		}
		out = append(out, e)
	}
	return out, rs.Err()
}
