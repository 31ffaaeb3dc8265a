package tools

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

type actorKey struct{}

// WithActor returns a context carrying the actor on whose behalf tool calls
// run. The HTTP layer sets it from the bearer token; the stdio server from
// the configured service identity.
func WithActor(ctx context.Context, a certs.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, if any.
func ActorFrom(ctx context.Context) (certs.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(certs.Actor)
	return a, ok
}
