package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/certops/certops/internal/certs"
)

// errorPrefixes is the one table from certs error code to the words a model
// reads first in an error result: what kind of failure it is and what to do
// about it.
var errorPrefixes = map[string]string{
	certs.EINVALID:     "invalid argument",
	certs.ENOTFOUND:    "not found",
	certs.EFORBIDDEN:   "not allowed",
	certs.ECONFLICT:    "conflict (the state changed; read it again before acting)",
	certs.ERATELIMITED: "SailPoint rate limit reached (retry in a little while)",
	certs.EUNAVAILABLE: "unavailable (SailPoint or the database did not answer; reads can be retried)",
	certs.EUNKNOWN:     "outcome unknown (do NOT retry: check get_reassignment_status or list_pending_tasks first)",
	certs.EINTERNAL:    "internal error",
}

// errorText renders err for a model: the code's prefix, certs'
// human message (with SailPoint's tracking id), and SailPoint's operation,
// status and detail code when the failure came from upstream.
func errorText(err error) string {
	code := certs.ErrorCode(err)
	prefix, ok := errorPrefixes[code]
	if !ok {
		prefix = errorPrefixes[certs.EINTERNAL]
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(": ")
	b.WriteString(certs.ErrorMessage(err))
	if up := certs.UpstreamOf(err); up != nil {
		// ErrorMessage already quotes status, detail code and tracking id
		// when there is a tracking id; add what it leaves out.
		var parts []string
		if up.Operation != "" {
			parts = append(parts, "operation "+up.Operation)
		}
		if up.TrackingID == "" {
			if up.Status != 0 {
				parts = append(parts, fmt.Sprintf("HTTP %d", up.Status))
			}
			if up.DetailCode != "" {
				parts = append(parts, "detailCode "+up.DetailCode)
			}
		}
		var said []string
		for _, m := range up.Messages {
			if m != "" && !strings.Contains(b.String(), m) {
				said = append(said, m)
			}
		}
		if len(said) > 0 {
			parts = append(parts, "SailPoint says: "+strings.Join(said, "; "))
		}
		if len(parts) > 0 {
			b.WriteString(" [")
			b.WriteString(strings.Join(parts, ", "))
			b.WriteString("]")
		}
	}
	return b.String()
}

// errorResult turns a failure into a tool result the model can read and act
// on, and logs it. Internal errors are logged with their cause; the model
// only ever sees "internal error".
func errorResult(ctx context.Context, log *slog.Logger, tool string, err error) *mcp.CallToolResult {
	code := certs.ErrorCode(err)
	level := slog.LevelInfo
	switch code {
	case certs.EINTERNAL, certs.EUNKNOWN:
		level = slog.LevelError
	case certs.EUNAVAILABLE, certs.ERATELIMITED:
		level = slog.LevelWarn
	}
	attrs := []any{"tool", tool, "code", code, "err", err}
	if up := certs.UpstreamOf(err); up != nil {
		attrs = append(attrs, "sailpoint_status", up.Status, "sailpoint_tracking_id", up.TrackingID)
	}
	log.Log(ctx, level, "tool call failed", attrs...)
	text := errorText(err)
	if a, ok := ActorFrom(ctx); ok && errors.Is(err, certs.ErrNoIdentity) {
		text = strings.TrimSuffix(text, ".") + ". " + linkHint(a)
	}
	return mcp.NewToolResultError(text)
}

// StdioActorID is the Actor.ID of the caller over stdio (cmd/mcp-server);
// over HTTP an actor's ID is its token's name.
const StdioActorID = "stdio"

// linkHint says how the caller gets linked to an ISC identity, and how to
// find their identity id, for an error that needed one
// (certs.ErrNoIdentity): the domain knows neither variables nor tokens.
func linkHint(a certs.Actor) string {
	const find = "`mcp-server whoami --email you@example.com` prints your identity id"
	if a.ID == StdioActorID {
		return "To link it: set CERTOPS_MCP_IDENTITY_ID to your ISC identity id in the MCP server's environment (the \"env\" of its entry in the assistant's configuration) and restart the server; " + find + "."
	}
	return fmt.Sprintf("To link it: an administrator gives token %q an identityId (your ISC identity id) in CERTOPS_MCP_TOKENS_FILE and restarts the server; %s.", a.ID, find)
}

// invalid returns an EINVALID error naming the argument and what is allowed.
func invalid(format string, args ...any) error {
	return certs.Errorf(certs.EINVALID, format, args...)
}
