package certstest

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// Links, as the SQL stores keep them (internal/store/links.go).

var _ certs.LinkStore = (*Store)(nil)

func (db *database) linkTable() map[string]certs.Link {
	if db.links == nil {
		db.links = map[string]certs.Link{}
	}
	return db.links
}

// SaveLink stores or replaces a link (certs.LinkStore).
func (s *Store) SaveLink(ctx context.Context, l *certs.Link) error {
	if err := certs.ValidateLinkForSave(l); err != nil {
		return err
	}
	end, err := s.begin(ctx, "save link")
	if err != nil {
		return err
	}
	defer end()
	stored := certs.Link{Key: l.Key, IdentityID: l.IdentityID, Created: s.clock()}
	s.db.linkTable()[l.Key] = stored
	*l = stored
	return nil
}

// GetLink returns a link (certs.LinkStore).
func (s *Store) GetLink(ctx context.Context, key string) (*certs.Link, error) {
	end, err := s.begin(ctx, "get link")
	if err != nil {
		return nil, err
	}
	defer end()
	l, ok := s.db.linkTable()[key]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in linked to %s", key)
	}
	return &l, nil
}

// DeleteLink removes a link (certs.LinkStore).
func (s *Store) DeleteLink(ctx context.Context, key string) error {
	end, err := s.begin(ctx, "delete link")
	if err != nil {
		return err
	}
	defer end()
	table := s.db.linkTable()
	if _, ok := table[key]; !ok {
		return certs.Errorf(certs.ENOTFOUND, "no SailPoint sign-in linked to %s", key)
	}
	delete(table, key)
	return nil
}
