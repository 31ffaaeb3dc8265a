package certs

import (
	"context"
	"time"
)

// Grant is what certops keeps of a person's sign-in with SailPoint (the
// OAuth authorization-code flow, CERTOPS_IDENTITY=oauth): the refresh token
// ISC gave for them, encrypted, from which certops gets the short-lived
// access tokens it calls ISC with as that person. Access tokens are never
// stored; they live in the process that fetched them.
//
// A person has at most one grant: signing in again replaces it. It is
// removed when they sign out, and when ISC refuses its refresh token
// (revoked, expired, reused, or the identity gone or inactive), after which
// the person is asked to sign in again.
type Grant struct {
	// IdentityID is the person's ISC identity id, the grant's key: ISC's
	// answer to the code exchange names it.
	IdentityID string `json:"identityId"`
	// RefreshToken is the refresh token, encrypted at rest (internal/grantkey:
	// AES-GCM under a key id prefix, bound to IdentityID). The Store keeps
	// it as it is given; it never sees the token in clear.
	RefreshToken string `json:"-"`
	// Expiry is when the refresh token stops working, when ISC said (zero:
	// unknown).
	Expiry time.Time `json:"expiry,omitzero"`
	// Created is when the person signed in; Updated when the grant was last
	// written (a refresh rotates the token and writes it again). The Store
	// sets both: Created on the first save of an identity (kept by later
	// saves), Updated on every save.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// GrantStore keeps people's grants. It is part of Store; the sign-in
// service (internal/signin) is its only user.
type GrantStore interface {
	// SaveGrant stores g, replacing the identity's grant if it has one
	// (Created is then kept). It sets g.Created and g.Updated as stored.
	// EINVALID when IdentityID or RefreshToken is empty or not storable
	// text.
	SaveGrant(ctx context.Context, g *Grant) error
	// GetGrant returns an identity's grant, or ENOTFOUND when it has none.
	GetGrant(ctx context.Context, identityID string) (*Grant, error)
	// DeleteGrant removes an identity's grant. ENOTFOUND when it has none,
	// so a caller may tell "signed out" from "was not signed in"; deleting
	// twice is safe.
	DeleteGrant(ctx context.Context, identityID string) error
}

// ValidateGrantForSave checks a grant before any Store writes it: the rules
// every Store applies the same way (EINVALID).
func ValidateGrantForSave(g *Grant) error {
	if g == nil || g.IdentityID == "" || g.RefreshToken == "" {
		return Errorf(EINVALID, "a grant needs an identity id and a refresh token")
	}
	// The token is not named in the error: ValidateStorable names the
	// field, never the value.
	return ValidateStorableTexts("grant identity id", g.IdentityID, "grant refresh token", g.RefreshToken)
}
