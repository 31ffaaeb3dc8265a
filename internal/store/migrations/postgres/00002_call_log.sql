-- The call log (internal/certs/lifecycle.go): whether a request records each
-- ISC call before making it, and what its next call waits for.

-- +goose Up
ALTER TABLE requests ADD COLUMN call_log boolean NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN waiting_for text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE requests DROP COLUMN waiting_for;
ALTER TABLE requests DROP COLUMN call_log;
