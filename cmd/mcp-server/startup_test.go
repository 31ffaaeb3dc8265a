package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/sandbox"
)

func TestStartUpReportsEveryProblemAtOnce(t *testing.T) {
	testEnv(t)
	t.Setenv("CERTOPS_LOG_LEVEL", "loud")
	t.Setenv("CERTOPS_MCP_ROLE", "root")
	t.Setenv("CERTOPS_MCP_TOOLS", "list_certs")
	t.Setenv("CERTOPS_MCP_IDENTITY_ID", "Ada Lovelace")
	t.Setenv("CERTOPS_MCP_MAX_BODY_BYTES", "1MB")
	t.Setenv("CERTOPS_REQUEST_TTL", "-1h")
	err := run(context.Background(), []string{"mcp-server"}, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "configuration: 9 settings to fix:\n"), msg)
	for _, line := range []string{
		`CERTOPS_MCP_MAX_BODY_BYTES must be a whole number`,
		`CERTOPS_LOG_LEVEL must be debug, info, warn or error, got "loud"`,
		`CERTOPS_MCP_ROLE must be admin or reviewer, got "root"`,
		`CERTOPS_MCP_IDENTITY_ID "Ada Lovelace" contains ' '`,
		`CERTOPS_MCP_TOOLS names unknown tool(s) list_certs; known tools: `,
		`CERTOPS_REQUEST_TTL must be positive, got -1h0m0s`,
		`SAIL_BASE_URL is required`,
		`SAIL_CLIENT_ID is required`,
		`SAIL_CLIENT_SECRET is required`,
	} {
		assert.Contains(t, msg, "\n  - "+line, "one line per problem")
	}
	assert.True(t, strings.HasSuffix(msg, "\n"+app.SandboxHint), msg)
}

func TestSandboxTokenSettings(t *testing.T) {
	testEnv(t)
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("short\n"), 0o600))
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"without --http": {map[string]string{"CERTOPS_MCP_SANDBOX_TOKEN": strings.Repeat("x", 32)}, []string{"--sandbox"}, "CERTOPS_MCP_SANDBOX_TOKEN is only for --sandbox --http"},
		"too short":      {map[string]string{"CERTOPS_MCP_SANDBOX_TOKEN_FILE": file}, []string{"--sandbox", "--http", "127.0.0.1:0"}, "CERTOPS_MCP_SANDBOX_TOKEN_FILE must hold at least 20 characters"},
		"both set":       {map[string]string{"CERTOPS_MCP_SANDBOX_TOKEN": "x", "CERTOPS_MCP_SANDBOX_TOKEN_FILE": file}, []string{"--sandbox", "--http", "127.0.0.1:0"}, "CERTOPS_MCP_SANDBOX_TOKEN and CERTOPS_MCP_SANDBOX_TOKEN_FILE are both set"},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), append([]string{"mcp-server"}, c.args...), strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "xxxxxxxx", "the token is not echoed")
		})
	}
}

// A fixed sandbox token survives restarts, so an assistant configured with
// it needs no change.
func TestSandboxTokenFromAFileSurvivesRestarts(t *testing.T) {
	testEnv(t)
	const token = "a-dev-token-kept-in-a-file-0123456789"
	file := filepath.Join(t.TempDir(), "sandbox-token")
	require.NoError(t, os.WriteFile(file, []byte(token+"\n"), 0o600))
	t.Setenv("CERTOPS_MCP_SANDBOX_TOKEN_FILE", file)
	for range 2 {
		s := startHTTPWithToken(t, token)
		cs := connectHTTP(t, s.httpServer, clientOptions{})
		ok(t, call(t, cs, "list_certifications", map[string]any{}))
		require.NoError(t, cs.Close())
		s.stop(t)
		assert.Contains(t, s.banner, "sandbox token: the one in CERTOPS_MCP_SANDBOX_TOKEN_FILE ("+file+"), the same at every start")
		assert.NotContains(t, s.banner+s.Logs.String(), token, "a token from a file is not printed")
	}
}

// startHTTPWithToken is startHTTP for a server whose sandbox token is
// fixed: it prints none.
func startHTTPWithToken(t *testing.T, token string) *fixedTokenServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"mcp-server", "--sandbox", "--http", "127.0.0.1:0"}, strings.NewReader(""), out, logs)
	}()
	s := &fixedTokenServer{httpServer: &httpServer{Token: token, Logs: logs}, cancel: cancel, done: done}
	require.Eventually(t, func() bool {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if u, found := strings.CutPrefix(sc.Text(), "certops MCP server listening on "); found {
				s.URL = u
			}
		}
		return s.URL != "" && strings.Contains(out.String(), "sandbox token:")
	}, 60*time.Second, 10*time.Millisecond, "no URL printed; logs:\n%s", logs.String())
	s.banner = out.String()
	return s
}

type fixedTokenServer struct {
	*httpServer
	banner string
	cancel context.CancelFunc
	done   chan error
}

func (s *fixedTokenServer) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	require.NoError(t, <-s.done)
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"whoami", "--help"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		require.NoError(t, err, "%v exits 0:\n%s", args, out)
		assert.Contains(t, string(out), "Usage", "%v", args)
		assert.NotContains(t, string(out), "flag: help requested")
	}
}

func TestWhoami(t *testing.T) {
	testEnv(t)
	sb := sandbox.New(sandbox.Config{})
	tenant := httptest.NewServer(sb)
	t.Cleanup(tenant.Close)
	person := sb.Clients()[1] // a reviewer
	whoami := func(t *testing.T, env []string, args ...string) (string, error) {
		cmd := exec.Command(binary, append([]string{"whoami"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	tenantEnv := []string{"SAIL_BASE_URL=" + tenant.URL, "SAIL_CLIENT_ID=" + sandbox.AdminClientID, "SAIL_CLIENT_SECRET=" + sandbox.AdminClientSecret}

	t.Run("by email, against a tenant", func(t *testing.T) {
		out, err := whoami(t, tenantEnv, "--email", strings.ToUpper(person.Email))
		require.NoError(t, err, out)
		assert.Contains(t, out, person.Name+" <"+person.Email+">")
		assert.Contains(t, out, "ISC identity id: "+person.IdentityID)
		assert.Contains(t, out, "CERTOPS_MCP_IDENTITY_ID="+person.IdentityID)
		assert.Contains(t, out, "identityId: "+person.IdentityID)
	})
	t.Run("the email as the argument", func(t *testing.T) {
		out, err := whoami(t, tenantEnv, person.Email)
		require.NoError(t, err, out)
		assert.Contains(t, out, "ISC identity id: "+person.IdentityID)
	})
	t.Run("no such email", func(t *testing.T) {
		out, err := whoami(t, tenantEnv, "--email", "nobody@nowhere.example")
		require.Error(t, err)
		assert.Contains(t, out, `mcp-server: whoami: no identity has the email "nobody@nowhere.example" (ISC compares the whole address`)
	})
	t.Run("no tenant configured", func(t *testing.T) {
		out, err := whoami(t, nil, "--email", person.Email)
		require.Error(t, err)
		assert.Contains(t, out, "configuration: 3 settings to fix:")
		assert.Contains(t, out, app.SandboxHint)
	})
	t.Run("no email", func(t *testing.T) {
		out, err := whoami(t, tenantEnv)
		require.Error(t, err)
		assert.Contains(t, out, "give your email address: mcp-server whoami --email you@corp.com")
	})
	t.Run("whom --sandbox acts as", func(t *testing.T) {
		out, err := whoami(t, nil, "--sandbox")
		require.NoError(t, err, out)
		assert.Regexp(t, `ISC identity id: [0-9a-f]{32}\n`, out)
	})
}

// First contact with a tenant, without CERTOPS_MCP_IDENTITY_ID: "my
// certifications" says which setting is missing and how to find its value.
func TestStdioCallerWithoutIdentityIsToldHowToLink(t *testing.T) {
	testEnv(t)
	gatedTenant(t)
	t.Setenv("CERTOPS_MCP_IDENTITY_ID", "")
	p := startPiped(t)
	p.send(t, initialize)
	p.answer(t, 1)
	p.send(t, initialized)
	p.send(t, listMine)
	res := p.answer(t, 2)
	var out struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	require.NoError(t, json.Unmarshal(res["result"], &out))
	require.True(t, out.IsError)
	assert.Contains(t, out.Content[0].Text, "not linked to an ISC identity")
	assert.Contains(t, out.Content[0].Text, "set CERTOPS_MCP_IDENTITY_ID to your ISC identity id")
	assert.Contains(t, out.Content[0].Text, "mcp-server whoami --email")
	require.NoError(t, p.stdin.Close())
	assert.Equal(t, 0, p.exit(t))
}
