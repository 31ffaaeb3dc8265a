package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestRenderHomeGolden(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := &renderer{now: func() time.Time { return now }, command: "/certs", certURL: "https://acme.identitynow.example/ui/certifications/{id}"}
	due, overdue := now.Add(3*24*time.Hour), now.Add(-2*24*time.Hour)
	late := certs.Certification{ID: "0a1b2c3d", Name: "Manager review: Bob", Phase: certs.PhaseActive, Due: &overdue, DecisionsTotal: 8}
	soon := certs.Certification{ID: "ef38f943", Name: "Manager review: Alice <Q4>", Phase: certs.PhaseActive, Due: &due, DecisionsMade: 12, DecisionsTotal: 40}
	plan := certs.Plan{CertificationName: "Manager review: Alice <Q4>", ItemCount: 3, To: certs.Identity{ID: "id-carol", Name: "Carol Owner"}}
	alice := certs.Actor{ID: "UALICE001", Name: "Alice", Frontend: certs.FrontendSlack}
	erin := certs.Actor{ID: "UERIN0005", Name: "Erin", Frontend: certs.FrontendSlack}
	filed := &certs.Request{ID: "req-42", Plan: plan, Requester: alice, State: certs.StatePending, ExpiresAt: now.Add(72 * time.Hour)}
	toDecide := &certs.Request{ID: "req-43", Plan: plan, Requester: erin, State: certs.StatePending, ExpiresAt: now.Add(48 * time.Hour)}
	for name, d := range map[string]homeData{
		"home": {User: "UALICE001", Approvals: "CAPPROVALS", Certs: certs.Page[certs.Certification]{Items: []certs.Certification{late, soon}, Total: 2},
			Requests: certs.MyRequests{Filed: []*certs.Request{filed}, ToDecide: []*certs.Request{toDecide}}},
		"home-empty": {User: "UALICE001"},
	} {
		got, err := json.MarshalIndent(r.home(d), "", "  ")
		require.NoError(t, err)
		checkGolden(t, name, got)
	}
}

// homeOpened posts the app_home_opened event Slack sends when user opens
// the Home tab (Events API, signed).
func (b *bundle) homeOpened(t *testing.T, user, eventID string) int {
	t.Helper()
	body := fmt.Sprintf(`{"token":"XXYYZZ","team_id":"T0001","api_app_id":"A0001","type":"event_callback","event_id":%q,"event_time":1795000000,`+
		`"event":{"type":"app_home_opened","user":%q,"channel":"D0HOME","tab":"home","event_ts":"1795000000.000100"}}`, eventID, user)
	code, _ := b.post(t, "/slack/events", body)
	return code
}

// homeText is the text of every block of user's last published Home tab.
func (b *bundle) homeText(t *testing.T, user string) string {
	t.Helper()
	views := b.slack.PublishedViews(user)
	require.NotEmpty(t, views, "no Home tab published for %s", user)
	return unescapedJSON(views[0])
}

func TestHomeTabIsPublishedWhenOpened(t *testing.T) {
	b := setup(t)
	require.Equal(t, http.StatusOK, b.homeOpened(t, alice, "Ev001"))
	waitFor(t, "Alice's Home tab", func() bool { return len(b.slack.PublishedViews(alice)) == 1 })
	home := b.homeText(t, alice)
	assert.Contains(t, home, `"type":"home"`)
	assert.Contains(t, home, "2 open certifications to review, due soonest first:")
	assert.Contains(t, home, "*Alice's payroll review* — due <!date^")
	assert.Contains(t, home, "0 of 60 decisions made")
	assert.Contains(t, home, `"action_id":"certops.reminder.review","style":"primary","text":{"emoji":true,"text":"Review","type":"plain_text"},"type":"button","value":"cert-1"`)
	assert.NotContains(t, home, "Alice's Q3 review", "completed certifications are not shown")
	assert.NotContains(t, home, "Bob's Q4 review", "nor others'")

	// Slack retries an event it thinks failed: published once.
	require.Equal(t, http.StatusOK, b.homeOpened(t, alice, "Ev001"))
	// Days later the certifications are overdue.
	b.clock.Advance(5 * 24 * time.Hour)
	require.Equal(t, http.StatusOK, b.homeOpened(t, alice, "Ev002"))
	waitFor(t, "Alice's Home tab again", func() bool { return len(b.slack.PublishedViews(alice)) == 2 })
	assert.Contains(t, b.homeText(t, alice), ":red_circle: *2 overdue*")
	assert.Contains(t, b.homeText(t, alice), ":red_circle: *overdue* since <!date^")

	// A Review button on the tab opens the review in the DM.
	before := len(messagesIn(b.slack, alice))
	b.pressValue(t, alice, slackMsg{}, actionReminderReview, "cert-1")
	waitFor(t, "the review and its note in the DM", func() bool { return len(messagesIn(b.slack, alice)) > before+2 })
	assert.Contains(t, strings.Join(b.dms(alice), "\n"), "Alice's Q4 review")
}

func TestHomeTabOfSomeoneNotInSailPoint(t *testing.T) {
	b := setup(t)
	require.Equal(t, http.StatusOK, b.homeOpened(t, nobody, "Ev003"))
	waitFor(t, "nobody's Home tab", func() bool { return len(b.slack.PublishedViews(nobody)) == 1 })
	assert.Contains(t, b.homeText(t, nobody), ":information_source: ")
}

func TestEventsURLIsVerifiedWithItsChallenge(t *testing.T) {
	b := setup(t)
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	resp, err := http.DefaultClient.Do(signedRequest(t, b.server.URL+"/slack/events", body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", string(raw))

	// Unsigned, nothing.
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/slack/events", strings.NewReader(body))
	require.NoError(t, err)
	resp2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
}

func TestHomeTabsRefreshWhenARequestChanges(t *testing.T) {
	b := setup(t)
	ran := make(chan func(), 16)
	b.bot.home.after = func(_ time.Duration, f func()) { ran <- f } // the throttle's timer, run by the test
	r := b.fileDirect(t)
	b.tell(t, b.notifier())
	// The requester and both approvers, once each.
	for range 3 {
		(<-ran)()
	}
	waitFor(t, "three Home tabs", func() bool {
		return len(b.slack.PublishedViews(alice)) == 1 && len(b.slack.PublishedViews(dave)) == 1 && len(b.slack.PublishedViews(erin)) == 1
	})
	assert.Contains(t, b.homeText(t, alice), "Your reassignment requests")
	assert.Contains(t, b.homeText(t, alice), "`"+r.ID+"` — 2 review items of Alice's Q4 review to Carol Owner (carol@example.com), waiting for an approver")
	assert.Contains(t, b.homeText(t, dave), "Waiting for your decision")
	assert.Contains(t, b.homeText(t, dave), "`"+r.ID+"` — 2 review items of Alice's Q4 review to Carol Owner (carol@example.com), filed by <@"+alice+">")
	assert.Contains(t, b.homeText(t, dave), "Approve or deny them in <#"+approvals+">.")
	assert.NotContains(t, b.homeText(t, erin), "Your reassignment requests")

	// Dave denies it: the tabs drop it. A refresh asked for while one is
	// waiting is the same refresh.
	_, err := b.svc.Deny(t.Context(), b.actor(dave), r.ID, "not now")
	require.NoError(t, err)
	b.tell(t, b.notifier())
	b.bot.refreshHome(alice)
	for range 3 {
		(<-ran)()
	}
	assert.Empty(t, ran, "one refresh per person")
	waitFor(t, "the tabs again", func() bool { return len(b.slack.PublishedViews(alice)) == 2 && len(b.slack.PublishedViews(dave)) == 2 })
	assert.NotContains(t, b.homeText(t, alice), r.ID)
	assert.NotContains(t, b.homeText(t, dave), r.ID)
}

// In Socket Mode app_home_opened arrives as an events_api envelope: acked
// bare, and the Home tab published.
func TestHomeTabOverSocketMode(t *testing.T) {
	b := setup(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(b.slack.GetAPIURL()), slack.OptionAppLevelToken("xapp-1-test"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.bot.RunSocketMode(ctx, socketmode.New(api), nil) }()

	env := fmt.Sprintf(`{"envelope_id":"env-home","type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":"",`+
		`"payload":{"token":"XXYYZZ","team_id":"T0001","api_app_id":"A0001","type":"event_callback","event_id":"Ev0SOCKET","event_time":1795000000,`+
		`"event":{"type":"app_home_opened","user":%q,"channel":"D0HOME","tab":"home","event_ts":"1795000000.000100"}}}`, alice)
	b.slack.SendToWebsocket(env)
	waitFor(t, "the envelope acked", func() bool {
		for _, m := range b.slack.GetSeenInboundMessages() {
			if strings.Contains(m, `"envelope_id":"env-home"`) {
				return true
			}
		}
		return false
	})
	waitFor(t, "Alice's Home tab", func() bool { return len(b.slack.PublishedViews(alice)) == 1 })
	assert.Contains(t, b.homeText(t, alice), "2 open certifications to review")
	cancel()
	<-done
}
