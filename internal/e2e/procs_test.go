package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/testkit"
)

// Helpers that build certops's binaries and run them as separate processes,
// as a deployment would: each with its own environment, its stderr kept for
// the failure report.

// binaries are built once per test binary run, into a directory TestMain
// removes.
var binaries struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		_ = os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// buildBinaries builds cmd/sandbox, cmd/mcp-server and cmd/slackbot, once,
// without -race (the processes are the system under test, not the test),
// and returns their directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	binaries.once.Do(func() {
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			binaries.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		if binaries.dir, err = os.MkdirTemp("", "certops-e2e-bin-"); err != nil {
			binaries.err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binaries.dir+string(filepath.Separator), "./cmd/sandbox", "./cmd/mcp-server", "./cmd/slackbot")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, binaries.err)
	return binaries.dir
}

// syncBuffer is the module's synchronised buffer: a process writes while
// the test reads.
type syncBuffer = testkit.Buffer

// process is one running binary.
type process struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	// base is the process's HTTP base URL, read from its stdout.
	base string

	exited   chan struct{} // closed when Wait returned
	waitErr  error
	exitedAt time.Time
}

// startProcess runs bin with args and exactly env (nothing inherited). The
// process is killed, if still running, when the test ends; its output is
// printed when the test failed (or always, with CERTOPS_E2E_LOGS set).
func startProcess(t *testing.T, name, bin string, env []string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, args...) // cancel kills it: the safety net
	p.cmd.Env = env
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		err := p.cmd.Wait()
		p.waitErr, p.exitedAt = err, time.Now()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		if t.Failed() || os.Getenv("CERTOPS_E2E_LOGS") != "" {
			t.Logf("---- %s (pid %d) stdout:\n%s", name, p.cmd.Process.Pid, p.stdout.String())
			t.Logf("---- %s (pid %d) stderr:\n%s", name, p.cmd.Process.Pid, p.stderr.String())
		}
	})
	return p
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// awaitStdout waits for a line of stdout matching re and returns its first
// group.
func (p *process) awaitStdout(ctx context.Context, re *regexp.Regexp) (string, error) {
	for {
		if m := re.FindStringSubmatch(p.stdout.String()); m != nil {
			return m[1], nil
		}
		if !p.running() {
			return "", fmt.Errorf("%s exited (%v) before printing %q; stderr:\n%s", p.name, p.waitErr, re, p.stderr.String())
		}
		if err := pause(ctx, 20*time.Millisecond); err != nil {
			return "", fmt.Errorf("%s did not print %q: %w", p.name, re, err)
		}
	}
}

// awaitHTTP waits until GET base+path answers 200.
func (p *process) awaitHTTP(ctx context.Context, path string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if !p.running() {
			return fmt.Errorf("%s exited (%v) before %s answered; stderr:\n%s", p.name, p.waitErr, path, p.stderr.String())
		}
		if err := pause(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("%s%s never answered 200 (last: %s): %w", p.name, path, last, err)
		}
	}
}

// signal sends sig and returns when it was sent.
func (p *process) signal(t *testing.T, sig syscall.Signal) time.Time {
	t.Helper()
	at := time.Now()
	require.NoError(t, p.cmd.Process.Signal(sig), "signal %s to %s", sig, p.name)
	return at
}

// awaitExit waits for the process to end, up to grace.
func (p *process) awaitExit(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("%s still running %s after the signal", p.name, grace)
	}
}

// exitCode is the process's exit code, or -1 (with the signal) when a
// signal ended it.
func (p *process) exitCode() (int, string) {
	var ee *exec.ExitError
	if p.waitErr == nil {
		return 0, ""
	}
	if errors.As(p.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, ws.Signal().String()
		}
		return ee.ExitCode(), ""
	}
	return -1, p.waitErr.Error()
}

// pause waits d or until ctx ends: the poll interval of every wait here.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// eventually polls cond until it returns true, failing the test when ctx
// ends first. cond may return an error message describing the last state.
func eventually(t *testing.T, ctx context.Context, what string, every time.Duration, cond func() (bool, string)) {
	t.Helper()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if err := pause(ctx, every); err != nil {
			t.Fatalf("timed out waiting for %s (last seen: %s)", what, state)
		}
	}
}

// ownerName is how certs names a process in leases (hostname:pid).
func ownerName(pid int) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, pid)
}
