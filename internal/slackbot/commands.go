package slackbot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// command is one /certs subcommand. The table in commandTable is the only
// place subcommands are declared; help is generated from it.
type command struct {
	Name     string
	Usage    string // arguments, after the name
	Summary  string
	Examples []string
	// Inline commands answer in the acknowledgement itself; they must not
	// call SailPoint or Slack.
	Inline bool
	// Parse checks the arguments without calling anything (so a mistake is
	// answered at once) and returns the work to do after the ack.
	Parse func(c *command, args string) (work, error)
}

// work runs on the worker pool with the caller's resolved Actor.
type work func(ctx context.Context, in *invocation) (message, error)

// invocation is one run of a subcommand.
type invocation struct {
	bot     *Bot
	actor   certs.Actor
	channel string // where the command was typed
	user    string // Slack user id
	resp    *responder
}

// usageLine is the subcommand's usage as mrkdwn.
func (c *command) usageLine(slash string) string {
	if c.Usage == "" {
		return fmt.Sprintf("`%s %s`", slash, c.Name)
	}
	return fmt.Sprintf("`%s %s %s`", slash, c.Name, esc(c.Usage))
}

func (c *command) usage(msg string) error { return &usageError{cmd: c, msg: msg} }

// Page sizes: enough to act on, short enough to read in a Slack message.
const (
	listPageSize       = 15
	itemsPageSize      = 20
	reviewersPageSize  = 25
	permissionPageSize = 25
)

func (b *Bot) commandTable() []*command {
	return []*command{
		{
			Name: "help", Summary: "Show this help.", Inline: true,
			Parse: func(c *command, args string) (work, error) {
				return func(context.Context, *invocation) (message, error) { return b.render.help(b.commands), nil }, nil
			},
		},
		{
			Name: "list", Usage: "[mine|@user|campaign <id>] [open|done]",
			Summary:  "List certifications, due soonest first: yours (the default), a person's (admins), or a campaign's.",
			Examples: []string{"list", "list done", "list @alice", "list campaign 2c9180835d2e5168015d32f890ca1581 open"},
			Parse:    b.parseList,
		},
		{
			Name: "show", Usage: "<cert>", Summary: "Show a certification: progress, due date, pending tasks and reassignment requests.",
			Examples: []string{"show ef38f94347e94562b5bb8424a56397d8"},
			Parse: oneID("certification id", func(ctx context.Context, in *invocation, id string) (message, error) {
				d, err := in.bot.svc.GetCertification(ctx, in.actor, id)
				if err != nil {
					return message{}, err
				}
				return in.bot.render.certification(d), nil
			}),
		},
		{
			Name: "reviewers", Usage: "<cert>", Summary: "List a certification's reviewers.",
			Examples: []string{"reviewers ef38f94347e94562b5bb8424a56397d8"},
			Parse: oneID("certification id", func(ctx context.Context, in *invocation, id string) (message, error) {
				p, err := in.bot.svc.ListReviewers(ctx, in.actor, id, certs.ReviewerFilter{Page: certs.PageOptions{Limit: reviewersPageSize, Count: true}})
				if err != nil {
					return message{}, err
				}
				return in.bot.render.reviewers(id, p), nil
			}),
		},
		{
			Name: "items", Usage: "<cert> [@user|identity]", Summary: "List a certification's review items, or those about one person (a Slack user, or an identity name prefix).",
			Examples: []string{"items ef38f94347e94562b5bb8424a56397d8", "items ef38f94347e94562b5bb8424a56397d8 @bob", "items ef38f94347e94562b5bb8424a56397d8 Bob Sm"},
			Parse:    b.parseItems,
		},
		{
			Name: "permissions", Usage: "<cert> <item>", Summary: "Show what an entitlement review item grants.",
			Examples: []string{"permissions ef38f94347e94562b5bb8424a56397d8 2c91808a7190d06e01719938fcd20792"},
			Parse:    b.parsePermissions,
		},
		{
			Name: "reassign", Usage: "<cert> <item,...|identity <id>|all-of @user> to <@user|email> because <reason>",
			Summary: "Ask to hand review items to someone better placed. You see the plan and confirm it; an approver then approves or denies it in the approvals channel.",
			Examples: []string{
				"reassign ef38f94347e94562b5bb8424a56397d8 2c91808a7190d06e01719938fcd20792,2c91808a7190d06e01719938fcd20793 to @carol because Carol owns the payroll app",
				"reassign ef38f94347e94562b5bb8424a56397d8 all-of @bob to carol@example.com because Bob moved to Carol's team",
			},
			Parse: b.parseReassign,
		},
		{
			Name: "review", Usage: "<cert> [because <reason>]",
			Summary:  "Review a certification here: the evidence for each item, Approve / Revoke, then Sign off. Opens in your DM with certops. Admins deciding on the reviewer's behalf give a reason.",
			Examples: []string{"review ef38f94347e94562b5bb8424a56397d8", "review ef38f94347e94562b5bb8424a56397d8 because Alice is on leave until the campaign ends"},
			Parse:    b.parseReview,
		},
		{
			Name: "evidence", Usage: "<cert> [csv|jsonl]",
			Summary:  "Export a certification's decisions with the evidence each person was shown, for auditors: sent to you as a file in a direct message, each record chained to the one before by its hash (check it with certops-audit verify).",
			Examples: []string{"evidence ef38f94347e94562b5bb8424a56397d8", "evidence ef38f94347e94562b5bb8424a56397d8 jsonl"},
			Parse:    b.parseEvidence,
		},
		b.remindCommand(), // remind.go
		{
			Name: "status", Usage: "<request|task>", Summary: "Show where a reassignment request or a SailPoint task is.",
			Examples: []string{"status 0f6b2c7e4b3d4a53a9d1d1e3c0b6a0f1"},
			Parse:    oneID("request or task id", func(ctx context.Context, in *invocation, id string) (message, error) { return in.status(ctx, id) }),
		},
		{
			Name: "pending", Usage: "<cert>", Summary: "List a certification's queued and running SailPoint tasks.",
			Examples: []string{"pending ef38f94347e94562b5bb8424a56397d8"},
			Parse: oneID("certification id", func(ctx context.Context, in *invocation, id string) (message, error) {
				ts, err := in.bot.svc.ListPendingTasks(ctx, in.actor, id)
				if err != nil {
					return message{}, err
				}
				return in.bot.render.pendingTasks(id, ts), nil
			}),
		},
	}
}

func (b *Bot) lookupCommand(name string) *command {
	for _, c := range b.commands {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// oneID parses commands whose only argument is an id.
func oneID(what string, run func(ctx context.Context, in *invocation, id string) (message, error)) func(*command, string) (work, error) {
	return func(c *command, args string) (work, error) {
		f := strings.Fields(args)
		if len(f) != 1 {
			return nil, c.usage(fmt.Sprintf("give one %s", what))
		}
		id, err := idArg(c, what, f[0])
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, in *invocation) (message, error) { return run(ctx, in, id) }, nil
	}
}

func (b *Bot) parseList(c *command, args string) (work, error) {
	q := certs.CertificationQuery{Reviewer: "me", Page: certs.PageOptions{Limit: listPageSize, Count: true}}
	open := false
	q.Completed = &open
	var reviewer *userArg
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		tok := f[i]
		switch {
		case strings.EqualFold(tok, "mine"):
			q.Reviewer = "me"
		case strings.EqualFold(tok, "open"):
			v := false
			q.Completed = &v
		case strings.EqualFold(tok, "done"):
			v := true
			q.Completed = &v
		case strings.EqualFold(tok, "campaign"):
			if i+1 >= len(f) {
				return nil, c.usage("`campaign` needs a campaign id")
			}
			id, err := idArg(c, "campaign id", f[i+1])
			if err != nil {
				return nil, err
			}
			i++
			q.CampaignID, q.Reviewer = id, ""
		default:
			id, ok := userMention(tok)
			if !ok {
				return nil, c.usage(fmt.Sprintf("I don't understand %q", tok))
			}
			reviewer = &userArg{SlackID: id}
		}
	}
	return func(ctx context.Context, in *invocation) (message, error) {
		scope := "Your certifications"
		if q.CampaignID != "" {
			scope = "Certifications of campaign " + q.CampaignID
		}
		if reviewer != nil {
			p, err := in.bot.identities.lookup(ctx, in.actor, reviewer.SlackID, reviewer.SlackID == in.user)
			if err != nil {
				return message{}, err
			}
			q.Reviewer = p.Identity.ID
			scope = fmt.Sprintf("Certifications reviewed by %s", reviewer)
		}
		page, err := in.bot.svc.ListCertifications(ctx, in.actor, q)
		if err != nil {
			return message{}, err
		}
		state := "open"
		if q.Completed != nil && *q.Completed {
			state = "completed"
		}
		return in.bot.render.certificationList(scope, state, page), nil
	}, nil
}

func (b *Bot) parseItems(c *command, args string) (work, error) {
	certArg, rest := splitWord(args)
	if certArg == "" {
		return nil, c.usage("give a certification id")
	}
	certID, err := idArg(c, "certification id", certArg)
	if err != nil {
		return nil, err
	}
	f := certs.ReviewItemFilter{Page: certs.PageOptions{Limit: itemsPageSize, Count: true}}
	var subject string
	if rest != "" {
		if id, ok := userMention(rest); ok {
			subject = id
		} else if strings.ContainsAny(rest, "<>") {
			return nil, c.usage(fmt.Sprintf("%q is neither a Slack user nor an identity name", rest))
		} else {
			f.IdentityName = rest
		}
	}
	return func(ctx context.Context, in *invocation) (message, error) {
		var identityID string
		about := f.IdentityName
		if subject != "" {
			p, err := in.bot.identities.lookup(ctx, in.actor, subject, subject == in.user)
			if err != nil {
				return message{}, err
			}
			f.IdentityName, identityID, about = p.Identity.Name, p.Identity.ID, "<@"+subject+">"
		}
		page, err := in.bot.svc.ListReviewItems(ctx, in.actor, certID, f)
		if err != nil {
			return message{}, err
		}
		if identityID != "" {
			// The name filter is a prefix match; keep only this person's items.
			kept := make([]certs.ReviewItem, 0, len(page.Items))
			for _, it := range page.Items {
				if it.IdentitySummary.IdentityID == identityID {
					kept = append(kept, it)
				}
			}
			page.Items = kept
			page.Total = -1
		}
		return in.bot.render.items(certID, about, page), nil
	}, nil
}

func (b *Bot) parsePermissions(c *command, args string) (work, error) {
	f := strings.Fields(args)
	if len(f) != 2 {
		return nil, c.usage("give a certification id and a review item id")
	}
	certID, err := idArg(c, "certification id", f[0])
	if err != nil {
		return nil, err
	}
	itemID, err := idArg(c, "review item id", f[1])
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, in *invocation) (message, error) {
		p, err := in.bot.svc.ListItemPermissions(ctx, in.actor, certID, itemID, certs.PermissionFilter{Page: certs.PageOptions{Limit: permissionPageSize, Count: true}})
		if err != nil {
			return message{}, err
		}
		return in.bot.render.permissions(certID, itemID, p), nil
	}, nil
}

// status shows a request, or else a task, with this id.
func (in *invocation) status(ctx context.Context, id string) (message, error) {
	r, err := in.bot.svc.GetRequest(ctx, in.actor, id)
	if err == nil {
		return in.bot.render.requestStatus(r), nil
	}
	if certs.ErrorCode(err) != certs.ENOTFOUND {
		return message{}, err
	}
	t, err := in.bot.svc.GetTask(ctx, in.actor, id)
	if err != nil {
		if certs.ErrorCode(err) == certs.ENOTFOUND {
			return message{}, certs.Errorf(certs.ENOTFOUND, "no reassignment request or SailPoint task has the id %s", id)
		}
		return message{}, err
	}
	return in.bot.render.task(t), nil
}

// Command handles a slash command and returns the acknowledgement to send
// within Slack's 3 seconds. It never waits on SailPoint: the work is queued
// and answered through response_url.
func (b *Bot) Command(ctx context.Context, sc slack.SlashCommand) message {
	if !b.firstDelivery("command", sc.TriggerID) {
		return message{} // a retry of a command already acknowledged
	}
	name, args := splitWord(sc.Text)
	if name == "" {
		name = "help"
	}
	c := b.lookupCommand(name)
	if c == nil {
		b.countCommand(subcommandUnknown, certs.Errorf(certs.EINVALID, "unknown subcommand"))
		return b.render.unknownCommand(name, b.commands)
	}
	w, err := c.Parse(c, args)
	if err != nil {
		b.countCommand(c.Name, err)
		return b.render.failure(err)
	}
	in := &invocation{bot: b, channel: sc.ChannelID, user: sc.UserID,
		resp: b.newResponder(sc.ResponseURL, sc.ChannelID, sc.UserID)}
	if c.Inline {
		m, err := w(ctx, in)
		b.countCommand(c.Name, err)
		if err != nil {
			return b.render.failure(err)
		}
		return m
	}
	err = b.pool.submit(c.Name, func(ctx context.Context) {
		m, err := b.runAsUser(ctx, in, sc.UserName, w)
		b.countCommand(c.Name, err)
		if err != nil {
			m = b.failureFor(c.Name, sc.UserID, err)
		}
		if err := in.resp.send(ctx, m, false); err != nil {
			b.log.Warn("slackbot: could not answer a command", "command", c.Name, "user", sc.UserID, "err", err)
		}
	})
	if err != nil {
		// The queue is full or the bot is stopping: nothing was done.
		b.countCommand(c.Name, certs.Errorf(certs.EUNAVAILABLE, "%v", err))
		return b.render.busy()
	}
	return b.render.working(c.Name)
}

// runAsUser resolves the Slack user to an Actor, then runs w.
func (b *Bot) runAsUser(ctx context.Context, in *invocation, slackName string, w work) (message, error) {
	a, err := b.identities.actor(ctx, in.user, slackName)
	if err != nil {
		return message{}, err
	}
	in.actor = a
	return w(ctx, in)
}

// failureFor renders err for the Slack user, logging what is not the
// user's to fix at ERROR and a refusal (what the Service forbids) at INFO,
// with the user's Slack id and ISC identity id when known.
func (b *Bot) failureFor(what, user string, err error) message {
	if m, ok := b.signInPrompt(user, err); ok { // signin.go
		return m
	}
	switch certs.ErrorCode(err) {
	case certs.EINTERNAL, certs.EUNKNOWN, certs.EUNAVAILABLE:
		b.log.Error("slackbot: "+what+" failed", "slack_user", user, "err", err)
	case certs.EFORBIDDEN:
		b.log.Info("slackbot: "+what+" refused", "slack_user", user, "identity", b.identityOf(user), "why", certs.ErrorMessage(err))
	}
	return b.render.failure(err)
}

// identityOf is the ISC identity id of a Slack user the bot has already
// looked up ("" when it has not, or not recently): for logs, never a call.
func (b *Bot) identityOf(user string) string {
	p, _ := b.identities.cache.get(user)
	return p.Identity.ID
}
