package slackbot

import (
	"context"
	"fmt"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// reassignArgs is a parsed `reassign` command.
type reassignArgs struct {
	CertID  string
	ItemIDs []string
	// IdentityID or AllOf (a Slack user) choose all open items about one
	// person.
	IdentityID string
	AllOf      string
	To         userArg
	Reason     string
}

// parseReassign parses
//
//	reassign <cert> <item,...|identity <id>|all-of @user> to <@user|email> because <reason>
func (b *Bot) parseReassign(c *command, args string) (work, error) {
	ra, err := parseReassignArgs(c, args)
	if err != nil {
		return nil, err
	}
	return ra.run, nil
}

func parseReassignArgs(c *command, args string) (*reassignArgs, error) {
	head, reason, ok := cutKeyword(args, "because")
	if !ok || strings.TrimSpace(reason) == "" {
		return nil, c.usage("say why: end with `because <reason>`")
	}
	if err := certs.ValidateReason(reason); err != nil {
		return nil, c.usage(certs.ErrorMessage(err))
	}
	what, target, ok := cutKeyword(head, "to")
	if !ok || target == "" {
		return nil, c.usage("say who takes the items: `to @user` or `to name@example.com`")
	}
	certArg, what := splitWord(what)
	if certArg == "" || what == "" {
		return nil, c.usage("give a certification id and the items to move")
	}
	ra := &reassignArgs{Reason: reason}
	var err error
	if ra.CertID, err = idArg(c, "certification id", certArg); err != nil {
		return nil, err
	}

	kw, rest := splitWord(what)
	switch strings.ToLower(kw) {
	case "identity":
		f := strings.Fields(rest)
		if len(f) != 1 {
			return nil, c.usage("`identity` needs one identity id")
		}
		if ra.IdentityID, err = idArg(c, "identity id", f[0]); err != nil {
			return nil, err
		}
	case "all-of":
		id, ok := userMention(strings.TrimSpace(rest))
		if !ok {
			return nil, c.usage("`all-of` needs one Slack user, like `all-of @bob`")
		}
		ra.AllOf = id
	default:
		for _, part := range strings.FieldsFunc(what, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			id, err := idArg(c, "review item id", part)
			if err != nil {
				return nil, err
			}
			ra.ItemIDs = append(ra.ItemIDs, id)
		}
		if len(ra.ItemIDs) > certs.MaxPlanRefs {
			return nil, c.usage(fmt.Sprintf("%d items in one request; at most %d are allowed", len(ra.ItemIDs), certs.MaxPlanRefs))
		}
	}

	tf := strings.Fields(target)
	if len(tf) != 1 {
		return nil, c.usage("name one person to take the items")
	}
	if id, ok := userMention(tf[0]); ok {
		ra.To = userArg{SlackID: id}
	} else if email, ok := emailArg(tf[0]); ok {
		ra.To = userArg{Email: email}
	} else {
		return nil, c.usage(fmt.Sprintf("%q is neither a Slack user nor an email address", tf[0]))
	}
	return ra, nil
}

// run plans the reassignment and shows the plan to the requester with
// Confirm / Cancel buttons. Nothing changes in ISC until an approver
// approves.
func (ra *reassignArgs) run(ctx context.Context, in *invocation) (message, error) {
	in0 := certs.PlanInput{CertificationID: ra.CertID, ItemIDs: ra.ItemIDs, Reason: ra.Reason}
	switch {
	case ra.IdentityID != "":
		in0.IdentityIDs = []string{ra.IdentityID}
	case ra.AllOf != "":
		p, err := in.bot.identities.lookup(ctx, in.actor, ra.AllOf, ra.AllOf == in.user)
		if err != nil {
			return message{}, err
		}
		in0.IdentityIDs = []string{p.Identity.ID}
	}
	if ra.To.SlackID != "" {
		p, err := in.bot.identities.lookup(ctx, in.actor, ra.To.SlackID, ra.To.SlackID == in.user)
		if err != nil {
			return message{}, err
		}
		in0.Target = p.Identity.ID
	} else {
		in0.Target = ra.To.Email
	}
	plan, err := in.bot.svc.PlanReassignment(ctx, in.actor, in0)
	if err != nil {
		return message{}, err
	}
	return in.bot.render.plan(plan), nil
}
