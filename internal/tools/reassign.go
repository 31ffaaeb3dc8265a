package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// PlanOut is plan_reassignment's result: exactly what would move, to whom,
// in how many ISC calls.
type PlanOut struct {
	PlanID            string   `json:"planId" jsonschema:"for reassign"`
	Digest            string   `json:"digest" jsonschema:"reassign's confirm, once the person agreed"`
	CertificationID   string   `json:"certificationId"`
	CertificationName string   `json:"certificationName"`
	CampaignName      string   `json:"campaignName,omitempty"`
	From              Person   `json:"from"`
	To                Person   `json:"to"`
	Reason            string   `json:"reason"`
	ItemCount         int      `json:"itemCount"`
	IdentityNames     []string `json:"identityNames"`
	Calls             int      `json:"calls" jsonschema:"ISC calls"`
	Sync              bool     `json:"sync" jsonschema:"one call, its result known at once"`
	Summary           string   `json:"summary" jsonschema:"show it to the person"`
	Warnings          []string `json:"warnings"`
	Created           string   `json:"created"`
}

func planOut(p *certs.Plan) PlanOut {
	out := PlanOut{
		PlanID: p.ID, Digest: p.Digest,
		CertificationID: p.CertificationID, CertificationName: p.CertificationName, CampaignName: p.CampaignName,
		From:      Person{ID: p.From.ID, Name: p.From.Name, Email: p.From.Email},
		To:        Person{ID: p.To.ID, Name: p.To.Name, Email: p.To.Email},
		Reason:    p.Reason,
		ItemCount: p.ItemCount, IdentityNames: p.IdentityNames, Calls: len(p.Calls), Sync: p.Sync,
		Summary: p.Summary, Warnings: p.Warnings, Created: ts(&p.Created),
	}
	if out.IdentityNames == nil {
		out.IdentityNames = []string{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return out
}

func (p PlanOut) text(requireApproval bool) string {
	var b strings.Builder
	// The Summary is certs' own account of the plan (items, identities,
	// from, to, calls, reason); it is what the person confirms.
	fmt.Fprintf(&b, "Plan %s (nothing has changed yet):\n%s\n", p.PlanID, p.Summary)
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", w)
	}
	fmt.Fprintf(&b, "Digest: %s\n", p.Digest)
	b.WriteString("Next: show this plan to the person. Only if they agree, call reassign with plan_id")
	b.WriteString(` (and confirm set to the digest if your client cannot ask them itself).`)
	if requireApproval {
		b.WriteString(" This server requires approval: reassign files a request for the Slack approvers; nothing moves until one approves.")
	}
	b.WriteByte('\n')
	return b.String()
}

type planArgs struct {
	CertificationID    string   `json:"certification_id"`
	ItemIDs            []string `json:"item_ids"`
	IdentitySummaryIDs []string `json:"identity_summary_ids"`
	IdentityIDs        []string `json:"identity_ids"`
	Target             string   `json:"target"`
	Reason             string   `json:"reason"`
}

const maxEmailLen = 254

func planReassignment(d deps) server.ServerTool {
	idList := func(name, what string) mcp.ToolOption {
		return mcp.WithArray(name, mcp.Description(what), mcp.WithStringItems())
	}
	tool := newTool("plan_reassignment",
		mcp.WithDescription("Plan moving a certification's review work to another reviewer, changing nothing: what moves, to whom, warnings, "+
			"and the plan's id and digest. Give one of item_ids, identity_summary_ids, identity_ids. Show the summary to the person; reassign carries it out."),
		idArg("certification_id", "Certification id.", true),
		idList("item_ids", "Review item ids."),
		idList("identity_summary_ids", "Identity summary ids: all their items."),
		idList("identity_ids", "Identity ids: all their open items."),
		mcp.WithString("target", mcp.Required(),
			mcp.Description("New reviewer: identity id or email (find_people finds them)."),
			mcp.MaxLength(maxEmailLen)),
		mcp.WithString("reason", mcp.Required(),
			mcp.Description("Why, for the audit trail and the new reviewer."),
			mcp.MaxLength(certs.MaxReasonLength)),
		// Planning changes nothing in ISC; it stores the plan so that what
		// is confirmed later is exactly what was shown. Each call makes a
		// new plan, so it is not idempotent.
		readAnnotations("Plan a reassignment", false),
		mcp.WithOutputSchema[PlanOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[planArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		chosen := 0
		for _, l := range [][]string{args.ItemIDs, args.IdentitySummaryIDs, args.IdentityIDs} {
			if len(l) > 0 {
				chosen++
			}
		}
		if chosen != 1 {
			return nil, invalid("give exactly one of item_ids, identity_summary_ids, identity_ids (got %d)", chosen)
		}
		for name, l := range map[string][]string{"item_ids": args.ItemIDs, "identity_summary_ids": args.IdentitySummaryIDs, "identity_ids": args.IdentityIDs} {
			if err := checkIDs(name, l, certs.MaxPlanRefs); err != nil {
				return nil, err
			}
		}
		// target keeps its schema bound and the text policy of free text;
		// whether it is given, and is an identity id or an email address,
		// and everything about the reason, are the Service's to judge.
		if err := checkText("target", args.Target, maxEmailLen); err != nil {
			return nil, err
		}
		if err := identityArg("target", args.Target); err != nil {
			return nil, err
		}
		p, err := d.svc.PlanReassignment(ctx, a, certs.PlanInput{
			CertificationID:    args.CertificationID,
			ItemIDs:            args.ItemIDs,
			IdentitySummaryIDs: args.IdentitySummaryIDs,
			IdentityIDs:        args.IdentityIDs,
			Target:             args.Target,
			Reason:             args.Reason,
		})
		if err != nil {
			return nil, withPeopleHint(err)
		}
		out := planOut(p)
		return result(out, out.text(d.requireApproval)), nil
	})}
}

// ReassignOut is reassign's result.
type ReassignOut struct {
	Outcome string         `json:"outcome" jsonschema:"declined, cancelled, pending_approval, submitted, completed or failed"`
	Message string         `json:"message"`
	PlanID  string         `json:"planId"`
	Request *RequestStatus `json:"request,omitempty" jsonschema:"as get_reassignment_status shows it"`
}

const (
	outcomeDeclined        = "declined"
	outcomeCancelled       = "cancelled"
	outcomePendingApproval = "pending_approval"
	outcomeSubmitted       = "submitted"
	outcomeCompleted       = "completed"
	outcomeFailed          = "failed"

	// confirmInput names reassign's elicitation among a call's input
	// requests.
	confirmInput = "confirm_reassignment"
	// maxWaitSeconds bounds how long reassign may hold a call open
	// waiting for ISC.
	maxWaitSeconds = 120
)

type reassignArgs struct {
	PlanID      string `json:"plan_id"`
	Confirm     string `json:"confirm"`
	WaitSeconds *int   `json:"wait_seconds"`
}

func reassign(d deps) server.ServerTool {
	tool := newTool("reassign",
		mcp.WithDescription("Carry out a plan_reassignment plan in SailPoint. The person confirms first: the client asks them, "+
			"or, if it cannot, pass confirm = the plan's digest once they agreed. Under an approval policy this files a request for the Slack approvers."),
		idArg("plan_id", "Plan id.", true),
		confirmArg(),
		mcp.WithInteger("wait_seconds",
			mcp.Description("Wait this long for ISC to finish (default 0)."),
			mcp.Min(0), mcp.Max(maxWaitSeconds)),
		mcp.WithToolAnnotation(mcp.ToolAnnotation{
			Title:        "Reassign review work",
			ReadOnlyHint: mcp.ToBoolPtr(false),
			// The former reviewer loses the items; moving them back is a
			// new reassignment, not an undo.
			DestructiveHint: mcp.ToBoolPtr(true),
			IdempotentHint:  mcp.ToBoolPtr(false),
			OpenWorldHint:   mcp.ToBoolPtr(true),
		}),
		mcp.WithOutputSchema[ReassignOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[reassignArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("plan_id", args.PlanID); err != nil {
			return nil, err
		}
		wait := 0
		if args.WaitSeconds != nil {
			if *args.WaitSeconds < 0 || *args.WaitSeconds > maxWaitSeconds {
				return nil, invalid("wait_seconds must be between 0 and %d, got %d", maxWaitSeconds, *args.WaitSeconds)
			}
			wait = *args.WaitSeconds
		}
		if len(args.Confirm) > certs.MaxIDLength {
			return nil, invalid("confirm is %d characters; a plan digest is at most %d", len(args.Confirm), certs.MaxIDLength)
		}
		plan, err := d.svc.GetPlan(ctx, a, args.PlanID)
		if err != nil {
			return nil, err
		}
		// A decision or sign-off plan is confirmed by decide or sign_off,
		// whose question shows what it decides.
		if err := planOfKind(plan, certs.KindReassign, "plan_id"); err != nil {
			return nil, err
		}
		if err := d.notCarriedOut(ctx, a, plan); err != nil {
			return nil, err
		}

		// A client that can ask its user always does, even when the model
		// passed confirm: the model must not be able to skip the person.
		var digest string
		answer := server.ElicitationResponse(req.Params.InputResponses, confirmInput)
		switch {
		case answer != nil:
			// The retry of a call whose confirmation we asked for: the
			// state echoes the digest of the plan that was shown.
			if req.Params.RequestState != plan.Digest {
				return nil, certs.Errorf(certs.ECONFLICT, "the confirmation answered was for another version of plan %s; call reassign again", plan.ID)
			}
			if outcome, msg := declined(answer); outcome != "" {
				d.log.InfoContext(ctx, "reassignment not confirmed", "plan", plan.ID, "outcome", outcome, "actor", a.ID)
				out := ReassignOut{Outcome: outcome, Message: msg, PlanID: plan.ID}
				return result(out, msg+"\n"), nil
			}
			digest = plan.Digest
		case clientCanElicit(ctx):
			if err := checkConfirmFor(plan, args.Confirm); err != nil {
				return nil, err
			}
			return server.NewInputRequestBuilder(plan.Digest).
				Elicit(confirmInput, confirmation(plan, d.requireApproval)).
				ToolResult(), nil
		case args.Confirm != "":
			digest = args.Confirm
		default:
			return nil, invalid("confirm is required: this client cannot ask the person to confirm, so show them the plan's summary and, " +
				"only if they agree, call reassign again with confirm set to the plan's digest (from plan_reassignment)")
		}

		r, err := d.svc.SubmitPlan(ctx, a, plan.ID, digest)
		if err != nil {
			return nil, err
		}
		d.log.InfoContext(ctx, "reassignment confirmed", "actor", a.ID, "role", a.Role, "plan", plan.ID,
			"request", r.ID, "state", r.State, "items", plan.ItemCount, "to", plan.To.ID)
		if wait > 0 && r.State != certs.StatePending && !r.State.Final() {
			r = d.follow(ctx, a, r, time.Duration(wait)*time.Second)
		}
		st := requestStatus(r)
		out := ReassignOut{Outcome: outcomeOf(r.State), PlanID: plan.ID, Request: &st}
		switch out.Outcome {
		case outcomePendingApproval:
			out.Message = fmt.Sprintf("Filed request %s for approval by the Slack approvers; nothing moves until one approves it. Follow it with get_reassignment_status.", r.ID)
		case outcomeCompleted:
			out.Message = fmt.Sprintf("Done: %s moved to %s.", countOf(st.Progress.ItemsMoved, "item", "items"), st.To.Name)
		case outcomeFailed:
			out.Message = fmt.Sprintf("ISC reported a failure for request %s; see its tasks' errors. Check get_certification before planning again.", r.ID)
		default:
			out.Message = fmt.Sprintf("Submitted request %s to ISC; follow it with get_reassignment_status.", r.ID)
			if st.waitingFor != "" {
				out.Message = fmt.Sprintf("Confirmed request %s, which waits: its next call is not sent until %s is settled; certops then sends it by itself. Follow it with get_reassignment_status.",
					r.ID, waitingText(st.waitingFor))
			}
		}
		return result(out, out.Message+"\n"+st.text()), nil
	})}
}

// declined reports whether an elicitation answer withholds consent, and
// says so in words.
func declined(answer *mcp.ElicitationResult) (string, string) {
	switch answer.Action {
	case mcp.ElicitationResponseActionAccept:
		if m, ok := answer.Content.(map[string]any); ok {
			if v, ok := m["confirm"].(bool); ok && !v {
				return outcomeDeclined, "The person did not confirm the reassignment. Nothing was changed."
			}
		}
		return "", ""
	case mcp.ElicitationResponseActionDecline:
		return outcomeDeclined, "The person declined the reassignment. Nothing was changed."
	default:
		return outcomeCancelled, "The person dismissed the confirmation. Nothing was changed."
	}
}

// confirmation is the question put to the person: the plan's own summary
// and warnings, so what they confirm is what the digest covers.
func confirmation(p *certs.Plan, requireApproval bool) mcp.ElicitationParams {
	var b strings.Builder
	fmt.Fprintf(&b, "Reassign review work?\n\n%s\n", p.Summary)
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s", w)
	}
	if requireApproval {
		b.WriteString("\n\nConfirming files a request for the approvers; nothing moves until one approves it.")
	}
	return mcp.ElicitationParams{
		Message: b.String(),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{
					"type":        "boolean",
					"title":       "Move these items",
					"description": fmt.Sprintf("Move %s to %s", countOf(p.ItemCount, "item", "items"), p.To.Name),
					"default":     true,
				},
			},
		},
	}
}

// clientCanElicit reports whether the client said it can ask its user:
// per request from protocol 2026-07-28 on, per session before.
func clientCanElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	}
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		return s.GetClientCapabilities().Elicitation != nil
	}
	return false
}

func outcomeOf(s certs.RequestState) string {
	switch s {
	case certs.StatePending:
		return outcomePendingApproval
	case certs.StateCompleted:
		return outcomeCompleted
	case certs.StateFailed:
		return outcomeFailed
	case certs.StateDenied:
		return outcomeDeclined
	case certs.StateCancelled, certs.StateExpired:
		return outcomeCancelled
	}
	return outcomeSubmitted
}

// follow waits up to max for a request to become final, through the
// Service's FollowRequest (which reads the request's ISC tasks itself, so no
// worker need be running), and returns the request as last seen. Running
// out of time is not a failure: reassign returns the state either way.
func (d deps) follow(ctx context.Context, a certs.Actor, r *certs.Request, max time.Duration) *certs.Request {
	wctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	last, err := d.svc.FollowRequest(wctx, a, r.ID)
	if last != nil {
		r = last
	}
	if err != nil && wctx.Err() == nil {
		d.log.WarnContext(ctx, "following request", "request", r.ID, "err", err)
	}
	return r
}
