package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certops/certops/internal/certs"
)

const requestColumns = `id, plan, requester, approvers, state, decided_by, decision_reason,
	tasks, error, refs, created, updated, expires_at, version, call_log, waiting_for`

// requestRow is a request as its columns hold it.
type requestRow struct {
	plan, requester, approvers, decidedBy, tasks, refs string
	requesterKey, requesterIdentityKey                 string
}

func encodeRequest(r *certs.Request) (requestRow, error) {
	var row requestRow
	var err error
	enc := func(v any) string {
		if err != nil {
			return ""
		}
		var b []byte
		b, err = json.Marshal(v)
		return string(b)
	}
	approvers, refs, tasks := r.Approvers, r.FrontendRefs, r.Tasks
	if approvers == nil {
		approvers = []string{}
	}
	if refs == nil {
		refs = map[string]string{}
	}
	if tasks == nil {
		tasks = []certs.RequestTask{}
	}
	row.plan = enc(r.Plan)
	row.requester = enc(r.Requester)
	row.approvers = enc(approvers)
	row.decidedBy = enc(r.DecidedBy)
	row.tasks = enc(tasks)
	row.refs = enc(refs)
	row.requesterKey, row.requesterIdentityKey = r.Requester.FrontendKey(), r.Requester.IdentityKey()
	if err != nil {
		return row, &certs.Error{Code: certs.EINTERNAL, Message: fmt.Sprintf("request %s cannot be stored", r.ID), Err: err}
	}
	if err := checkRequestText(r, row); err != nil {
		return row, err
	}
	return row, nil
}

// checkRequestText refuses text the database cannot hold (see
// certs.ValidateStorable).
func checkRequestText(r *certs.Request, row requestRow) error {
	if err := certs.ValidateStorableRequestTexts(r); err != nil {
		return err
	}
	for _, c := range []struct {
		what string
		json string
	}{{"request plan", row.plan}, {"requester", row.requester}, {"request approvers", row.approvers},
		{"request decided by", row.decidedBy}, {"request tasks", row.tasks}, {"request references", row.refs}} {
		if err := certs.ValidateStorableJSON(c.what, []byte(c.json)); err != nil {
			return err
		}
	}
	return nil
}

func scanRequest(rs rows) (*certs.Request, error) {
	var r certs.Request
	var row requestRow
	var state string
	if err := rs.Scan(&r.ID, &row.plan, &row.requester, &row.approvers, &state, &row.decidedBy,
		&r.DecisionReason, &row.tasks, &r.Error, &row.refs,
		dbTime{&r.Created}, dbTime{&r.Updated}, dbTime{&r.ExpiresAt}, &r.Version, &r.CallLog, &r.WaitingFor); err != nil {
		return nil, err
	}
	r.State = certs.RequestState(state)
	for _, f := range []struct {
		col string
		v   any
	}{{row.plan, &r.Plan}, {row.requester, &r.Requester}, {row.approvers, &r.Approvers},
		{row.decidedBy, &r.DecidedBy}, {row.tasks, &r.Tasks}, {row.refs, &r.FrontendRefs}} {
		if err := json.Unmarshal([]byte(f.col), f.v); err != nil {
			return nil, corrupt("request", r.ID, err)
		}
	}
	if len(r.Tasks) == 0 {
		r.Tasks = nil
	}
	if len(r.FrontendRefs) == 0 {
		r.FrontendRefs = nil
	}
	return &r, nil
}

// queryRequests runs a query selecting requestColumns.
func queryRequests(ctx context.Context, q querier, sql string, args ...any) ([]*certs.Request, error) {
	rs, err := q.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*certs.Request
	for rs.Next() {
		r, err := scanRequest(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// CreateRequest stores a new request with Version 1 and its events in one
// transaction. It sets r's Version, and Created/Updated when zero (to now),
// and keeps its times as stored (UTC, microseconds). A duplicate id is
// ECONFLICT.
func (c *core) CreateRequest(ctx context.Context, r *certs.Request, events ...certs.Event) error {
	now := c.clock()
	if err := certs.PrepareRequestForCreate(r, now); err != nil {
		return err
	}
	row, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return c.withTx(ctx, "create request", func(t tx) error {
		n, err := t.exec(ctx, `INSERT INTO requests (id, state, certification_id, plan_id,
			requester_key, requester_identity_key, plan, requester, approvers, decided_by,
			decision_reason, tasks, error, refs, created, updated, expires_at, version, call_log, waiting_for)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
			ON CONFLICT (id) DO NOTHING`,
			r.ID, string(r.State), r.Plan.CertificationID, r.Plan.ID,
			row.requesterKey, row.requesterIdentityKey, row.plan, row.requester, row.approvers, row.decidedBy,
			r.DecisionReason, row.tasks, r.Error, row.refs,
			c.eng.timeArg(r.Created), c.eng.timeArg(r.Updated), c.eng.timeArg(r.ExpiresAt), r.Version, r.CallLog, r.WaitingFor)
		if err != nil {
			return err
		}
		if n == 0 {
			return certs.Errorf(certs.ECONFLICT, "request %s already exists", r.ID)
		}
		return c.insertEvents(ctx, t, now, certs.EventsForRequest(r, events))
	})
}

// GetRequest returns a request, or ENOTFOUND.
func (c *core) GetRequest(ctx context.Context, id string) (*certs.Request, error) {
	rs, err := queryRequests(ctx, c.eng, `SELECT `+requestColumns+` FROM requests WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	return rs[0], nil
}

// ListRequests returns the requests f selects, newest first.
func (c *core) ListRequests(ctx context.Context, f certs.RequestFilter) ([]*certs.Request, error) {
	var p params
	var where []string
	if len(f.States) > 0 {
		where = append(where, "state IN "+list(&p, stateStrings(f.States)))
	}
	if f.CertificationID != "" {
		where = append(where, "certification_id = "+p.add(f.CertificationID))
	}
	if f.RequesterKey != "" {
		k := p.add(f.RequesterKey)
		where = append(where, "(requester_key = "+k+" OR requester_identity_key = "+k+")")
	}
	q := `SELECT ` + requestColumns + ` FROM requests`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT " + p.add(f.Limit)
	}
	return queryRequests(ctx, c.eng, q, p...)
}

// UpdateRequest is the compare-and-set every state change goes through; see
// certs.Store. The transaction excludes other writers of the row (IMMEDIATE
// on SQLite, FOR UPDATE on PostgreSQL) from the read to the commit, and the
// write is also conditioned on the version read. update runs while that lock
// is held (on SQLite, the whole database's write lock), so it must only
// change the request, never call out to ISC or wait.
func (c *core) UpdateRequest(ctx context.Context, id string, from []certs.RequestState, update func(*certs.Request) error, events ...certs.Event) (*certs.Request, error) {
	var out *certs.Request
	err := c.withTx(ctx, "update request", func(t tx) error {
		got, err := queryRequests(ctx, t, `SELECT `+requestColumns+` FROM requests WHERE id = $1`+c.eng.forUpdate(), id)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
		}
		cur := got[0]
		if !slices.Contains(from, cur.State) {
			out = cur
			return certs.RequestConflict(cur, from)
		}
		// update works on a copy, so an aborted update leaves nothing
		// half-changed in what the caller might see.
		next, err := clone(cur)
		if err != nil {
			return err
		}
		if err := update(next); err != nil {
			return err
		}
		now := c.clock()
		next.ID, next.Created, next.Version = cur.ID, cur.Created, cur.Version+1
		next.Updated = now
		next.ExpiresAt = certs.StoredTime(next.ExpiresAt)
		row, err := encodeRequest(next)
		if err != nil {
			return err
		}
		n, err := t.exec(ctx, `UPDATE requests SET state = $3, certification_id = $4, plan_id = $5,
			requester_key = $6, requester_identity_key = $7, plan = $8, requester = $9,
			approvers = $10, decided_by = $11, decision_reason = $12, tasks = $13, error = $14,
			refs = $15, updated = $16, expires_at = $17, version = $18, call_log = $19, waiting_for = $20
			WHERE id = $1 AND version = $2`,
			id, cur.Version, string(next.State), next.Plan.CertificationID, next.Plan.ID,
			row.requesterKey, row.requesterIdentityKey, row.plan, row.requester,
			row.approvers, row.decidedBy, next.DecisionReason, row.tasks, next.Error,
			row.refs, c.eng.timeArg(next.Updated), c.eng.timeArg(next.ExpiresAt), next.Version, next.CallLog, next.WaitingFor)
		if err != nil {
			return err
		}
		if n != 1 {
			// Unreachable while the row is locked; kept so that a
			// locking mistake shows up as a conflict, not a lost update.
			return certs.Errorf(certs.ECONFLICT, "request %s changed while being updated; try again", id)
		}
		if err := c.insertEvents(ctx, t, now, certs.EventsForRequest(next, events)); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		if certs.ErrorCode(err) == certs.ECONFLICT && out != nil {
			return out, err
		}
		return nil, err
	}
	return out, nil
}

// clone deep-copies a request through JSON (its nested slices and maps must
// not be shared with the copy the caller may keep).
func clone(r *certs.Request) (*certs.Request, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, &certs.Error{Code: certs.EINTERNAL, Message: "request cannot be copied", Err: err}
	}
	var out certs.Request
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, &certs.Error{Code: certs.EINTERNAL, Message: "request cannot be copied", Err: err}
	}
	return &out, nil
}

// ClaimRequests leases to owner up to limit requests in one of states whose
// lease is free or expired, oldest change first. On PostgreSQL the rows are
// chosen FOR UPDATE SKIP LOCKED, so concurrent claimers pass over each
// other's rows instead of waiting; the outer condition is re-checked on the
// locked row. On SQLite the IMMEDIATE transaction serializes claimers.
func (c *core) ClaimRequests(ctx context.Context, owner string, states []certs.RequestState, lease time.Duration, limit int) ([]*certs.Request, error) {
	if owner == "" {
		return nil, certs.Errorf(certs.EINVALID, "a lease owner is required")
	}
	if lease <= 0 {
		return nil, certs.Errorf(certs.EINVALID, "lease must be positive, got %s", lease)
	}
	if len(states) == 0 || limit <= 0 {
		return nil, nil
	}
	now := c.clock()
	var claimed []*certs.Request
	err := c.withTx(ctx, "claim requests", func(t tx) error {
		var p params
		until, nowArg := p.add(c.eng.timeArg(now.Add(lease))), p.add(c.eng.timeArg(now))
		ownerArg := p.add(owner)
		free := "(lease_until IS NULL OR lease_until <= " + nowArg + ")"
		inStates := "state IN " + list(&p, stateStrings(states))
		// MATERIALIZED: the choice is made once. Inlined into the UPDATE's
		// IN (...), PostgreSQL may re-run it as rows change and claim more
		// than limit.
		q := `WITH picked AS MATERIALIZED (
				SELECT id FROM requests WHERE ` + inStates + ` AND ` + free + `
				ORDER BY updated, id LIMIT ` + p.add(limit) + c.eng.skipLocked() + `)
			UPDATE requests SET lease_owner = ` + ownerArg + `, lease_until = ` + until + `
			WHERE id IN (SELECT id FROM picked) AND ` + inStates + ` AND ` + free + `
			RETURNING ` + requestColumns
		var err error
		claimed, err = queryRequests(ctx, t, q, p...)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(claimed, func(a, b *certs.Request) int {
		if d := a.Updated.Compare(b.Updated); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return claimed, nil
}

// ReleaseRequest ends owner's lease on a request; it is a no-op when owner
// does not hold it (or the request does not exist).
func (c *core) ReleaseRequest(ctx context.Context, id, owner string) error {
	return c.withTx(ctx, "release request", func(t tx) error {
		_, err := t.exec(ctx, `UPDATE requests SET lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $2`, id, owner)
		return err
	})
}

func stateStrings(states []certs.RequestState) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}
