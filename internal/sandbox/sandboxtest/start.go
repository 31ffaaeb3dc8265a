package sandboxtest

import (
	"net/http/httptest"
	"testing"

	"github.com/certops/certops/internal/sandbox"
)

// Start runs a sandbox built from cfg behind Contract and a real HTTP server
// on a loopback port, closed when the test ends. It returns the sandbox (to
// inject faults or read its state) and the server's base URL, which a
// SailPoint client uses as its tenant URL.
func Start(t testing.TB, cfg sandbox.Config) (*sandbox.Sandbox, string) {
	t.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(Contract(t, sb))
	t.Cleanup(srv.Close)
	return sb, srv.URL
}
