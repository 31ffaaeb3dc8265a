-- People's sign-ins with SailPoint (internal/certs/grant.go): one row per
-- ISC identity, its refresh token encrypted by certops before it reaches
-- the database (AES-GCM, key id prefix; internal/grantkey).

-- +goose Up
CREATE TABLE grants (
    identity_id   text PRIMARY KEY,
    refresh_token text NOT NULL,
    expiry        timestamptz,
    created       timestamptz NOT NULL,
    updated       timestamptz NOT NULL
);

-- +goose Down
DROP TABLE grants;
