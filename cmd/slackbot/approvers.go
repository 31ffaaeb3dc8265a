package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/settings"
)

// slackDirectory is what the start-up check asks Slack; slackbot's
// RotatingAPI (and slack.Client) answer it.
type slackDirectory interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

// approverCheckTimeout bounds the whole start-up check of the approvers.
const approverCheckTimeout = 30 * time.Second

// checkApprovers asks Slack, once at start-up, whether SLACK_APPROVERS
// names users of the workspace (users.info) and SLACK_APPROVER_GROUP one of
// its user groups (usergroups.users.list): a request filed for approvers
// who do not exist waits, undecided, until it expires. An id Slack does not
// know, or a deactivated user, stops start-up with the variable named, in
// the wording of every other setting problem (settings.Error). A Slack that
// cannot be asked (unreachable, rate limited, the token refused, which
// checkBotToken then reports) is logged, and start-up goes on.
func checkApprovers(ctx context.Context, api slackDirectory, approvers []string, group string, logger *slog.Logger) error {
	if len(approvers) == 0 && group == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, approverCheckTimeout)
	defer cancel()
	var errs settings.Errors
	var unknown, inactive []string
	for _, id := range approvers {
		u, err := api.GetUserInfoContext(ctx, id)
		if err != nil {
			if code := slackErrorCode(err); code == "user_not_found" || code == "users_not_found" {
				unknown = append(unknown, id)
				continue
			}
			logger.Warn("could not ask Slack whether SLACK_APPROVERS names its users; going on", "approver", id, "err", err)
			break // the ids Slack already said it does not know are still reported
		}
		if u.Deleted {
			inactive = append(inactive, id)
		}
	}
	var says []string
	if len(unknown) > 0 {
		says = append(says, "names "+strings.Join(unknown, ", ")+", which this Slack workspace does not know (users.info: user_not_found); "+
			"give member ids, U…: a person's profile → ⋮ → Copy member ID")
	}
	if len(inactive) > 0 {
		says = append(says, "names "+strings.Join(inactive, ", ")+", whose Slack account is deactivated")
	}
	if len(says) > 0 {
		errs.Add(settings.Invalidf("SLACK_APPROVERS", "%s", strings.Join(says, "; and ")))
	}
	if group != "" {
		members, err := api.GetUserGroupMembersContext(ctx, group)
		switch {
		case slackErrorCode(err) == "no_such_subteam":
			errs.Add(settings.Invalidf("SLACK_APPROVER_GROUP", "names %s, which is not a user group of this Slack workspace (usergroups.users.list: no_such_subteam); "+
				"give the group's id, S…, not its @handle", group))
		case err != nil:
			logger.Warn("could not ask Slack for the members of SLACK_APPROVER_GROUP; going on", "group", group, "err", err)
		case len(members) == 0:
			logger.Warn("SLACK_APPROVER_GROUP has no members: until it has, only SLACK_APPROVERS and CERTOPS_APPROVERS may decide requests", "group", group)
		}
	}
	return errs.Err()
}

// slackErrorCode is the error code of a Slack Web API refusal ("" for
// anything else).
func slackErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// slackHosts are the domains of Slack's own Web API (slack.com; for
// GovSlack, slack-gov.com).
var slackHosts = []string{"slack.com", "slack-gov.com"}

// testSlack reports whether SLACK_API_URL points the bot at something other
// than Slack (a test server, the fake of the tests): the response_urls in
// its payloads are then its own, on any host.
func testSlack(apiURL string) bool {
	if apiURL == "" {
		return false
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range slackHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return false
		}
	}
	return true
}
