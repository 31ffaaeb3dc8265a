-- Front-end accounts linked to ISC identities by a sign-in with SailPoint
-- (internal/certs/link.go): e.g. a Slack user, key "slack:<team>/<user>",
-- in CERTOPS_IDENTITY=oauth.

-- +goose Up
CREATE TABLE links (
    link_key    text PRIMARY KEY,
    identity_id text NOT NULL,
    created     timestamptz NOT NULL
);

-- +goose Down
DROP TABLE links;
