package tools

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/certops/certops/internal/certs"
)

// Token is one entry of the tokens file: a bearer token, known only by its
// SHA-256, mapped to the person it stands for.
type Token struct {
	// Name identifies the token (and so the person or machine holding
	// it) in the audit trail: it becomes the Actor's ID.
	Name string `json:"name" yaml:"name"`
	// SHA256 is the hex SHA-256 of the token; the token itself is never
	// stored.
	SHA256     string     `json:"sha256" yaml:"sha256"`
	IdentityID string     `json:"identityId" yaml:"identityId"`
	Role       certs.Role `json:"role" yaml:"role"`
}

// tokensFile is the file's shape: a list of tokens, or an object with a
// "tokens" list.
type tokensFile struct {
	Tokens []Token `json:"tokens" yaml:"tokens"`
}

// LoadTokens reads a tokens file (JSON or YAML) and validates every entry.
func LoadTokens(path string) ([]Token, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	tokens, err := ParseTokens(raw)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return tokens, nil
}

// ParseTokens parses and validates tokens from JSON or YAML.
func ParseTokens(raw []byte) ([]Token, error) {
	var tokens []Token
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("no tokens")
	case trimmed[0] == '[':
		if err := strictJSON(trimmed, &tokens); err != nil {
			return nil, err
		}
	case trimmed[0] == '{':
		var f tokensFile
		if err := strictJSON(trimmed, &f); err != nil {
			return nil, err
		}
		tokens = f.Tokens
	default:
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			return nil, fmt.Errorf("not valid JSON or YAML: %w", err)
		}
		if len(node.Content) > 0 && node.Content[0].Kind == yaml.SequenceNode {
			if err := node.Decode(&tokens); err != nil {
				return nil, err
			}
		} else {
			var f tokensFile
			if err := node.Decode(&f); err != nil {
				return nil, err
			}
			tokens = f.Tokens
		}
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	names := map[string]bool{}
	hashes := map[string]bool{}
	for i, t := range tokens {
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("entry %d: name %q is used twice", i+1, t.Name)
		}
		h := strings.ToLower(t.SHA256)
		if hashes[h] {
			return nil, fmt.Errorf("entry %d (%s): the same token hash appears twice", i+1, t.Name)
		}
		names[t.Name], hashes[h] = true, true
	}
	return tokens, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	return nil
}

func (t Token) validate() error {
	if err := certs.ValidateID("name", t.Name); err != nil {
		return err
	}
	if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("%s: sha256 must be the 64 hex digits of the token's SHA-256", t.Name)
	}
	switch t.Role {
	case certs.RoleAdmin:
		if t.IdentityID != "" {
			if err := certs.ValidateID("identityId", t.IdentityID); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
	case certs.RoleReviewer:
		// A reviewer sees only what their identity reviews, so the
		// identity is required.
		if err := certs.ValidateID("identityId", t.IdentityID); err != nil {
			return fmt.Errorf("%s: a reviewer token needs its identity: %w", t.Name, err)
		}
	default:
		return fmt.Errorf("%s: role must be admin or reviewer, not %q", t.Name, t.Role)
	}
	return nil
}

// HashToken returns the hex SHA-256 of a token, as the tokens file holds it.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticator maps presented bearer tokens to actors.
type Authenticator struct {
	mu      sync.RWMutex
	entries []authEntry
}

type authEntry struct {
	hash  [sha256.Size]byte
	actor certs.Actor
}

// NewAuthenticator returns an Authenticator for validated tokens.
func NewAuthenticator(tokens []Token) (*Authenticator, error) {
	a := &Authenticator{}
	for _, t := range tokens {
		if err := a.Add(t); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Add accepts one more token.
func (a *Authenticator) Add(t Token) error {
	if err := t.validate(); err != nil {
		return err
	}
	b, _ := hex.DecodeString(t.SHA256)
	var e authEntry
	copy(e.hash[:], b)
	e.actor = certs.Actor{ID: t.Name, Name: t.Name, Frontend: certs.FrontendMCP, Role: t.Role, IdentityID: t.IdentityID}
	a.mu.Lock()
	a.entries = append(a.entries, e)
	a.mu.Unlock()
	return nil
}

// Len returns the number of accepted tokens.
func (a *Authenticator) Len() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.entries)
}

// Authenticate returns the actor of a presented token. It hashes the token
// and compares the hash with every entry in constant time, so neither the
// comparison nor which entry matched shows in the timing.
func (a *Authenticator) Authenticate(token string) (certs.Actor, bool) {
	if token == "" {
		return certs.Actor{}, false
	}
	h := sha256.Sum256([]byte(token))
	a.mu.RLock()
	defer a.mu.RUnlock()
	var found certs.Actor
	match := 0
	for _, e := range a.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found = e.actor
			match = 1
		}
	}
	return found, match == 1
}
