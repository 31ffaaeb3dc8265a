package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --migrate-only applies the migrations and exits 0 with only the database
// configured: no SailPoint settings (the migration Job has none).
func TestMigrateOnly(t *testing.T) {
	for _, name := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_CLIENT_SECRET_FILE",
		"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_APPROVALS_CHANNEL", "DATABASE_URL", "DATABASE_URL_FILE"} {
		t.Setenv(name, "")
	}
	path := filepath.Join(t.TempDir(), "certops.db")
	t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "not-this.db"))

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"mcp-server", "--migrate-only", "--sqlite", path}, strings.NewReader(""), &stdout, &stderr), stderr.String())
	assert.FileExists(t, path)
	assert.Contains(t, stderr.String(), "applied database migration")
	assert.Empty(t, stdout.String())

	stderr.Reset()
	err := run(t.Context(), []string{"mcp-server", "--migrate-only", "--sandbox"}, strings.NewReader(""), &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--migrate-only and --sandbox")
}
