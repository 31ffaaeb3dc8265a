package certs

import (
	"context"
	"time"
)

// Link ties a front end's account to the ISC identity that signed in with
// SailPoint from it (CERTOPS_IDENTITY=oauth): e.g. a Slack user,
// "slack:<team>/<user>", to the identity id ISC's token answer named. It
// is how a front end knows who a person is in oauth mode, where no email
// is matched. The grant itself (certs.Grant) is kept by identity.
type Link struct {
	// Key is the front end's account, "<frontend>:<account>".
	Key        string
	IdentityID string
	Created    time.Time // set by the store
}

// LinkStore keeps links. It is not part of Store: a front end that links
// accounts asks its store for it (internal/store and certstest have it).
type LinkStore interface {
	// SaveLink stores l, replacing the key's link if it has one.
	SaveLink(ctx context.Context, l *Link) error
	// GetLink returns the key's link, or ENOTFOUND.
	GetLink(ctx context.Context, key string) (*Link, error)
	// DeleteLink removes the key's link; ENOTFOUND when it has none.
	DeleteLink(ctx context.Context, key string) error
}

// ValidateLinkForSave checks a link before any LinkStore writes it.
func ValidateLinkForSave(l *Link) error {
	if l == nil || l.Key == "" || l.IdentityID == "" {
		return Errorf(EINVALID, "a link needs a key and an identity id")
	}
	return ValidateStorableTexts("link key", l.Key, "link identity id", l.IdentityID)
}
