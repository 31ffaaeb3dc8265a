package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrackerSettings(t *testing.T) {
	t.Setenv("CERTOPS_TRACKER", " camp-1 = CTRACK ; camp-2=G0PRIVATE;")
	t.Setenv("CERTOPS_TRACKER_MIN_INTERVAL", "")
	s, err := loadTracker()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"camp-1": "CTRACK", "camp-2": "G0PRIVATE"}, s.Campaigns)
	assert.Equal(t, 30*time.Second, s.MinInterval)

	t.Setenv("CERTOPS_TRACKER", "")
	s, err = loadTracker()
	require.NoError(t, err)
	assert.Empty(t, s.Campaigns, "no tracker unless asked for")
}

// Bad tracker settings are reported by name (one problem a variable).
func TestTrackerSettingsRefused(t *testing.T) {
	t.Setenv("CERTOPS_TRACKER", "camp-1;camp-2=#reviews")
	t.Setenv("CERTOPS_TRACKER_MIN_INTERVAL", "0s")
	_, err := loadTracker()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `CERTOPS_TRACKER "camp-1" is not <ISC campaign id>=<channel id>`)
	assert.Contains(t, msg, "CERTOPS_TRACKER_MIN_INTERVAL must be positive")

	t.Setenv("CERTOPS_TRACKER", "camp-2=#reviews")
	_, err = loadTracker()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `CERTOPS_TRACKER "camp-2=#reviews": the channel is a channel id (C…), not "#reviews"`)
}
