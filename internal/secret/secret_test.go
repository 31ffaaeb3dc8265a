package secret_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/testkit"
)

type clock = testkit.Clock

type syncBuffer = testkit.Buffer

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

func open(t *testing.T, path string) (*secret.File, *clock, *syncBuffer) {
	t.Helper()
	clk := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	f, err := secret.OpenFile("SLACK_SIGNING_SECRET_FILE", path, secret.Options{
		CheckEvery: 10 * time.Second, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)
	return f, clk, logs
}

// openWritten writes content to a new file and opens it.
func openWritten(t *testing.T, content string) (path string, f *secret.File, clk *clock, logs *syncBuffer) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "s")
	write(t, path, content)
	f, clk, logs = open(t, path)
	return path, f, clk, logs
}

func TestOpenFile_refusesWhatCannotBeUsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	write(t, empty, " \n")
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"empty", empty, "is empty"},
		{"a directory", dir, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secret.OpenFile("SAIL_CLIENT_SECRET_FILE", tc.path, secret.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "SAIL_CLIENT_SECRET_FILE")
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFile_trimsTheTrailingNewline(t *testing.T) {
	t.Parallel()
	_, f, _, _ := openWritten(t, "s3cret\n")
	assert.Equal(t, "s3cret", f.Value())
}

func TestFile_rotation(t *testing.T) {
	t.Parallel()
	path, f, clk, logs := openWritten(t, "old-secret")
	require.Equal(t, "old-secret", f.Value())

	write(t, path, "new-secret-longer")
	assert.Equal(t, "old-secret", f.Value(), "not looked at before CheckEvery")
	clk.Advance(10 * time.Second)
	assert.Equal(t, "new-secret-longer", f.Value(), "re-read once CheckEvery passed")

	prev, ok := f.Previous(5 * time.Minute)
	require.True(t, ok, "the old value overlaps the rotation")
	assert.Equal(t, "old-secret", prev)
	clk.Advance(5 * time.Minute)
	_, ok = f.Previous(5 * time.Minute)
	assert.False(t, ok, "and only for the overlap")

	assert.Contains(t, logs.String(), "secret rotated")
	assert.Contains(t, logs.String(), "SLACK_SIGNING_SECRET_FILE")
	assert.NotContains(t, logs.String(), "secret-longer")
	assert.NotContains(t, logs.String(), "old-secret")
}

func TestFile_reloadIgnoresCheckEvery(t *testing.T) {
	t.Parallel()
	path, f, _, _ := openWritten(t, "one")
	write(t, path, "two")
	assert.True(t, f.Reload())
	assert.Equal(t, "two", f.Value())
	assert.False(t, f.Reload(), "nothing changed since")
}

// Kubernetes mounts a Secret as key -> ..data/key, ..data -> ..<timestamp>,
// and rotates it by writing a new timestamped directory and renaming a new
// ..data symlink over the old one.
func TestFile_kubernetesSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "..2026_11_23_12_00_00.1"), filepath.Join(dir, "..2026_11_23_12_05_00.2")
	require.NoError(t, os.Mkdir(v1, 0o755))
	require.NoError(t, os.Mkdir(v2, 0o755))
	write(t, filepath.Join(v1, "key"), "before")
	write(t, filepath.Join(v2, "key"), "after!") // same size as before
	require.NoError(t, os.Symlink(filepath.Base(v1), filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "key"), filepath.Join(dir, "key")))

	f, clk, _ := open(t, filepath.Join(dir, "key"))
	require.Equal(t, "before", f.Value())

	require.NoError(t, os.Symlink(filepath.Base(v2), filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(v1))
	clk.Advance(time.Minute)
	assert.Equal(t, "after!", f.Value())
}

func TestFile_keepsTheLastValueWhenTheFileBreaks(t *testing.T) {
	t.Parallel()
	path, f, clk, logs := openWritten(t, "good")

	write(t, path, "")
	clk.Advance(time.Minute)
	assert.Equal(t, "good", f.Value(), "an empty file is a rotation in progress")
	require.NoError(t, os.Remove(path))
	clk.Advance(time.Minute)
	assert.Equal(t, "good", f.Value(), "so is a missing one")
	clk.Advance(time.Minute)
	_ = f.Value()
	assert.Equal(t, 1, bytes.Count([]byte(logs.String()), []byte("no such file")), "each problem logged once:\n%s", logs.String())

	write(t, path, "better")
	clk.Advance(time.Minute)
	assert.Equal(t, "better", f.Value())
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	write(t, path, "xoxb-from-file\n")
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

	t.Run("the file", func(t *testing.T) {
		s, err := secret.FromEnv("SLACK_BOT_TOKEN", env(map[string]string{"SLACK_BOT_TOKEN_FILE": path}), secret.Options{})
		require.NoError(t, err)
		require.IsType(t, &secret.File{}, s)
		assert.Equal(t, "xoxb-from-file", s.Value())
	})
	t.Run("the plain variable", func(t *testing.T) {
		s, err := secret.FromEnv("SLACK_BOT_TOKEN", env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-plain"}), secret.Options{})
		require.NoError(t, err)
		assert.Equal(t, secret.Static("xoxb-plain"), s)
	})
	t.Run("both is an error naming both", func(t *testing.T) {
		_, err := secret.FromEnv("SLACK_BOT_TOKEN", env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-plain", "SLACK_BOT_TOKEN_FILE": path}), secret.Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are both set")
		assert.NotContains(t, err.Error(), "xoxb")
	})
	t.Run("neither", func(t *testing.T) {
		s, err := secret.FromEnv("SLACK_BOT_TOKEN", env(nil), secret.Options{})
		require.NoError(t, err)
		assert.Nil(t, s)
	})
	t.Run("an unreadable file names the variable and the path", func(t *testing.T) {
		_, err := secret.FromEnv("SLACK_BOT_TOKEN", env(map[string]string{"SLACK_BOT_TOKEN_FILE": path + ".missing"}), secret.Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SLACK_BOT_TOKEN_FILE")
		assert.Contains(t, err.Error(), path+".missing")
	})
}
