-- The call log (internal/certs/lifecycle.go): whether a request records each
-- ISC call before making it (0/1), and what its next call waits for.

-- +goose Up
ALTER TABLE requests ADD COLUMN call_log INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN waiting_for TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE requests DROP COLUMN waiting_for;
ALTER TABLE requests DROP COLUMN call_log;
