-- Reminders (internal/certs/reminder_store.go): each message certops sends
-- at most once (a reviewer's digest of a day, an escalation step), claimed
-- before it is sent and finished after; and each person's reminder
-- preferences (/certs remind, snooze).

-- +goose Up
CREATE TABLE reminders (
    key         text PRIMARY KEY,
    kind        text NOT NULL,
    subject     text NOT NULL,
    state       text NOT NULL,
    attempt     integer NOT NULL DEFAULT 1,
    lease_owner text,
    lease_until timestamptz,
    channel     text NOT NULL DEFAULT '',
    ts          text NOT NULL DEFAULT '',
    snapshot    text NOT NULL DEFAULT '[]',
    created     timestamptz NOT NULL,
    finished    timestamptz
);
CREATE INDEX reminders_subject ON reminders (kind, subject, state, finished);

CREATE TABLE reminder_prefs (
    subject      text PRIMARY KEY,
    mode         text NOT NULL DEFAULT '',
    snooze_until timestamptz,
    updated      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE reminder_prefs;
DROP TABLE reminders;
