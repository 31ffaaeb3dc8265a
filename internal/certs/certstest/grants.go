package certstest

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// Grants, as the SQL stores keep them (internal/store/grants.go).

func (db *database) grantTable() map[string]certs.Grant {
	if db.grants == nil {
		db.grants = map[string]certs.Grant{}
	}
	return db.grants
}

// SaveGrant stores or replaces an identity's grant (certs.Store).
func (s *Store) SaveGrant(ctx context.Context, g *certs.Grant) error {
	if err := certs.ValidateGrantForSave(g); err != nil {
		return err
	}
	end, err := s.begin(ctx, "save grant")
	if err != nil {
		return err
	}
	defer end()
	now := s.clock()
	table := s.db.grantTable()
	stored := certs.Grant{IdentityID: g.IdentityID, RefreshToken: g.RefreshToken, Expiry: certs.StoredTime(g.Expiry), Created: now, Updated: now}
	if cur, ok := table[g.IdentityID]; ok {
		stored.Created = cur.Created
	}
	table[g.IdentityID] = stored
	*g = stored
	return nil
}

// GetGrant returns an identity's grant (certs.Store).
func (s *Store) GetGrant(ctx context.Context, identityID string) (*certs.Grant, error) {
	end, err := s.begin(ctx, "get grant")
	if err != nil {
		return nil, err
	}
	defer end()
	g, ok := s.db.grantTable()[identityID]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in for identity %s", identityID)
	}
	return &g, nil
}

// DeleteGrant removes an identity's grant (certs.Store).
func (s *Store) DeleteGrant(ctx context.Context, identityID string) error {
	end, err := s.begin(ctx, "delete grant")
	if err != nil {
		return err
	}
	defer end()
	table := s.db.grantTable()
	if _, ok := table[identityID]; !ok {
		return certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in for identity %s", identityID)
	}
	delete(table, identityID)
	return nil
}
