// Package secret reads credentials that may be rotated while certops runs:
// a secret comes either from an environment variable (NAME), fixed for the
// life of the process, or from a file named by NAME_FILE (a mounted
// Kubernetes Secret, a Vault agent template, a Docker secret), re-read when
// the file changes.
//
// Rules, the same for every secret:
//   - NAME_FILE and NAME both set is a start-up error naming both: which one
//     is meant cannot be guessed, and a stale plain value would otherwise
//     hide a rotation.
//   - A missing, unreadable or empty file fails start-up with the variable
//     and the path (never the content).
//   - Surrounding whitespace (the trailing newline editors add) is trimmed.
//   - A file that later disappears, becomes unreadable or empty keeps the
//     last good value (a half-written rotation must not break the process);
//     the problem is logged once per change.
//
// The file is checked at most every Options.CheckEvery when the value is
// read, so a rotation takes effect within that time without a restart.
//
// Why not fsnotify: Kubernetes updates a mounted Secret by writing a new
// directory and swapping the ..data symlink atomically. The watched file's
// inode never receives an event (the path now resolves to another file),
// so inotify-based watchers miss rotations unless they re-watch the parent
// and follow symlinks. Stat-on-read (mtime, size, and which file the path
// resolves to, then a content hash) is simpler and catches every way a file
// can be replaced.
package secret

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Source gives a secret's current value.
type Source interface {
	Value() string
}

// Static is a Source that never changes: a secret from a plain variable.
type Static string

// Value returns s.
func (s Static) Value() string { return string(s) }

// DefaultCheckEvery is how often a File looks at its file when read.
const DefaultCheckEvery = 10 * time.Second

// Options tune a File. All are optional.
type Options struct {
	// CheckEvery is the least time between two looks at the file
	// (DefaultCheckEvery when zero; negative: look at every read).
	CheckEvery time.Duration
	Logger     *slog.Logger     // nil: slog.Default()
	Now        func() time.Time // nil: time.Now
}

// File is a secret read from a file and re-read when the file changes. It
// is safe for concurrent use.
type File struct {
	name  string // the variable that named the file, for logs and errors
	path  string
	every time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	value     string
	previous  string    // the value before the last rotation
	rotatedAt time.Time // when value replaced previous
	checked   time.Time
	info      os.FileInfo // what the path resolved to when last read
	sum       [sha256.Size]byte
	problem   string // the last failure logged, so it is logged once
}

// OpenFile reads the secret in path, which the variable name points to.
// The error names both and never includes the content.
func OpenFile(name, path string, opts Options) (*File, error) {
	f := &File{name: name, path: path, every: opts.CheckEvery, log: opts.Logger, now: opts.Now}
	if f.every == 0 {
		f.every = DefaultCheckEvery
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.now == nil {
		f.now = time.Now
	}
	info, value, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f.info, f.value, f.sum, f.checked = info, value, sha256.Sum256([]byte(value)), f.now()
	return f, nil
}

// read stats and reads path; the error names path, never the content.
func read(path string) (os.FileInfo, string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("secret file %s: %w", path, unwrapPath(err))
	}
	if info.IsDir() {
		return nil, "", fmt.Errorf("secret file %s is a directory", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("secret file %s: %w", path, unwrapPath(err))
	}
	value := string(bytes.TrimSpace(raw))
	if value == "" {
		return nil, "", fmt.Errorf("secret file %s is empty", path)
	}
	return info, value, nil
}

// unwrapPath drops os.PathError's own copy of the path (already said).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Name is the variable that named the file.
func (f *File) Name() string { return f.name }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Value returns the secret, first re-reading the file if it was last
// checked CheckEvery ago or more and has changed since.
func (f *File) Value() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.checked) >= f.every {
		f.check(false)
	}
	return f.value
}

// Reload checks the file now, whatever CheckEvery says, and reports whether
// the value changed. Call it when the secret was refused (a 401 from the
// token endpoint): a rotation may have happened since the last check.
func (f *File) Reload() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.check(true)
}

// Previous returns the value the last rotation replaced, if that rotation
// happened less than within ago: during a rotation the other side may still
// use the old secret for a while.
func (f *File) Previous(within time.Duration) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.previous == "" || f.now().Sub(f.rotatedAt) >= within {
		return "", false
	}
	return f.previous, true
}

// check re-reads the file if it changed (or always, with force), and
// reports whether the value did. f.mu is held.
func (f *File) check(force bool) bool {
	f.checked = f.now()
	info, err := os.Stat(f.path)
	if err == nil && !force && sameFile(f.info, info) {
		return false
	}
	info, value, err := read(f.path)
	if err != nil {
		if msg := err.Error(); msg != f.problem {
			f.problem = msg
			f.log.Warn("secret file unusable; keeping the last value", "variable", f.name, "err", msg)
		}
		return false
	}
	f.problem = ""
	f.info = info
	sum := sha256.Sum256([]byte(value))
	if sum == f.sum {
		return false // touched or replaced with the same content
	}
	f.previous, f.value, f.sum, f.rotatedAt = f.value, value, sum, f.now()
	f.log.Info("secret rotated", "variable", f.name, "path", f.path)
	return true
}

// sameFile reports whether the path still resolves to the file last read,
// unchanged: same file (inode), same size, same modification time.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// FromEnv returns the secret configured by the variable name: the file
// named by name+"_FILE", or the value of name, per the package rules.
// getenv reads the environment (os.Getenv); empty counts as unset. It
// returns (nil, nil) when neither is set, so the caller decides whether the
// secret is required and says so in its own words.
func FromEnv(name string, getenv func(string) string, opts Options) (Source, error) {
	fileVar := name + "_FILE"
	path, plain := strings.TrimSpace(getenv(fileVar)), getenv(name)
	switch {
	case path != "" && plain != "":
		return nil, fmt.Errorf("%s and %s are both set: set only one (%s to re-read the secret when the file changes)", name, fileVar, fileVar)
	case path != "":
		return OpenFile(fileVar, path, opts)
	case plain != "":
		return Static(plain), nil
	}
	return nil, nil
}
