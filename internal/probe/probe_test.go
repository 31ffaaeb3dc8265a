package probe_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/probe"
)

func TestHealthz(t *testing.T) {
	w := httptest.NewRecorder()
	probe.Healthz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "ok\n", w.Body.String())
	assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name     string
		ready    func(context.Context) error
		wantCode int
		wantBody string
		wantLog  string
	}{
		{name: "no check", wantCode: http.StatusOK, wantBody: "ready\n"},
		{name: "check passes", ready: func(context.Context) error { return nil }, wantCode: http.StatusOK, wantBody: "ready\n"},
		{
			name:     "check fails",
			ready:    func(context.Context) error { return errors.New("database: dial db.internal:5432") },
			wantCode: http.StatusServiceUnavailable, wantBody: "not ready\n", wantLog: "db.internal:5432",
		},
		{
			name: "check outlasts its deadline",
			ready: func(ctx context.Context) error {
				deadline, ok := ctx.Deadline()
				if !ok || time.Until(deadline) > probe.ReadyTimeout {
					return errors.New("no deadline")
				}
				return context.DeadlineExceeded
			},
			wantCode: http.StatusServiceUnavailable, wantBody: "not ready\n", wantLog: "deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			probe.Readyz(tt.ready, slog.New(slog.NewTextHandler(&logs, nil))).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			assert.Equal(t, tt.wantCode, w.Code)
			assert.Equal(t, tt.wantBody, w.Body.String(), "the reason is logged, not served")
			assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
			if tt.wantLog == "" {
				assert.Empty(t, logs.String())
				return
			}
			require.Contains(t, logs.String(), `msg="not ready"`)
			assert.Contains(t, logs.String(), tt.wantLog)
		})
	}
}
