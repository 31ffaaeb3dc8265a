package tools

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCursor(t *testing.T) {
	key := queryKey("list_review_items", "cert-1", "open")
	t.Run("round trip", func(t *testing.T) {
		off, err := decodeCursor(encodeCursor(50, key), key)
		require.NoError(t, err)
		assert.Equal(t, 50, off)
	})
	t.Run("empty is the first page", func(t *testing.T) {
		off, err := decodeCursor("", key)
		require.NoError(t, err)
		assert.Zero(t, off)
	})
	bad := map[string]string{
		"another query":   encodeCursor(50, queryKey("list_review_items", "cert-2", "open")),
		"not base64":      "%%%",
		"not JSON":        base64.RawURLEncoding.EncodeToString([]byte("offset=50")),
		"negative offset": base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"o":-1,"q":"` + key + `"}`)),
		"huge offset":     base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"o":99999999,"q":"` + key + `"}`)),
		"unknown version": base64.RawURLEncoding.EncodeToString([]byte(`{"v":2,"o":5,"q":"` + key + `"}`)),
		"too long":        string(make([]byte, 300)),
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := decodeCursor(c, key)
			assert.Error(t, err)
		})
	}
	t.Run("next cursor", func(t *testing.T) {
		assert.Empty(t, nextCursor(0, 10, 10, 10, key), "last page")
		assert.Empty(t, nextCursor(0, 7, -1, 10, key), "a short page is the last")
		next := nextCursor(0, 10, 25, 10, key)
		off, err := decodeCursor(next, key)
		require.NoError(t, err)
		assert.Equal(t, 10, off)
	})
}
