-- Front-end accounts linked to ISC identities by a sign-in with SailPoint
-- (internal/certs/link.go; times are unix microseconds): e.g. a Slack
-- user, key "slack:<team>/<user>", in CERTOPS_IDENTITY=oauth.

-- +goose Up
CREATE TABLE links (
    link_key    TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    created     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE links;
