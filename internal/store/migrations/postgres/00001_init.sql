-- certops schema for PostgreSQL. Tables are created in the connection's
-- current schema (search_path), so one database can hold several
-- deployments, and tests can each have their own schema.

-- +goose Up
CREATE TABLE plans (
    id               text PRIMARY KEY,
    certification_id text NOT NULL,
    created          timestamptz NOT NULL,
    body             jsonb NOT NULL -- certs.Plan
);

CREATE TABLE requests (
    id                     text PRIMARY KEY,
    state                  text NOT NULL,
    certification_id       text NOT NULL,
    plan_id                text NOT NULL,
    requester_key          text NOT NULL,            -- Actor.Keys()[0]
    requester_identity_key text NOT NULL DEFAULT '', -- "identity:<id>" or ''
    plan                   jsonb NOT NULL,
    requester              jsonb NOT NULL,
    approvers              jsonb NOT NULL,
    decided_by             jsonb NOT NULL,           -- JSON null when undecided
    decision_reason        text NOT NULL DEFAULT '',
    tasks                  jsonb NOT NULL,
    error                  text NOT NULL DEFAULT '',
    refs                   jsonb NOT NULL,
    created                timestamptz NOT NULL,
    updated                timestamptz NOT NULL,
    expires_at             timestamptz,      -- NULL: never expires
    version                bigint NOT NULL,
    lease_owner            text,
    lease_until            timestamptz
);
CREATE INDEX requests_created ON requests (created);
CREATE INDEX requests_state_lease ON requests (state, lease_until);
CREATE INDEX requests_state_expires ON requests (state, expires_at);
CREATE INDEX requests_certification ON requests (certification_id, created);
CREATE INDEX requests_requester ON requests (requester_key);
CREATE INDEX requests_requester_identity ON requests (requester_identity_key);

-- events is the audit trail and the outbox. Inserts are serialized by a
-- transaction-level advisory lock (see events.go), so seq order is commit
-- order and a consumer's "seq > cursor" never skips a late commit.
CREATE TABLE events (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time               timestamptz NOT NULL,
    actor              jsonb NOT NULL,
    actor_key          text NOT NULL,
    actor_identity_key text NOT NULL DEFAULT '',
    action             text NOT NULL,
    request_id         text NOT NULL DEFAULT '',
    certification_id   text NOT NULL DEFAULT '',
    count              bigint NOT NULL DEFAULT 0,
    task_ids           jsonb NOT NULL,
    tracking_ids       jsonb NOT NULL,
    detail             text NOT NULL DEFAULT ''
);
CREATE INDEX events_request ON events (request_id, seq);
CREATE INDEX events_certification ON events (certification_id, seq);
CREATE INDEX events_actor ON events (actor_key, seq);
CREATE INDEX events_actor_identity ON events (actor_identity_key, seq);

-- event_cursors is how far each outbox consumer has read, and who may read
-- next.
CREATE TABLE event_cursors (
    consumer    text PRIMARY KEY,
    last_seq    bigint NOT NULL DEFAULT 0,
    lease_owner text,
    lease_until timestamptz
);

-- +goose Down
DROP TABLE event_cursors;
DROP TABLE events;
DROP TABLE requests;
DROP TABLE plans;
