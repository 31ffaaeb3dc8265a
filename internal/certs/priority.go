package certs

import "context"

// Work has two priorities: a person waiting for an answer (an MCP tool
// call, a Slack slash command or button) and background work nobody is
// watching (the worker's Tick, the Slack notifier). Every context is
// interactive unless marked with Background. The priority travels in the
// context so that the tenant adapter (internal/sailpoint's pacer) can let
// interactive requests go first without importing the services that start
// the work, nor they it.

type backgroundKey struct{}

// Background returns ctx marked as background work: adapters that share a
// scarce resource (SailPoint's rate limit) serve it after interactive work
// and never with the share they keep for people. Mark a context where
// background work starts; whatever it calls inherits the mark.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx, or a context it derives from, was
// marked with Background.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}
