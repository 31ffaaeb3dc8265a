package tools

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// An error for want of an ISC identity tells the caller which setting
// links one, and how to find their identity id.
func TestUnlinkedCallerIsToldHowToLink(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	unlinked := fmt.Errorf("listing: %w", &certs.Error{Code: certs.EINVALID, Message: "your mcp account is not linked to an ISC identity", Err: certs.ErrNoIdentity})
	text := func(ctx context.Context, err error) string {
		res := errorResult(ctx, quiet, "list_certifications", err)
		require.True(t, res.IsError)
		require.Len(t, res.Content, 1)
		return res.Content[0].(mcp.TextContent).Text
	}

	stdio := WithActor(context.Background(), certs.Actor{ID: StdioActorID, Frontend: certs.FrontendMCP, Role: certs.RoleAdmin})
	got := text(stdio, unlinked)
	assert.Contains(t, got, "invalid argument: your mcp account is not linked to an ISC identity. To link it: set CERTOPS_MCP_IDENTITY_ID to your ISC identity id")
	assert.Contains(t, got, "`mcp-server whoami --email you@example.com` prints your identity id")

	token := WithActor(context.Background(), certs.Actor{ID: "alice-laptop", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin})
	got = text(token, unlinked)
	assert.Contains(t, got, `gives token "alice-laptop" an identityId (your ISC identity id) in CERTOPS_MCP_TOKENS_FILE`)
	assert.NotContains(t, got, "CERTOPS_MCP_IDENTITY_ID")

	other := certs.Errorf(certs.EFORBIDDEN, "reviewers may list only their own certifications")
	assert.NotContains(t, text(stdio, other), "To link it", "only errors for want of an identity")
}
