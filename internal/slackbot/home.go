package slackbot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// The App Home: the bot's Home tab shows a person their open
// certifications (due soonest first, progress, overdue flagged) with the
// reminders' buttons (Review, Reassign…: reminder_actions.go), the
// reassignment requests they filed that wait for an approver, and, for
// approvers, the requests that wait for their decision. It is published
// (views.publish) when the person opens the tab (app_home_opened: events.go)
// and, throttled, when one of their requests changes (the notifier).

// HomeService is what the Home tab needs of certs.Service beside Service;
// *certs.Service satisfies it. A Service without it shows no requests.
type HomeService interface {
	MyPendingRequests(ctx context.Context, a certs.Actor) (certs.MyRequests, error)
}

var _ HomeService = (*certs.Service)(nil)

// HomeAPI is the Slack call that publishes a Home tab; *slack.Client and
// *RotatingAPI satisfy it. A SlackAPI without it publishes no Home tab.
type HomeAPI interface {
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
}

var _ HomeAPI = (*slack.Client)(nil)

// homeRefreshEvery is the least time between two refreshes of one
// person's Home tab for changes (several events in a row publish once).
const homeRefreshEvery = 5 * time.Second

// homeCertsShown bounds the certifications the tab lists (2 blocks each,
// inside a view's 100 blocks).
const homeCertsShown = 20

// homeState throttles the refreshes of Home tabs for changes.
type homeState struct {
	mu      sync.Mutex
	last    map[string]time.Time // last publish per user
	pending map[string]bool      // a refresh is scheduled
	every   time.Duration
	after   func(d time.Duration, f func()) // time.AfterFunc; tests run it at once
}

func newHomeState() *homeState {
	return &homeState{last: map[string]time.Time{}, pending: map[string]bool{}, every: homeRefreshEvery,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// homeData is what one person's Home tab shows.
type homeData struct {
	User     string
	Certs    certs.Page[certs.Certification]
	Requests certs.MyRequests
	// Approvals is the approvals channel, where requests are decided.
	Approvals string
}

// publishHome reads what the person's Home tab shows and publishes it.
func (b *Bot) publishHome(ctx context.Context, user, name string) error {
	api, ok := b.api.(HomeAPI)
	if !ok {
		return nil
	}
	a, err := b.identities.actor(ctx, user, name)
	if err != nil {
		if certs.ErrorCode(err) == certs.EFORBIDDEN || certs.ErrorCode(err) == certs.ENOTFOUND {
			// Not in ISC: the tab says so rather than staying blank.
			_, perr := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: b.render.homeNobody(err)})
			return perr
		}
		return err
	}
	open := false
	page, err := b.svc.ListCertifications(ctx, a, certs.CertificationQuery{Reviewer: "me", Completed: &open, Page: certs.PageOptions{Limit: homeCertsShown, Count: true}})
	if err != nil {
		return err
	}
	certs.SortByDue(page.Items)
	d := homeData{User: user, Certs: page, Approvals: b.cfg.ApprovalsChannel}
	if hs, ok := b.svc.(HomeService); ok {
		if d.Requests, err = hs.MyPendingRequests(ctx, a); err != nil {
			return err
		}
	}
	b.home.mu.Lock()
	b.home.last[user] = time.Now()
	b.home.mu.Unlock()
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: b.render.home(d)}); err != nil {
		return slackFailed("publish your Home tab", err)
	}
	return nil
}

// homeOpened publishes the Home tab of a person who opened it, on the pool.
func (b *Bot) homeOpened(user string) {
	if err := b.pool.submit("home", func(ctx context.Context) {
		if err := b.publishHome(ctx, user, ""); err != nil {
			b.log.Warn("slackbot: could not publish the Home tab", "slack_user", user, "err", err)
		}
	}); err != nil {
		b.log.Warn("slackbot: dropped a Home tab", "slack_user", user, "err", err)
	}
}

// refreshHome publishes user's Home tab again, at most once per
// homeRefreshEvery: a refresh asked for sooner waits until then, and
// several asked for meanwhile are one.
func (b *Bot) refreshHome(user string) {
	h := b.home
	h.mu.Lock()
	if h.pending[user] {
		h.mu.Unlock()
		return
	}
	h.pending[user] = true
	wait := time.Until(h.last[user].Add(h.every))
	if len(h.last) > 50000 {
		h.last = map[string]time.Time{}
	}
	h.mu.Unlock()
	h.after(max(wait, 0), func() {
		h.mu.Lock()
		delete(h.pending, user)
		h.mu.Unlock()
		b.homeOpened(user)
	})
}

// refreshHomes refreshes the Home tabs of the Slack users a batch of the
// outbox's events concerns: each request's requester and approvers.
func (b *Bot) refreshHomes(events []certs.Notification, current map[string]*certs.Request) {
	if _, ok := b.api.(HomeAPI); !ok {
		return
	}
	seen := map[string]bool{}
	for _, e := range events {
		r := current[e.RequestID]
		if r == nil {
			r = e.Request
		}
		if r == nil {
			continue
		}
		users := []string{}
		if r.Requester.Frontend == certs.FrontendSlack {
			users = append(users, r.Requester.ID)
		}
		for _, k := range r.Approvers {
			if id, ok := strings.CutPrefix(k, string(certs.FrontendSlack)+":"); ok {
				users = append(users, id)
			}
		}
		for _, u := range users {
			if u != "" && !seen[u] {
				seen[u] = true
				b.refreshHome(u)
			}
		}
	}
}

// ---- rendering

// actionHomeRefresh redraws the Home tab.
const actionHomeRefresh = "certops.home.refresh"

// home is a person's Home tab.
func (r *renderer) home(d homeData) slack.HomeTabViewRequest {
	now := r.now()
	cfg := RemindersConfig{CertificationURL: r.certURL, Command: r.command}
	overdue := 0
	for _, c := range d.Certs.Items {
		if c.Due != nil && now.After(*c.Due) {
			overdue++
		}
	}
	blocks := []slack.Block{header("Your certifications")}
	switch {
	case len(d.Certs.Items) == 0:
		blocks = append(blocks, section(":tada: Nothing to review: no open certification is yours."))
	case overdue > 0:
		blocks = append(blocks, section(fmt.Sprintf("%s to review, :red_circle: *%d overdue*. Due soonest first:", pluralize(max(d.Certs.Total, len(d.Certs.Items)), "open certification", "open certifications"), overdue)))
	default:
		blocks = append(blocks, section(pluralize(max(d.Certs.Total, len(d.Certs.Items)), "open certification", "open certifications")+" to review, due soonest first:"))
	}
	for _, c := range d.Certs.Items {
		blocks = append(blocks, section(certLine(cfg, c, now, "")), reviewButtons(cfg, c.ID))
	}
	if n := d.Certs.Total; n > len(d.Certs.Items) {
		blocks = append(blocks, contextLine(fmt.Sprintf("…and %d more: `%s list`", n-len(d.Certs.Items), r.command)))
	}
	if len(d.Requests.Filed) > 0 {
		blocks = append(blocks, slack.NewDividerBlock(), header("Your reassignment requests"))
		for _, q := range d.Requests.Filed {
			blocks = append(blocks, section(r.homeRequest(q, "waiting for an approver")))
		}
	}
	if len(d.Requests.ToDecide) > 0 {
		blocks = append(blocks, slack.NewDividerBlock(), header("Waiting for your decision"))
		for _, q := range d.Requests.ToDecide {
			blocks = append(blocks, section(r.homeRequest(q, "filed by "+who(q.Requester))))
		}
		where := "the approvals channel"
		if d.Approvals != "" {
			where = "<#" + d.Approvals + ">"
		}
		blocks = append(blocks, contextLine("Approve or deny them in "+where+"."))
	}
	blocks = append(blocks, slack.NewDividerBlock(),
		contextLine(fmt.Sprintf("Updated %s. `%s remind off|weekly|default` sets how often certops reminds you; `%s help` lists everything else.", slackDate(now), r.command, r.command)),
		slack.NewActionBlock("certops.home", slack.NewButtonBlockElement(actionHomeRefresh, "refresh", plain("Refresh"))),
	)
	if len(blocks) > 100 {
		blocks = blocks[:100]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "certops.home", Blocks: slack.Blocks{BlockSet: blocks}}
}

// homeRequest is one request's line on the Home tab.
func (r *renderer) homeRequest(q *certs.Request, state string) string {
	line := fmt.Sprintf("`%s` — %s of %s to %s, %s", q.ID, count(q.Plan.ItemCount, "review item"), esc(q.Plan.CertificationName), identityName(q.Plan.To), state)
	if !q.ExpiresAt.IsZero() {
		line += "; expires " + slackDate(q.ExpiresAt)
	}
	return line
}

// homeNobody is the Home tab of someone certops cannot act for.
func (r *renderer) homeNobody(err error) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "certops.home", Blocks: slack.Blocks{BlockSet: []slack.Block{
		header("certops"),
		section(":information_source: " + esc(capitalize(certs.ErrorMessage(err)))),
	}}}
}
