// Package grantkey encrypts people's SailPoint refresh tokens before they
// reach the store (certs.Grant), with AES-256-GCM.
//
// The key is 32 random bytes, written base64 (standard or URL alphabet,
// padded or not) or as 64 hex digits, in the file CERTOPS_GRANT_KEY_FILE
// names (or, as for every secret, in CERTOPS_GRANT_KEY itself; internal/secret
// rules). Make one with `openssl rand -base64 32`.
//
// A sealed value is "gk1.<key id>.<base64url(nonce ‖ ciphertext)>": the key
// id (the first 8 bytes of SHA-256 over the key, hex) says which key opens
// it, so a rotation needs no re-encryption pass. The additional data is the
// identity id, so a sealed token copied onto another person's row does not
// open.
//
// Rotation: put the new key in the file (or a new Secret); the old one goes
// to CERTOPS_GRANT_KEY_PREVIOUS_FILE (or CERTOPS_GRANT_KEY_PREVIOUS). New
// seals use the current key; opening accepts either. A key file rotated
// while certops runs also keeps opening with the key it replaced, for the
// life of the process. Every grant is sealed again with the current key at
// its next refresh (refresh tokens rotate), so once every grant has been
// refreshed, or after the refresh tokens' lifetime, the previous key can go.
package grantkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/certops/certops/internal/secret"
)

// The variables that hold the keys.
const (
	EnvKey         = "CERTOPS_GRANT_KEY"
	EnvPreviousKey = "CERTOPS_GRANT_KEY_PREVIOUS"
)

// prefix versions the sealed format.
const prefix = "gk1"

// ErrUnopenable is what Open returns for a value no key it has opens: a key
// id it does not know (the key that sealed it is gone), or a value altered
// or sealed for another identity. The person has to sign in again.
var ErrUnopenable = errors.New("grantkey: the sealed token cannot be opened with the keys configured")

// Keyring seals with the current key and opens with the current or the
// previous one. It is safe for concurrent use.
type Keyring struct {
	current  secret.Source
	previous secret.Source // nil: none
	name     string        // the variable of current, for errors
}

// New returns a Keyring over current (required) and previous (may be nil).
// It checks that each holds a key; the error names the variable, never the
// value.
func New(current, previous secret.Source) (*Keyring, error) {
	if current == nil {
		return nil, fmt.Errorf("%s is required (or %s_FILE)", EnvKey, EnvKey)
	}
	k := &Keyring{current: current, previous: previous, name: nameOf(current, EnvKey)}
	if _, err := parseKey(current.Value()); err != nil {
		return nil, fmt.Errorf("%s: %w", k.name, err)
	}
	if previous != nil {
		if _, err := parseKey(previous.Value()); err != nil {
			return nil, fmt.Errorf("%s: %w", nameOf(previous, EnvPreviousKey), err)
		}
	}
	return k, nil
}

// FromEnv reads CERTOPS_GRANT_KEY(_FILE), required, and
// CERTOPS_GRANT_KEY_PREVIOUS(_FILE), optional, by internal/secret's rules.
func FromEnv(getenv func(string) string, opts secret.Options) (*Keyring, error) {
	cur, err := secret.FromEnv(EnvKey, getenv, opts)
	if err != nil {
		return nil, err
	}
	prev, err := secret.FromEnv(EnvPreviousKey, getenv, opts)
	if err != nil {
		return nil, err
	}
	return New(cur, prev)
}

func nameOf(s secret.Source, plain string) string {
	if f, ok := s.(*secret.File); ok {
		return f.Name()
	}
	return plain
}

// key is one AES-256 key and its id.
type key struct {
	id   string
	aead cipher.AEAD
}

// parseKey reads a key written base64 or hex; the error never holds it.
func parseKey(s string) (key, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		raw = b
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				raw = b
				break
			}
		}
	}
	if len(raw) != 32 {
		return key{}, errors.New("must hold a 256-bit key: 32 random bytes written base64 or as 64 hex digits (openssl rand -base64 32)")
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	sum := sha256.Sum256(append([]byte("certops grant key\x00"), raw...))
	return key{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// CurrentID is the id of the key Seal uses now.
func (k *Keyring) CurrentID() (string, error) {
	cur, err := k.currentKey()
	if err != nil {
		return "", err
	}
	return cur.id, nil
}

func (k *Keyring) currentKey() (key, error) {
	cur, err := parseKey(k.current.Value())
	if err != nil {
		return key{}, fmt.Errorf("%s: %w", k.name, err)
	}
	return cur, nil
}

// keys returns the keys Open tries: the current one, the one a rotation of
// its file replaced while running, and the configured previous one.
func (k *Keyring) keys() []key {
	var out []key
	add := func(v string) {
		if kk, err := parseKey(v); err == nil {
			out = append(out, kk)
		}
	}
	add(k.current.Value())
	if f, ok := k.current.(*secret.File); ok {
		if v, ok := f.Previous(time.Duration(math.MaxInt64)); ok {
			add(v)
		}
	}
	if k.previous != nil {
		add(k.previous.Value())
	}
	return out
}

func aad(identityID string) []byte { return []byte("certops grant\x00" + identityID) }

// Seal encrypts a refresh token for identityID with the current key.
func (k *Keyring) Seal(identityID, token string) (string, error) {
	cur, err := k.currentKey()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, cur.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("grantkey: nonce: %w", err)
	}
	sealed := cur.aead.Seal(nonce, nonce, []byte(token), aad(identityID))
	return prefix + "." + cur.id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts what Seal sealed for identityID, with whichever configured
// key it names. ErrUnopenable when none does.
func (k *Keyring) Open(identityID, sealed string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != prefix {
		return "", ErrUnopenable
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", ErrUnopenable
	}
	for _, kk := range k.keys() {
		if kk.id != parts[1] {
			continue
		}
		n := kk.aead.NonceSize()
		if len(data) < n {
			return "", ErrUnopenable
		}
		plain, err := kk.aead.Open(nil, data[:n], data[n:], aad(identityID))
		if err != nil {
			return "", ErrUnopenable
		}
		return string(plain), nil
	}
	return "", ErrUnopenable
}

// KeyID returns the id of the key a sealed value names ("" when it is not
// one), for tests and for counting grants not yet sealed again.
func KeyID(sealed string) string {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != prefix {
		return ""
	}
	return parts[1]
}
