package slackbot

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/metrics/metricstest"
)

func TestMetrics_countSlashCommandsBySubcommandAndOutcome(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	b := setupWith(t, func(c *Config) { c.Metrics = metrics.New(reg) })

	for _, text := range []string{"help", "frobnicate", "show", "show cert-1", "show cert-9", "list"} {
		code, _ := b.command(t, alice, text)
		require.Equal(t, http.StatusOK, code)
	}
	// Three commands went to the pool; their outcomes are known once they
	// have answered.
	b.reply(t, 3)
	f := metricstest.ScrapeHandler(t, metrics.Handler(reg))
	name := "certops_slash_commands_total"
	waitFor(t, "every command counted", func() bool {
		f = metricstest.ScrapeHandler(t, metrics.Handler(reg))
		return f.Value(name, nil) == 6
	})
	for _, c := range []struct {
		subcommand, outcome string
	}{
		{"help", "ok"}, {"unknown", "invalid"}, {"show", "invalid"}, {"show", "ok"}, {"show", "not_found"}, {"list", "ok"},
	} {
		assert.Equal(t, 1.0, f.Value(name, map[string]string{"subcommand": c.subcommand, "outcome": c.outcome}), "%s %s: %v", c.subcommand, c.outcome, f.Series(name))
	}
	assert.NotContains(t, f.Series(name), "outcome=invalid,subcommand=frobnicate", "typed names never become labels")
}
