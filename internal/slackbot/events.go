package slackbot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/slack-go/slack/slackevents"
)

// Events API: the bot subscribes to app_home_opened (manifests/slack-app.yaml)
// to publish a person's Home tab (home.go) when they open it. Over HTTP
// Slack posts events to /slack/events, signed like the other requests; it
// first checks the URL with a url_verification request, answered with its
// challenge. In Socket Mode events arrive over the socket (socketmode.go).
// Either way the event is acknowledged at once and the work queued.

// serveEvent handles a verified POST to /slack/events.
func (b *Bot) serveEvent(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	// The request is verified by its signature; the deprecated
	// verification token is not checked.
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, v.Challenge)
		return
	}
	b.Event(r.Context(), ev)
	w.WriteHeader(http.StatusOK)
}

// Event handles an Events API event (from HTTP or Socket Mode). It never
// waits on SailPoint: the work is queued.
func (b *Bot) Event(_ context.Context, ev slackevents.EventsAPIEvent) {
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && !b.firstDelivery("event", cb.EventID) {
		return // a retry of an event already handled
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab == "home" && e.User != "" {
			b.homeOpened(e.User)
		}
	}
}
