-- certops schema for SQLite. Times are INTEGER unix microseconds (UTC), the
-- same precision PostgreSQL's timestamptz keeps, so both engines round-trip
-- the same values. JSON columns are TEXT holding certs types as JSON.

-- +goose Up
CREATE TABLE plans (
    id               TEXT PRIMARY KEY,
    certification_id TEXT NOT NULL,
    created          INTEGER NOT NULL,
    body             TEXT NOT NULL -- certs.Plan
);

CREATE TABLE requests (
    id                     TEXT PRIMARY KEY,
    state                  TEXT NOT NULL,
    certification_id       TEXT NOT NULL,
    plan_id                TEXT NOT NULL,
    requester_key          TEXT NOT NULL,            -- Actor.Keys()[0]
    requester_identity_key TEXT NOT NULL DEFAULT '', -- "identity:<id>" or ''
    plan                   TEXT NOT NULL,
    requester              TEXT NOT NULL,
    approvers              TEXT NOT NULL,
    decided_by             TEXT NOT NULL,            -- JSON null when undecided
    decision_reason        TEXT NOT NULL DEFAULT '',
    tasks                  TEXT NOT NULL,
    error                  TEXT NOT NULL DEFAULT '',
    refs                   TEXT NOT NULL,
    created                INTEGER NOT NULL,
    updated                INTEGER NOT NULL,
    expires_at             INTEGER,          -- NULL: never expires
    version                INTEGER NOT NULL,
    lease_owner            TEXT,
    lease_until            INTEGER
);
CREATE INDEX requests_created ON requests (created);
CREATE INDEX requests_state_lease ON requests (state, lease_until);
CREATE INDEX requests_state_expires ON requests (state, expires_at);
CREATE INDEX requests_certification ON requests (certification_id, created);
CREATE INDEX requests_requester ON requests (requester_key);
CREATE INDEX requests_requester_identity ON requests (requester_identity_key);

-- events is the audit trail and the outbox. AUTOINCREMENT so a seq is never
-- reused, even after the newest rows are deleted.
CREATE TABLE events (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    time               INTEGER NOT NULL,
    actor              TEXT NOT NULL,
    actor_key          TEXT NOT NULL,
    actor_identity_key TEXT NOT NULL DEFAULT '',
    action             TEXT NOT NULL,
    request_id         TEXT NOT NULL DEFAULT '',
    certification_id   TEXT NOT NULL DEFAULT '',
    count              INTEGER NOT NULL DEFAULT 0,
    task_ids           TEXT NOT NULL,
    tracking_ids       TEXT NOT NULL,
    detail             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_request ON events (request_id, seq);
CREATE INDEX events_certification ON events (certification_id, seq);
CREATE INDEX events_actor ON events (actor_key, seq);
CREATE INDEX events_actor_identity ON events (actor_identity_key, seq);

-- event_cursors is how far each outbox consumer has read, and who may read
-- next.
CREATE TABLE event_cursors (
    consumer    TEXT PRIMARY KEY,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER
);

-- +goose Down
DROP TABLE event_cursors;
DROP TABLE events;
DROP TABLE requests;
DROP TABLE plans;
