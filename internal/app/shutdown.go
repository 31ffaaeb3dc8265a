package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// DefaultShutdownGrace is CERTOPS_SHUTDOWN_GRACE's default: the time a
// binary has, after SIGTERM, to finish in-flight calls and Slack work. It
// must stay below the pods' terminationGracePeriodSeconds (45 s and 90 s in
// manifests/base), after which Kubernetes kills the process.
const DefaultShutdownGrace = 25 * time.Second

// AwaitShutdown waits for wait (the binary's errgroup) to return. Once
// stopping ends (SIGTERM, or serving ended), everything must return within
// grace; past it AwaitShutdown logs an error and returns one, so the
// process exits anyway instead of holding on until it is killed.
func AwaitShutdown(stopping context.Context, wait func() error, grace time.Duration, logger *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-stopping.Done():
	}
	logger.Info("shutting down", "grace", grace)
	start := time.Now()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		logger.Info("shut down", "took", time.Since(start).Round(time.Millisecond))
		return err
	case <-t.C:
		logger.Error("shutdown did not finish within the grace period; exiting anyway", "grace", grace)
		return fmt.Errorf("shutdown: work still running after CERTOPS_SHUTDOWN_GRACE (%s)", grace)
	}
}
