package store

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// Links (certs.Link): one row per front-end account linked to an ISC
// identity by a sign-in with SailPoint.

var _ certs.LinkStore = (*core)(nil)

func readLink(ctx context.Context, q querier, key string) (*certs.Link, error) {
	rs, err := q.query(ctx, `SELECT link_key, identity_id, created FROM links WHERE link_key = $1`, key)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return nil, err
		}
		return nil, certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in linked to %s", key)
	}
	var l certs.Link
	if err := rs.Scan(&l.Key, &l.IdentityID, dbTime{&l.Created}); err != nil {
		return nil, err
	}
	return &l, nil
}

// SaveLink stores or replaces a link (certs.LinkStore).
func (c *core) SaveLink(ctx context.Context, l *certs.Link) error {
	if err := certs.ValidateLinkForSave(l); err != nil {
		return err
	}
	now := c.clock()
	return c.withTx(ctx, "save link", func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO links (link_key, identity_id, created) VALUES ($1, $2, $3)
			ON CONFLICT (link_key) DO UPDATE SET identity_id = excluded.identity_id, created = excluded.created`,
			l.Key, l.IdentityID, c.eng.timeArg(now)); err != nil {
			return err
		}
		stored, err := readLink(ctx, t, l.Key)
		if err != nil {
			return err
		}
		*l = *stored
		return nil
	})
}

// GetLink returns a link (certs.LinkStore).
func (c *core) GetLink(ctx context.Context, key string) (*certs.Link, error) {
	return readLink(ctx, c.eng, key)
}

// DeleteLink removes a link (certs.LinkStore).
func (c *core) DeleteLink(ctx context.Context, key string) error {
	n, err := c.eng.exec(ctx, `DELETE FROM links WHERE link_key = $1`, key)
	if err != nil {
		return err
	}
	if n == 0 {
		return certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in linked to %s", key)
	}
	return nil
}
