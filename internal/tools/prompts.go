package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// reviewPrompt walks an assistant through the caller's open certifications:
// what is due, what is left, and how to move work safely.
func reviewPrompt(readOnly bool) server.ServerPrompt {
	p := mcp.NewPrompt("review_my_certifications",
		mcp.WithPromptDescription("Go through my open certifications (access reviews): what is due soonest, what is left, and how to hand work over safely."),
		mcp.WithArgument("focus",
			mcp.ArgumentDescription("Optional: a certification id or campaign name to concentrate on."),
		),
	)
	return server.ServerPrompt{Prompt: p, Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		focus := req.Params.Arguments["focus"]
		if len([]rune(focus)) > maxFilterLen {
			return nil, fmt.Errorf("focus is longer than %d characters", maxFilterLen)
		}
		text := `Help me with my SailPoint certifications (access reviews).

1. Call list_certifications (status "open") and show them as a short table: name, campaign, due date, decisions made/total. Point out any due in the next 7 days or already overdue, and any with ISC errors.
2. For the one due soonest (or the one I name), call get_certification and list_review_items (status "open") and summarise what is left by identity and by access type; flag privileged access and new access. For entitlements with permissions, get_item_permissions shows what they grant.
3. If I want someone else to review some items (I am away, an identity moved to another manager), use list_reviewers to see who reviews it, then plan_reassignment with the items or identities, the new reviewer's email or id, and a reason. Show me the plan's summary and warnings word for word.`
		if readOnly {
			text += `
4. This server is read-only: it cannot carry out a reassignment. Tell me what to ask an admin for.`
		} else {
			text += `
4. Only after I say yes to that exact plan, call reassign with its plan_id. My client may ask me to confirm; if it cannot, pass confirm = the plan's digest — but only after I agreed. If I decline, nothing happens; say so. If the server requires approval, tell me the request is waiting for the Slack approvers.
5. Follow up with get_reassignment_status until it is completed or failed, and tell me the result. Never retry a reassignment whose outcome is unknown without checking list_pending_tasks first.`
		}
		if focus != "" {
			text += fmt.Sprintf("\n\nConcentrate on: %q.", focus)
		}
		return mcp.NewGetPromptResult("Review my open certifications", []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text)),
		}), nil
	}}
}
