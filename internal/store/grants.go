package store

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// Grants (certs.Grant): one row per ISC identity, its refresh token as
// certops encrypted it.

func readGrant(ctx context.Context, q querier, identityID string) (*certs.Grant, error) {
	rs, err := q.query(ctx, `SELECT identity_id, refresh_token, expiry, created, updated FROM grants WHERE identity_id = $1`, identityID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return nil, err
		}
		return nil, certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in for identity %s", identityID)
	}
	var g certs.Grant
	if err := rs.Scan(&g.IdentityID, &g.RefreshToken, dbTime{&g.Expiry}, dbTime{&g.Created}, dbTime{&g.Updated}); err != nil {
		return nil, err
	}
	return &g, nil
}

// SaveGrant stores or replaces an identity's grant (certs.Store).
func (c *core) SaveGrant(ctx context.Context, g *certs.Grant) error {
	if err := certs.ValidateGrantForSave(g); err != nil {
		return err
	}
	now := c.clock()
	return c.withTx(ctx, "save grant", func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO grants (identity_id, refresh_token, expiry, created, updated) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (identity_id) DO UPDATE SET refresh_token = excluded.refresh_token, expiry = excluded.expiry, updated = excluded.updated`,
			g.IdentityID, g.RefreshToken, c.eng.timeArg(certs.StoredTime(g.Expiry)), c.eng.timeArg(now)); err != nil {
			return err
		}
		stored, err := readGrant(ctx, t, g.IdentityID)
		if err != nil {
			return err
		}
		*g = *stored
		return nil
	})
}

// GetGrant returns an identity's grant (certs.Store).
func (c *core) GetGrant(ctx context.Context, identityID string) (*certs.Grant, error) {
	return readGrant(ctx, c.eng, identityID)
}

// DeleteGrant removes an identity's grant (certs.Store).
func (c *core) DeleteGrant(ctx context.Context, identityID string) error {
	n, err := c.eng.exec(ctx, `DELETE FROM grants WHERE identity_id = $1`, identityID)
	if err != nil {
		return err
	}
	if n == 0 {
		return certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in for identity %s", identityID)
	}
	return nil
}
