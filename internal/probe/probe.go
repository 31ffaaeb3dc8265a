// Package probe answers the health probes that every certops binary serves
// on its HTTP port, written once so that they mean the same everywhere:
//
//	GET /healthz  200 "ok": the process is up (Kubernetes' startup and liveness probes)
//	GET /readyz   200 "ready" when the binary's ready check succeeds within
//	              ReadyTimeout, 503 "not ready" otherwise (the readiness probe)
//
// Each HTTP surface lists these paths in its routes.go beside its own. The
// package imports nothing of certops, so every front end may use it.
package probe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// ReadyTimeout bounds one ready check; a check that takes longer counts as
// not ready.
const ReadyTimeout = 5 * time.Second

// Healthz answers 200 "ok" to every request: if it answers, the process is
// up.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
}

// Readyz answers 200 "ready" when ready succeeds (or is nil), and 503 "not
// ready" when it fails or takes longer than ReadyTimeout. The reason goes to
// logger (slog.Default when nil), never to whoever asks: it may name hosts
// and databases.
func Readyz(ready func(ctx context.Context) error, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				logger.Warn("not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready")
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
}
