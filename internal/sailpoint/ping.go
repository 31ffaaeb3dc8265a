package sailpoint

import (
	"context"
	"fmt"
)

// Ping reports whether an access token can be had (from the cache, or a
// fresh one from the token endpoint). Readiness probes use it: it costs no
// API call and no rate-limit budget.
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.tokens.get(ctx); err != nil {
		return fmt.Errorf("sailpoint token: %w", err)
	}
	return nil
}
