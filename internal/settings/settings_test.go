package settings

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type spec struct {
	URL      string        `envconfig:"T_URL" required:"true"`
	ID       string        `envconfig:"T_ID" required:"true"`
	Timeout  time.Duration `envconfig:"T_TIMEOUT" default:"30s"`
	Retries  int           `envconfig:"T_RETRIES" default:"5"`
	Rate     float64       `envconfig:"T_RATE"`
	On       bool          `envconfig:"T_ON"`
	List     []string      `envconfig:"T_LIST"`
	Addr     netip.Addr    `envconfig:"T_ADDR"`
	Skipped  string        `ignored:"true"`
	internal string
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestProcess(t *testing.T) {
	t.Run("every problem at once, values not echoed", func(t *testing.T) {
		var s spec
		err := process("", &s, env(map[string]string{"T_ID": "  ", "T_TIMEOUT": "hunter2", "T_RETRIES": "many", "T_ON": "yes please", "T_ADDR": "nope"}))
		require.Error(t, err)
		var names []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var p *Problem
			require.True(t, errors.As(e, &p))
			names = append(names, p.Name)
		}
		assert.Equal(t, []string{"T_URL", "T_ID", "T_TIMEOUT", "T_RETRIES", "T_ON", "T_ADDR"}, names)
		assert.Contains(t, err.Error(), "T_URL is required")
		assert.Contains(t, err.Error(), "T_ID is required", "blanks are unset")
		assert.Contains(t, err.Error(), "T_TIMEOUT must be a duration such as 30s or 1m")
		assert.Contains(t, err.Error(), "T_RETRIES must be a whole number")
		assert.Contains(t, err.Error(), "T_ON must be true or false")
		assert.NotContains(t, err.Error(), "hunter2")
		assert.Equal(t, 30*time.Second, s.Timeout, "a value that does not parse keeps the default")
		assert.Equal(t, 5, s.Retries)
	})
	t.Run("values, defaults and blanks", func(t *testing.T) {
		s := spec{Skipped: "kept", internal: "kept"}
		err := process("", &s, env(map[string]string{
			"T_URL": "https://x", "T_ID": "id", "T_TIMEOUT": " ", "T_RATE": "0.5", "T_ON": "true",
			"T_LIST": " a, b,,c ", "T_ADDR": "127.0.0.1", "SKIPPED": "no",
		}))
		require.NoError(t, err)
		assert.Equal(t, spec{URL: "https://x", ID: "id", Timeout: 30 * time.Second, Retries: 5, Rate: 0.5, On: true,
			List: []string{"a", "b", "c"}, Addr: netip.MustParseAddr("127.0.0.1"), Skipped: "kept", internal: "kept"}, s)
	})
	t.Run("prefix", func(t *testing.T) {
		var s struct {
			Addr string `envconfig:"ADDR" default:"127.0.0.1:7100"`
			Seed int64  `envconfig:"SEED"`
		}
		err := process("sandbox", &s, env(map[string]string{"SANDBOX_SEED": "x", "ADDR": "not mine"}))
		require.EqualError(t, err, "SANDBOX_SEED must be a whole number")
		assert.Equal(t, "127.0.0.1:7100", s.Addr, "only the prefixed variable is read")
	})
}

func TestErrorsWording(t *testing.T) {
	t.Run("one problem", func(t *testing.T) {
		err := Report(nil, Missingf("SLACK_APPROVALS_CHANNEL", ""))
		require.EqualError(t, err, "configuration: SLACK_APPROVALS_CHANNEL is required")
	})
	t.Run("several, from several sources, each setting once", func(t *testing.T) {
		var e Errors
		e.Add(errors.Join(Missingf("SAIL_BASE_URL", ""), Missingf("SAIL_CLIENT_SECRET", "(or SAIL_CLIENT_SECRET_FILE)")))
		e.Add(Invalidf("SAIL_BASE_URL", "must be an absolute https URL"))
		e.Add(Report(Invalidf("CERTOPS_REQUEST_TTL", "must be positive, got %s", time.Duration(0))), fmt.Errorf("tokens file: %w", errors.New("line 3: bad")))
		e.Hint("Run with --sandbox.")
		e.Hint("Run with --sandbox.")
		assert.True(t, e.Has("SAIL_BASE_URL"))
		assert.True(t, e.Missing("SAIL_"))
		assert.False(t, e.Missing("CERTOPS_"))
		assert.Equal(t, "configuration: 4 settings to fix:\n"+
			"  - SAIL_BASE_URL is required\n"+
			"  - SAIL_CLIENT_SECRET is required (or SAIL_CLIENT_SECRET_FILE)\n"+
			"  - CERTOPS_REQUEST_TTL must be positive, got 0s\n"+
			"  - tokens file: line 3: bad\n"+
			"Run with --sandbox.", e.Err().Error())
		var p *Problem
		require.ErrorAs(t, e.Err(), &p)
		assert.Equal(t, "SAIL_BASE_URL", p.Name)
	})
	t.Run("hints survive nesting", func(t *testing.T) {
		inner := &Errors{}
		inner.Add(Missingf("SAIL_CLIENT_ID", ""))
		inner.Hint("hint")
		err := Report(inner.Err(), Missingf("SLACK_BOT_TOKEN", "(or SLACK_BOT_TOKEN_FILE)"))
		assert.Equal(t, "configuration: 2 settings to fix:\n  - SAIL_CLIENT_ID is required\n  - SLACK_BOT_TOKEN is required (or SLACK_BOT_TOKEN_FILE)\nhint", err.Error())
	})
	t.Run("none", func(t *testing.T) {
		var e Errors
		e.Add(nil, errors.Join())
		assert.NoError(t, e.Err())
		assert.NoError(t, Report())
	})
}

func TestNamed(t *testing.T) {
	for msg, want := range map[string]string{
		"SLACK_BOT_TOKEN_FILE: secret file /x is empty":                 "SLACK_BOT_TOKEN_FILE",
		"DATABASE_URL and DATABASE_URL_FILE are both set: set only one": "DATABASE_URL",
		"listen on :80: permission denied":                              "",
		"CERTOPS_MCP_TOKENS_FILE: tokens file /t.yaml: no such file":    "CERTOPS_MCP_TOKENS_FILE",
		"X":             "",
		"x LOWER first": "",
	} {
		err := Named(errors.New(msg))
		var p *Problem
		if want == "" {
			assert.False(t, errors.As(err, &p), msg)
			continue
		}
		require.ErrorAs(t, err, &p, msg)
		assert.Equal(t, want, p.Name)
		assert.Equal(t, msg, p.Error(), "the text is unchanged")
	}
	assert.NoError(t, Named(nil))
}
