package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// promptTools says which write tools the server offers, so that the prompt
// walks an assistant only through what it can do.
type promptTools struct{ reassign, decide, signOff bool }

// reviewPrompt walks an assistant through the caller's open certifications:
// what is due, what is left, how to move work safely, and the review
// itself: evidence, decisions, sign-off.
func reviewPrompt(can promptTools) server.ServerPrompt {
	p := mcp.NewPrompt("review_my_certifications",
		mcp.WithPromptDescription("Go through my open certifications (access reviews): what is due soonest, what is left, how to hand work over safely, "+
			"and the review itself: the evidence for each item, approving or revoking, and signing off."),
		mcp.WithArgument("focus",
			mcp.ArgumentDescription("Optional: a certification id or campaign name to concentrate on."),
		),
	)
	return server.ServerPrompt{Prompt: p, Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		focus := req.Params.Arguments["focus"]
		if len([]rune(focus)) > maxFilterLen {
			return nil, fmt.Errorf("focus is longer than %d characters", maxFilterLen)
		}
		var steps []string
		steps = append(steps,
			`Call list_certifications (status "open") and show them as a short table: name, campaign, due date, decisions made/total. Point out any due in the next 7 days or already overdue, and any with ISC errors.`,
			`For the one due soonest (or the one I name), call get_certification and list_review_items (status "open") and summarise what is left by identity and by access type; flag privileged access and new access. For entitlements with permissions, get_item_permissions shows what they grant.`,
			`If I want someone else to review some items (I am away, an identity moved to another manager), use list_reviewers to see who reviews it (find_people finds anyone else by name), then plan_reassignment with the items or identities, the new reviewer's email or id, and a reason. Show me the plan's summary and warnings word for word.`)
		if can.reassign {
			steps = append(steps,
				`Only after I say yes to that exact plan, call reassign with its plan_id. My client may ask me to confirm; if it cannot, pass confirm = the plan's digest — but only after I agreed. If I decline, nothing happens; say so. If the server requires approval, tell me the request is waiting for the Slack approvers.`,
				`Follow up with get_reassignment_status until it is completed or failed, and tell me the result. Never retry a reassignment whose outcome is unknown without checking list_pending_tasks first.`)
		} else {
			steps = append(steps, `This server cannot carry out a reassignment. Tell me what to ask an admin for.`)
		}
		steps = append(steps,
			`When I review items myself, go identity by identity: call get_review_item (identity_summary_id for one identity's open items, item_id for one item) and show me the facts and remarks as they are: who, manager, the access and what it grants, new or privileged, how many others hold it, how it came to me, any decision already made. certops never recommends a decision, and neither do you: I decide.`,
			`When I say what to approve or revoke, call plan_decisions: explicit decisions, or select (for example every open item of one identity, leaving out privileged or new access) with one decision, and my comments (the campaign may require them, and auditors ask why access was revoked). Show me the counts, the decisions by identity and the warnings word for word. Nothing has changed yet.`)
		if can.decide {
			steps = append(steps,
				`Only after I say yes to that exact plan, call decide with its plan_id. My client may ask me to confirm; if it cannot, pass confirm = the plan's digest — but only after I agreed. If I decline, nothing is sent; say so. Tell me that revoked access is removed only when the certification is signed off, and that until then a decision can be changed with a new plan.`)
		} else {
			steps = append(steps, `This server cannot record decisions: I make them in SailPoint, following the plan.`)
		}
		if can.signOff {
			steps = append(steps,
				`When every item is decided, offer to sign the certification off with sign_off. It shows me what becomes final and asks me (or, if my client cannot ask, returns the plan and its digest: show me, and call sign_off again with plan_id and confirm only after I agreed). Signing off is final: say so. If it answers that items are left or an ISC task is pending, tell me what is left.`)
		}
		var b strings.Builder
		b.WriteString("Help me with my SailPoint certifications (access reviews).\n")
		for i, s := range steps {
			fmt.Fprintf(&b, "\n%d. %s", i+1, s)
		}
		text := b.String()
		if focus != "" {
			text += fmt.Sprintf("\n\nConcentrate on: %q.", focus)
		}
		return mcp.NewGetPromptResult("Review my open certifications", []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text)),
		}), nil
	}}
}
