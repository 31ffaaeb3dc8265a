package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Slack that accepts a call and never answers must not hold the caller
// for ever: the client gives up with a timeout, which the notifier retries.
func TestSlackClientGivesUpOnAHungCall(t *testing.T) {
	t.Parallel()
	called := make(chan string, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called <- r.URL.Path
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the client hung up
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first

	api := slack.New("xoxb-test", slackAPIOptions(srv.URL+"/", 50*time.Millisecond)...)
	// The test's deadline only keeps a regression from hanging the run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err := api.PostMessageContext(ctx, "C0APPROVALS", slack.MsgOptionText("hello", false))
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "the call ended only because the test's context did")
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "a timeout, which the notifier treats as transient: %v", err)
	assert.Equal(t, "/chat.postMessage", <-called, "the call went to SLACK_API_URL")
}
