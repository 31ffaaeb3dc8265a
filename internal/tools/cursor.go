package tools

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// maxCursorOffset bounds the offsets a cursor may carry: ISC pages are at
// most 250 and nobody pages through more than this in a conversation.
const maxCursorOffset = 100_000

// cursor is what a pagination cursor encodes: where the next page starts and
// a fingerprint of the query it belongs to, so that a cursor cannot be
// replayed against another query (another certification, other filters).
type cursor struct {
	Version int    `json:"v"`
	Offset  int    `json:"o"`
	Query   string `json:"q"`
}

// queryKey fingerprints the parts of a query that define its result set
// (not the page size).
func queryKey(tool string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(tool))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// encodeCursor returns the opaque cursor for the page at offset.
func encodeCursor(offset int, key string) string {
	b, _ := json.Marshal(cursor{Version: 1, Offset: offset, Query: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the offset a cursor points at. An empty cursor is the
// first page. A cursor that does not decode, or that belongs to another
// query, is EINVALID.
func decodeCursor(s, key string) (int, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 256 {
		return 0, invalid("cursor is not one this server returned; omit it to start from the first page")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return 0, invalid("cursor is not one this server returned; omit it to start from the first page")
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Version != 1 {
		return 0, invalid("cursor is not one this server returned; omit it to start from the first page")
	}
	if c.Query != key {
		return 0, invalid("cursor belongs to a different query (other certification or filters); repeat the same arguments with it, or omit it to start over")
	}
	if c.Offset < 0 || c.Offset > maxCursorOffset {
		return 0, invalid("cursor is out of range; omit it to start from the first page")
	}
	return c.Offset, nil
}

// nextCursor returns the cursor of the page after one that started at offset
// and held n items, or "" when there is none.
func nextCursor(offset, n, total, limit int, key string) string {
	next := offset + n
	if n == 0 || n < limit || (total >= 0 && next >= total) || next > maxCursorOffset {
		return ""
	}
	return encodeCursor(next, key)
}
