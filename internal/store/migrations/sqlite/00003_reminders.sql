-- Reminders (times are unix microseconds; internal/certs/reminder_store.go): each message certops sends
-- at most once (a reviewer's digest of a day, an escalation step), claimed
-- before it is sent and finished after; and each person's reminder
-- preferences (/certs remind, snooze).

-- +goose Up
CREATE TABLE reminders (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    lease_owner TEXT,
    lease_until INTEGER,
    channel     TEXT NOT NULL DEFAULT '',
    ts          TEXT NOT NULL DEFAULT '',
    snapshot    TEXT NOT NULL DEFAULT '[]',
    created     INTEGER NOT NULL,
    finished    INTEGER
);
CREATE INDEX reminders_subject ON reminders (kind, subject, state, finished);

CREATE TABLE reminder_prefs (
    subject      TEXT PRIMARY KEY,
    mode         TEXT NOT NULL DEFAULT '',
    snooze_until INTEGER,
    updated      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE reminder_prefs;
DROP TABLE reminders;
