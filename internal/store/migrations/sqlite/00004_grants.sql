-- People's sign-ins with SailPoint (times are unix microseconds;
-- internal/certs/grant.go): one row per ISC identity, its refresh token
-- encrypted by certops before it reaches the database (AES-GCM, key id
-- prefix; internal/grantkey).

-- +goose Up
CREATE TABLE grants (
    identity_id   TEXT PRIMARY KEY,
    refresh_token TEXT NOT NULL,
    expiry        INTEGER,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
);

-- +goose Down
DROP TABLE grants;
