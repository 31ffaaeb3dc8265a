package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
)

func TestAwaitShutdown(t *testing.T) {
	t.Run("work that ends within the grace period", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		var logs bytes.Buffer
		errc := make(chan error, 1)
		go func() {
			errc <- app.AwaitShutdown(ctx, func() error { <-release; return nil }, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
		}()
		cancel()
		close(release)
		require.NoError(t, <-errc)
	})
	t.Run("work that outlasts the grace period is left behind, with an error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		stuck := make(chan struct{})
		defer close(stuck)
		var logs bytes.Buffer
		err := app.AwaitShutdown(ctx, func() error { <-stuck; return nil }, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "CERTOPS_SHUTDOWN_GRACE")
		assert.Contains(t, logs.String(), "level=ERROR")
	})
	t.Run("a failure before any signal is returned as is", func(t *testing.T) {
		boom := errors.New("listen: address in use")
		err := app.AwaitShutdown(context.Background(), func() error { return boom }, time.Minute, slog.New(slog.DiscardHandler))
		assert.ErrorIs(t, err, boom)
	})
}

func TestShutdownGraceIsConfigurable(t *testing.T) {
	cfg, err := app.LoadConfig(true)
	require.NoError(t, err)
	assert.Equal(t, app.DefaultShutdownGrace, cfg.ShutdownGrace)
	t.Setenv("CERTOPS_SHUTDOWN_GRACE", "40s")
	cfg, err = app.LoadConfig(true)
	require.NoError(t, err)
	assert.Equal(t, 40*time.Second, cfg.ShutdownGrace)
	t.Setenv("CERTOPS_SHUTDOWN_GRACE", "0s")
	_, err = app.LoadConfig(true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CERTOPS_SHUTDOWN_GRACE")
}
