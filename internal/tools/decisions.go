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

// A reviewer's own changes: plan_decisions works decisions out (changing
// nothing in ISC), decide carries a plan out once the person confirmed it,
// sign_off plans and confirms signing a certification off. Confirmation
// follows reassign's rules (confirmPlan): a client that can ask its user
// always asks, whether or not the model passed the digest, so a model can
// never skip the person; a client that cannot ask must pass the digest of
// the plan the person agreed to.

// DecisionPlanOut is plan_decisions' result: exactly what would be
// approved and revoked.
type DecisionPlanOut struct {
	PlanID            string                 `json:"planId" jsonschema:"for decide"`
	Digest            string                 `json:"digest" jsonschema:"decide's confirm, once the person agreed"`
	CertificationID   string                 `json:"certificationId"`
	CertificationName string                 `json:"certificationName"`
	CampaignName      string                 `json:"campaignName,omitempty"`
	Reviewer          Person                 `json:"reviewer"`
	OnBehalf          string                 `json:"onBehalf,omitempty"`
	Approve           int                    `json:"approve"`
	Revoke            int                    `json:"revoke"`
	ItemCount         int                    `json:"itemCount"`
	IdentityCount     int                    `json:"identityCount"`
	Calls             int                    `json:"calls" jsonschema:"ISC calls"`
	Identities        []IdentityDecisionsOut `json:"identities" jsonschema:"a large plan lists only its revocations"`
	NotListed         *NotListedOut          `json:"notListed,omitempty" jsonschema:"what a large plan leaves out"`
	Summary           string                 `json:"summary" jsonschema:"show it to the person"`
	Warnings          []string               `json:"warnings"`
	Created           string                 `json:"created"`
}

// IdentityDecisionsOut is a plan's decisions on one identity's access.
type IdentityDecisionsOut struct {
	IdentityID string            `json:"identityId"`
	Name       string            `json:"name"`
	Approve    int               `json:"approve"`
	Revoke     int               `json:"revoke"`
	Items      []DecisionItemOut `json:"items"`
}

// DecisionItemOut is one decision of a plan.
type DecisionItemOut struct {
	ItemID          string `json:"itemId"`
	Decision        string `json:"decision" jsonschema:"APPROVE or REVOKE"`
	AccessType      string `json:"accessType"`
	AccessName      string `json:"accessName"`
	Source          string `json:"source,omitempty"`
	Privileged      bool   `json:"privileged"`
	NewAccess       bool   `json:"newAccess"`
	Comments        string `json:"comments,omitempty"`
	ProposedEndDate string `json:"proposedEndDate,omitempty" jsonschema:"when revoked access should end"`
	Previous        string `json:"previous,omitempty" jsonschema:"the decision already made on the item, which this one replaces"`
}

// NotListedOut counts what a large plan does not list item by item.
type NotListedOut struct {
	Identities int `json:"identities" jsonschema:"identities not listed at all"`
	Approve    int `json:"approve" jsonschema:"approvals not listed item by item"`
	Revoke     int `json:"revoke" jsonschema:"revocations not listed item by item"`
}

// listing bounds how much of a plan is shown item by item. A plan of at
// most maxItems decisions is shown whole; a larger one shows its
// revocations (at most maxItems) and counts its approvals, identity by
// identity, for at most maxIdentities identities.
type listing struct{ maxItems, maxIdentities int }

var (
	// planListing is plan_decisions' (text and structured content).
	planListing = listing{maxItems: 100, maxIdentities: 50}
	// askListing is the question put to the person: shorter, for a dialog.
	askListing = listing{maxItems: 40, maxIdentities: 20}
)

func decisionCounts(p *certs.Plan) (approve, revoke int) {
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			if d.Decision == certs.DecisionRevoke {
				revoke++
			} else {
				approve++
			}
		}
	}
	return approve, revoke
}

// groupDecisions lists a plan's decisions by identity, in the plan's order,
// described from the evidence the plan kept of each item.
func groupDecisions(p *certs.Plan) []IdentityDecisionsOut {
	items := make(map[string]certs.ReviewItem, len(p.Evidence))
	for _, ev := range p.Evidence {
		items[ev.Item.ID] = ev.Item
	}
	var groups []IdentityDecisionsOut
	index := map[string]int{}
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			it, known := items[d.ItemID]
			key, name := it.IdentitySummary.IdentityID, it.IdentitySummary.Name
			if !known {
				key, name = "", "(identity not recorded in the plan)"
			}
			if name == "" {
				name = key
			}
			gi, ok := index[key]
			if !ok {
				gi = len(groups)
				index[key] = gi
				groups = append(groups, IdentityDecisionsOut{IdentityID: key, Name: name, Items: []DecisionItemOut{}})
			}
			row := DecisionItemOut{
				ItemID: d.ItemID, Decision: string(d.Decision),
				AccessType: string(it.Access.Type), AccessName: it.Access.Name, Source: it.Access.SourceName,
				Privileged: it.Access.Privileged, NewAccess: it.NewAccess, Comments: d.Comments,
			}
			if d.ProposedEndDate != nil {
				row.ProposedEndDate = d.ProposedEndDate.UTC().Format(time.RFC3339)
			}
			if it.Decision != "" && it.Decision != d.Decision {
				row.Previous = string(it.Decision)
			}
			g := &groups[gi]
			if d.Decision == certs.DecisionRevoke {
				g.Revoke++
			} else {
				g.Approve++
			}
			g.Items = append(g.Items, row)
		}
	}
	return groups
}

// bounded applies a listing to the groups of a plan of n decisions.
func bounded(groups []IdentityDecisionsOut, n int, l listing) ([]IdentityDecisionsOut, *NotListedOut) {
	whole := n <= l.maxItems
	budget := l.maxItems
	var out []IdentityDecisionsOut
	var not NotListedOut
	for gi, g := range groups {
		if gi >= l.maxIdentities {
			not.Identities++
			not.Approve += g.Approve
			not.Revoke += g.Revoke
			continue
		}
		kept := make([]DecisionItemOut, 0, len(g.Items))
		approve, revoke := 0, 0
		for _, it := range g.Items {
			if !whole && (it.Decision != string(certs.DecisionRevoke) || budget == 0) {
				continue
			}
			kept = append(kept, it)
			budget--
			if it.Decision == string(certs.DecisionRevoke) {
				revoke++
			} else {
				approve++
			}
		}
		not.Approve += g.Approve - approve
		not.Revoke += g.Revoke - revoke
		g.Items = kept
		out = append(out, g)
	}
	if out == nil {
		out = []IdentityDecisionsOut{}
	}
	if not == (NotListedOut{}) {
		return out, nil
	}
	return out, &not
}

func decisionPlanOut(p *certs.Plan) DecisionPlanOut {
	approve, revoke := decisionCounts(p)
	groups := groupDecisions(p)
	listed, not := bounded(groups, p.ItemCount, planListing)
	out := DecisionPlanOut{
		PlanID: p.ID, Digest: p.Digest,
		CertificationID: p.CertificationID, CertificationName: p.CertificationName, CampaignName: p.CampaignName,
		Reviewer: Person{ID: p.From.ID, Name: p.From.Name, Email: p.From.Email}, OnBehalf: p.OnBehalf,
		Approve: approve, Revoke: revoke, ItemCount: p.ItemCount, IdentityCount: len(groups), Calls: len(p.Decisions),
		Identities: listed, NotListed: not,
		Summary: p.Summary, Warnings: p.Warnings, Created: ts(&p.Created),
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return out
}

// decisionLines renders the decisions by identity, as listed.
func decisionLines(b *strings.Builder, groups []IdentityDecisionsOut, not *NotListedOut) {
	for _, g := range groups {
		fmt.Fprintf(b, "%s", g.Name)
		if g.IdentityID != "" {
			fmt.Fprintf(b, " [identity %s]", g.IdentityID)
		}
		fmt.Fprintf(b, ": approve %d, revoke %d\n", g.Approve, g.Revoke)
		for _, it := range g.Items {
			fmt.Fprintf(b, "- %s %s [%s]", it.Decision, accessPhrase(it.AccessType, it.AccessName, it.Source, it.Privileged, it.NewAccess), it.ItemID)
			if it.Comments != "" {
				fmt.Fprintf(b, ", comment %q", it.Comments)
			}
			if it.ProposedEndDate != "" {
				fmt.Fprintf(b, ", access to end %s", it.ProposedEndDate)
			}
			if it.Previous != "" {
				fmt.Fprintf(b, ", replacing %s", it.Previous)
			}
			b.WriteByte('\n')
		}
	}
	if not != nil {
		fmt.Fprintf(b, "Not listed one by one: %s and %s", countOf(not.Approve, "approval", "approvals"), countOf(not.Revoke, "revocation", "revocations"))
		if not.Identities > 0 {
			fmt.Fprintf(b, " (of which %s not listed at all)", countOf(not.Identities, "identity", "identities"))
		}
		b.WriteString("; the counts and the digest cover them.\n")
	}
}

func (p DecisionPlanOut) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Decision plan %s (nothing has changed yet):\n%s\n", p.PlanID, p.Summary)
	decisionLines(&b, p.Identities, p.NotListed)
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", w)
	}
	fmt.Fprintf(&b, "Digest: %s\n", p.Digest)
	b.WriteString("Next: show this plan to the person. Only if they agree, call decide with plan_id (and confirm set to the digest if your client cannot ask them itself). ")
	b.WriteString("Revocations take effect when the certification is signed off (sign_off, once every item is decided).\n")
	return b.String()
}

type decisionArg struct {
	ItemID          string `json:"item_id"`
	Decision        string `json:"decision"`
	Comments        string `json:"comments"`
	ProposedEndDate string `json:"proposed_end_date"`
}

type selectionArg struct {
	Decision          string   `json:"decision"`
	IdentityIDs       []string `json:"identity_ids"`
	ExcludePrivileged bool     `json:"exclude_privileged"`
	ExcludeNewAccess  bool     `json:"exclude_new_access"`
}

type planDecisionsArgs struct {
	CertificationID string        `json:"certification_id"`
	Decisions       []decisionArg `json:"decisions"`
	Select          *selectionArg `json:"select"`
	Comments        string        `json:"comments"`
	OnBehalf        string        `json:"on_behalf"`
}

var (
	commentRule  = certs.TextRule{MaxRunes: certs.MaxCommentLength, Multiline: true}
	onBehalfRule = certs.TextRule{MaxRunes: certs.MaxReasonLength, Multiline: true}
)

// maxDateLen bounds a proposed end date argument (an RFC 3339 time).
const maxDateLen = 40

func decisionEnum() []string {
	return []string{string(certs.DecisionApprove), string(certs.DecisionRevoke)}
}

func onBehalfArg(what string) mcp.ToolOption {
	return mcp.WithString("on_behalf",
		mcp.Description(fmt.Sprintf("An admin %s for the reviewer: why.", what)),
		mcp.MaxLength(certs.MaxReasonLength))
}

// objectRequired lists an object property's required members.
func objectRequired(names ...string) mcp.PropertyOption {
	return func(schema map[string]any) { schema["required"] = names }
}

func planDecisions(d deps) server.ServerTool {
	tool := newTool("plan_decisions",
		mcp.WithDescription("Plan approving or revoking a certification's items, changing nothing: counts, decisions by identity, warnings, plan id and digest. "+
			"Give decisions, select (open items, one decision), or both. Only the reviewer decides (or an admin, with on_behalf), never on their own access. "+
			"Show the plan to the person; decide carries it out."),
		idArg("certification_id", "Certification id.", true),
		mcp.WithArray("decisions",
			mcp.Description("One per item."),
			mcp.Items(map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"item_id", "decision"},
				"properties": map[string]any{
					"item_id":           map[string]any{"type": "string"},
					"decision":          map[string]any{"type": "string", "enum": decisionEnum(), "description": "REVOKE removes the access at sign-off."},
					"comments":          map[string]any{"type": "string", "description": "Why; the campaign may require it.", "maxLength": certs.MaxCommentLength},
					"proposed_end_date": map[string]any{"type": "string", "description": "REVOKE: when access ends (YYYY-MM-DD or RFC 3339)."},
				},
			})),
		mcp.WithObject("select",
			mcp.Description("Open items to give one decision; an explicit decision wins."),
			mcp.Properties(map[string]any{
				"decision":           map[string]any{"type": "string", "enum": decisionEnum()},
				"identity_ids":       map[string]any{"type": "array", "description": "Only these identities' (identity.identityId).", "items": map[string]any{"type": "string"}},
				"exclude_privileged": map[string]any{"type": "boolean"},
				"exclude_new_access": map[string]any{"type": "boolean", "description": "Leave out access new since the last review."},
			}),
			mcp.AdditionalProperties(false), objectRequired("decision")),
		mcp.WithString("comments",
			mcp.Description("For decisions without their own."),
			mcp.MaxLength(certs.MaxCommentLength)),
		onBehalfArg("deciding"),
		// Planning changes nothing in ISC; it stores the plan so that what
		// is confirmed later is exactly what was shown. Each call makes a
		// new plan, so it is not idempotent.
		readAnnotations("Plan review decisions", false),
		mcp.WithOutputSchema[DecisionPlanOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[planDecisionsArgs](req)
		if err != nil {
			return nil, err
		}
		in, err := decisionInput(args)
		if err != nil {
			return nil, err
		}
		p, err := d.svc.PlanDecisions(ctx, a, in)
		if err != nil {
			return nil, namingOnBehalf(err)
		}
		out := decisionPlanOut(p)
		return result(out, out.text()), nil
	})}
}

// decisionInput checks plan_decisions' arguments, naming each as the tool
// does, and turns them into the Service's input. Whether the items are in
// the certification, open, the caller's to decide and commented as the
// campaign requires is the Service's to judge.
func decisionInput(args planDecisionsArgs) (certs.DecisionInput, error) {
	in := certs.DecisionInput{CertificationID: args.CertificationID, Comments: args.Comments, OnBehalf: args.OnBehalf}
	if err := checkID("certification_id", args.CertificationID); err != nil {
		return in, err
	}
	if len(args.Decisions) == 0 && args.Select == nil {
		return in, invalid("give decisions (item_id and decision for each item), select (open items to give one decision), or both")
	}
	if len(args.Decisions) > certs.MaxPlanDecisions {
		return in, invalid("decisions has %d entries; at most %d are allowed in one plan: split them into several plans", len(args.Decisions), certs.MaxPlanDecisions)
	}
	seen := make(map[string]int, len(args.Decisions))
	for i, da := range args.Decisions {
		arg := fmt.Sprintf("decisions[%d]", i)
		if da.ItemID == "" {
			return in, invalid("%s.item_id is required", arg)
		}
		if err := checkID(arg+".item_id", da.ItemID); err != nil {
			return in, err
		}
		if j, dup := seen[da.ItemID]; dup {
			return in, invalid("decisions[%d] and %s both decide item %q; decide each item once", j, arg, da.ItemID)
		}
		seen[da.ItemID] = i
		dec, err := decisionArgValue(arg+".decision", da.Decision)
		if err != nil {
			return in, err
		}
		if err := certs.ValidateText(arg+".comments", da.Comments, commentRule); err != nil {
			return in, err
		}
		end, err := endDateArg(arg+".proposed_end_date", da.ProposedEndDate)
		if err != nil {
			return in, err
		}
		in.Decisions = append(in.Decisions, certs.ItemDecision{ItemID: da.ItemID, Decision: dec, Comments: strings.TrimSpace(da.Comments), ProposedEndDate: end})
	}
	if s := args.Select; s != nil {
		dec, err := decisionArgValue("select.decision", s.Decision)
		if err != nil {
			return in, err
		}
		if err := checkIDs("select.identity_ids", s.IdentityIDs, certs.MaxPlanDecisions); err != nil {
			return in, err
		}
		in.Select = &certs.ItemSelection{IdentityIDs: s.IdentityIDs, ExcludePrivileged: s.ExcludePrivileged, ExcludeNewAccess: s.ExcludeNewAccess}
		in.SelectDecision = dec
	}
	if err := certs.ValidateText("comments", args.Comments, commentRule); err != nil {
		return in, err
	}
	if err := certs.ValidateText("on_behalf", args.OnBehalf, onBehalfRule); err != nil {
		return in, err
	}
	return in, nil
}

func decisionArgValue(arg, v string) (certs.Decision, error) {
	switch certs.Decision(v) {
	case certs.DecisionApprove, certs.DecisionRevoke:
		return certs.Decision(v), nil
	case "":
		return "", invalid("%s is required: APPROVE or REVOKE", arg)
	}
	return "", invalid("%s must be APPROVE or REVOKE, got %q", arg, v)
}

// endDateArg parses a proposed end date: a date (midnight UTC) or an RFC
// 3339 time. Whether it is in the future and on a revoke is the Service's
// to judge.
func endDateArg(arg, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if len(v) > maxDateLen {
		return nil, invalid("%s is %d characters; a date is at most %d", arg, len(v), maxDateLen)
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, invalid("%s must be a date (YYYY-MM-DD) or an RFC 3339 time such as 2027-01-31T00:00:00Z, got %q", arg, v)
}

// ChangeStatus is a decision or sign-off request's state: what was sent
// to ISC and what became of it.
type ChangeStatus struct {
	ID                string          `json:"id"`
	Kind              string          `json:"kind" jsonschema:"decide or sign_off"`
	State             string          `json:"state" jsonschema:"submitting (a call waits for another change to the certification, or its outcome is being settled), completed or failed"`
	Final             bool            `json:"final" jsonschema:"true when the state can no longer change"`
	CertificationID   string          `json:"certificationId"`
	CertificationName string          `json:"certificationName,omitempty"`
	Approve           int             `json:"approve" jsonschema:"approvals the request sends (0 for a sign-off)"`
	Revoke            int             `json:"revoke" jsonschema:"revocations the request sends (0 for a sign-off)"`
	Recorded          int             `json:"recorded" jsonschema:"decisions ISC recorded (0 for a sign-off)"`
	Calls             ChangeCalls     `json:"calls"`
	CallRecords       []ChangeCallOut `json:"callRecords" jsonschema:"each ISC call and where it stands"`
	OnBehalf          string          `json:"onBehalf,omitempty"`
	Requester         string          `json:"requester" jsonschema:"who confirmed it, as frontend:id"`
	Error             string          `json:"error,omitempty"`
	Created           string          `json:"created"`
	Updated           string          `json:"updated"`

	waitingFor string
	tasks      []RequestTaskOut
}

// ChangeCalls counts a request's ISC calls by where they stand.
type ChangeCalls struct {
	Calls   int `json:"calls"`
	Done    int `json:"done"`
	Failed  int `json:"failed" jsonschema:"refused by ISC; nothing of them applied"`
	Unknown int `json:"unknown" jsonschema:"sent, answer lost: never resent; certops reads the certification to settle them"`
	NotSent int `json:"notSent"`
	ToSend  int `json:"toSend"`
}

// ChangeCallOut is one ISC call of a request.
type ChangeCallOut struct {
	Call       int      `json:"call" jsonschema:"the call's number, from 1"`
	State      string   `json:"state" jsonschema:"sending, accepted, rejected, unknown, unconfirmed or not_sent"`
	Status     string   `json:"status,omitempty"`
	Errors     []string `json:"errors,omitempty"`
	TrackingID string   `json:"trackingId,omitempty" jsonschema:"SailPoint's tracking id of a refused call"`
}

func changeStatus(r *certs.Request) ChangeStatus {
	p := r.Progress()
	approve, revoke := decisionCounts(&r.Plan)
	out := ChangeStatus{
		ID: r.ID, Kind: string(r.Plan.KindOf()), State: string(r.State), Final: r.State.Final(),
		CertificationID: r.Plan.CertificationID, CertificationName: r.Plan.CertificationName,
		Approve: approve, Revoke: revoke, Recorded: p.ItemsMoved,
		Calls:       ChangeCalls{Calls: p.Calls, Done: p.Done, Failed: p.Failed, Unknown: p.Unknown, NotSent: p.NotSent, ToSend: p.ToSend},
		CallRecords: make([]ChangeCallOut, 0, len(r.Tasks)),
		OnBehalf:    r.Plan.OnBehalf, Requester: actorText(r.Requester), Error: r.Error,
		Created: ts(&r.Created), Updated: ts(&r.Updated), waitingFor: r.WaitingFor,
	}
	for _, t := range r.Tasks {
		out.CallRecords = append(out.CallRecords, ChangeCallOut{Call: t.Call + 1, State: string(t.State), Status: string(t.Status), Errors: t.Errors, TrackingID: t.TrackingID})
		out.tasks = append(out.tasks, RequestTaskOut{Call: t.Call, TaskID: t.TaskID, Status: string(t.Status), Errors: t.Errors, TrackingID: t.TrackingID, state: t.State})
	}
	return out
}

func (s ChangeStatus) text() string {
	var b strings.Builder
	if s.Kind == string(certs.KindSignOff) {
		fmt.Fprintf(&b, "Request %s is %s: sign-off of %q.\n", s.ID, s.State, s.CertificationName)
	} else {
		fmt.Fprintf(&b, "Request %s is %s: %s on %q (approve %d, revoke %d); %d recorded in ISC.\n",
			s.ID, s.State, countOf(s.Approve+s.Revoke, "decision", "decisions"), s.CertificationName, s.Approve, s.Revoke, s.Recorded)
	}
	c := s.Calls
	fmt.Fprintf(&b, "ISC calls: %d done, %d failed", c.Done, c.Failed)
	for _, x := range []struct {
		n    int
		what string
	}{{c.Unknown, "outcome unknown (nothing resubmitted)"}, {c.NotSent, "not sent"}, {c.ToSend, "still to send"}} {
		if x.n > 0 {
			fmt.Fprintf(&b, ", %d %s", x.n, x.what)
		}
	}
	fmt.Fprintf(&b, " of %d.\n", c.Calls)
	if s.waitingFor != "" && !s.Final {
		fmt.Fprintf(&b, "Waiting: the next call is not sent until %s is settled; certops then sends it by itself.\n", waitingText(s.waitingFor))
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", s.Error)
	}
	for _, t := range s.tasks {
		if t.state == certs.CallAccepted && t.Status == string(certs.TaskSuccess) {
			continue // done: counted above
		}
		what := t.standing()
		if what == "" {
			continue
		}
		fmt.Fprintf(&b, "- call %d: %s", t.Call+1, what)
		if t.TrackingID != "" && !strings.Contains(s.Error, t.TrackingID) {
			fmt.Fprintf(&b, " (tracking id %s)", t.TrackingID)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// DecideOut is decide's result.
type DecideOut struct {
	Outcome string        `json:"outcome" jsonschema:"declined, cancelled, completed, failed, or submitted (follow it with get_reassignment_status)"`
	Message string        `json:"message"`
	PlanID  string        `json:"planId"`
	Request *ChangeStatus `json:"request,omitempty"`
}

const (
	// decideInput and signOffInput name the tools' elicitations among a
	// call's input requests.
	decideInput  = "confirm_decisions"
	signOffInput = "confirm_sign_off"

	outcomeConfirmationRequired = "confirmation_required"
)

type decideArgs struct {
	PlanID  string `json:"plan_id"`
	Confirm string `json:"confirm"`
}

func decide(d deps) server.ServerTool {
	tool := newTool("decide",
		mcp.WithDescription("Record a plan_decisions plan in SailPoint, once, by its maker. The person confirms first: the client asks them, "+
			"or, if it cannot, pass confirm = the plan's digest once they agreed. Revocations take effect at sign_off; until then a new plan can change them."),
		idArg("plan_id", "Plan id.", true),
		confirmArg(),
		mcp.WithToolAnnotation(mcp.ToolAnnotation{
			Title:        "Decide review items",
			ReadOnlyHint: mcp.ToBoolPtr(false),
			// Decisions replace decisions already made on the same items,
			// and revocations remove access once the certification is
			// signed off.
			DestructiveHint: mcp.ToBoolPtr(true),
			// A plan is carried out at most once: calling again with the
			// same plan changes nothing more.
			IdempotentHint: mcp.ToBoolPtr(true),
			OpenWorldHint:  mcp.ToBoolPtr(true),
		}),
		mcp.WithOutputSchema[DecideOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[decideArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("plan_id", args.PlanID); err != nil {
			return nil, err
		}
		if err := checkConfirm(args.Confirm); err != nil {
			return nil, err
		}
		plan, err := d.svc.GetPlan(ctx, a, args.PlanID)
		if err != nil {
			return nil, err
		}
		if err := planOfKind(plan, certs.KindDecide, "plan_id"); err != nil {
			return nil, err
		}
		if err := d.notCarriedOut(ctx, a, plan); err != nil {
			return nil, err
		}
		step, err := confirmPlan(ctx, req, plan, args.Confirm, tool.Name, decideInput, func() mcp.ElicitationParams { return decisionQuestion(plan) })
		switch {
		case err != nil:
			return nil, err
		case step.ask != nil:
			return step.ask, nil
		case step.outcome != "":
			d.log.InfoContext(ctx, "decisions not confirmed", "plan", plan.ID, "outcome", step.outcome, "actor", a.ID)
			msg := "The person declined the decisions. Nothing was sent."
			if step.outcome == outcomeCancelled {
				msg = "The person dismissed the confirmation. Nothing was sent."
			}
			out := DecideOut{Outcome: step.outcome, Message: msg, PlanID: plan.ID}
			return result(out, msg+"\n"), nil
		case step.digest == "":
			return nil, invalid("confirm is required: this client cannot ask the person to confirm, so show them the plan (its summary and decisions) and, " +
				"only if they agree, call decide again with confirm set to the plan's digest (from plan_decisions)")
		}

		r, err := d.svc.SubmitPlan(ctx, a, plan.ID, step.digest)
		if err != nil {
			return nil, err
		}
		approve, revoke := decisionCounts(plan)
		d.log.InfoContext(ctx, "decisions confirmed", "actor", a.ID, "role", a.Role, "plan", plan.ID, "request", r.ID,
			"state", r.State, "approve", approve, "revoke", revoke, "certification", plan.CertificationID)
		st := changeStatus(r)
		out := DecideOut{Outcome: outcomeOf(r.State), PlanID: plan.ID, Request: &st}
		switch out.Outcome {
		case outcomeCompleted:
			out.Message = fmt.Sprintf("Recorded in ISC: %s approved and %s revoked in certification %q. Revocations take effect when the certification is signed off.",
				countOf(approve, "item", "items"), countOf(revoke, "item", "items"), plan.CertificationName)
			out.Message += " " + d.nextAfterDeciding(ctx, a, plan.CertificationID)
		case outcomeFailed:
			out.Message = fmt.Sprintf("ISC did not record every decision of request %s. Check the items (list_review_items) before planning again.", r.ID)
		default:
			out.Message = fmt.Sprintf("Confirmed request %s; ISC's answer is not settled yet and nothing is sent twice. Follow it with get_reassignment_status.", r.ID)
			if r.WaitingFor != "" {
				out.Message = fmt.Sprintf("Confirmed request %s, which waits: its next call is not sent until %s is settled; certops then sends it by itself. Follow it with get_reassignment_status.",
					r.ID, waitingText(r.WaitingFor))
			}
		}
		return result(out, out.Message+"\n"+st.text()), nil
	})}
}

// nextAfterDeciding says whether the certification can now be signed off.
func (d deps) nextAfterDeciding(ctx context.Context, a certs.Actor, certID string) string {
	ready, why, err := d.svc.SignOffReady(ctx, a, certID)
	switch {
	case err != nil:
		d.log.WarnContext(ctx, "checking sign-off readiness", "certification", certID, "err", err)
		return ""
	case ready:
		return "Every item is decided: when the person is ready, sign_off signs the certification off (final)."
	}
	return "Not ready to sign off yet: " + why + "."
}

// notCarriedOut refuses, before the person is asked, a plan that was
// filed already (its request has the plan's id): carried out, refused, or
// waiting for approvers. SubmitPlan refuses it too, whatever this finds;
// this only spares the person a question whose answer cannot count. The
// one request it lets through is the caller's own still pending one that
// needs no approver, which SubmitPlan carries on submitting (an earlier
// call stopped before it did).
func (d deps) notCarriedOut(ctx context.Context, a certs.Actor, p *certs.Plan) error {
	r, err := d.svc.GetRequest(ctx, a, p.ID)
	if err != nil {
		return nil
	}
	approval := d.requireApproval && p.KindOf() == certs.KindReassign
	if r.State == certs.StatePending && !approval && a.Same(r.Requester) {
		return nil
	}
	next := "get_reassignment_status with request_id " + r.ID + " shows it; plan again to make another"
	if r.State == certs.StatePending {
		next = "it waits for an approver; get_reassignment_status with request_id " + r.ID + " follows it"
	}
	return certs.Errorf(certs.ECONFLICT, "plan %s was already filed as request %s, which is %s: nothing was asked or sent; %s", p.ID, r.ID, r.State, next)
}

// checkConfirmFor refuses, for a client that asks the person itself, a
// confirm the model passed that is not p's digest: the model has confused
// plans or mistyped it, and should know before the person is asked.
func checkConfirmFor(p *certs.Plan, confirm string) error {
	if confirm == "" || strings.EqualFold(strings.TrimSpace(confirm), p.Digest) {
		return nil
	}
	return invalid("confirm %q is not plan %s's digest: it is mistyped or another plan's. This client asks the person itself, so confirm can be left out", confirm, p.ID)
}

// confirmArg is the digest a client that cannot ask the person passes.
func confirmArg() mcp.ToolOption {
	return mcp.WithString("confirm", mcp.Description("The plan's digest, if the client cannot ask the person."))
}

func checkConfirm(v string) error {
	if len(v) > certs.MaxIDLength {
		return invalid("confirm is %d characters; a plan digest is at most %d", len(v), certs.MaxIDLength)
	}
	return nil
}

// planOfKind refuses a plan of another kind than the tool carries out.
func planOfKind(p *certs.Plan, want certs.ChangeKind, arg string) error {
	if p.KindOf() == want {
		return nil
	}
	use := map[certs.ChangeKind]string{certs.KindReassign: "reassign", certs.KindDecide: "decide", certs.KindSignOff: "sign_off"}[p.KindOf()]
	return invalid("%s %s is a %s plan, not a %s plan; carry it out with %s", arg, p.ID, p.KindOf(), want, use)
}

// confirmStep is what confirmPlan found: a digest to submit with, a
// question to return to the client, or the person's refusal.
type confirmStep struct {
	digest  string
	ask     *mcp.CallToolResult
	outcome string // declined or cancelled
}

// planState is what a question's retry must echo: the plan shown and its
// digest.
func planState(p *certs.Plan) string { return p.ID + "|" + p.Digest }

// confirmPlan applies reassign's rules of confirmation to plan p: the
// person's answer to the question asked earlier (whose state must name p
// as shown), else asking them when the client can (confirm or not: a model
// cannot skip the person), else the digest the client passed. An empty
// step means the client cannot ask and passed no digest.
func confirmPlan(ctx context.Context, req mcp.CallToolRequest, p *certs.Plan, confirm, toolName, input string, question func() mcp.ElicitationParams) (confirmStep, error) {
	if answer := server.ElicitationResponse(req.Params.InputResponses, input); answer != nil {
		if req.Params.RequestState != planState(p) {
			return confirmStep{}, certs.Errorf(certs.ECONFLICT, "the confirmation answered was for another plan, or another version of plan %s; call %s again", p.ID, toolName)
		}
		if outcome, _ := declined(answer); outcome != "" {
			return confirmStep{outcome: outcome}, nil
		}
		return confirmStep{digest: p.Digest}, nil
	}
	if clientCanElicit(ctx) {
		if err := checkConfirmFor(p, confirm); err != nil {
			return confirmStep{}, err
		}
		return confirmStep{ask: server.NewInputRequestBuilder(planState(p)).Elicit(input, question()).ToolResult()}, nil
	}
	return confirmStep{digest: confirm}, nil
}

// decisionQuestion is what the person is asked before decisions are sent:
// the plan's own summary, what is approved and revoked by identity
// (bounded for a large plan), and its warnings.
func decisionQuestion(p *certs.Plan) mcp.ElicitationParams {
	approve, revoke := decisionCounts(p)
	listed, not := bounded(groupDecisions(p), p.ItemCount, askListing)
	var lines strings.Builder
	decisionLines(&lines, listed, not)
	var b strings.Builder
	fmt.Fprintf(&b, "Record these decisions in SailPoint?\n\n%s\n\n%s", p.Summary, strings.TrimRight(lines.String(), "\n"))
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s", w)
	}
	if revoke > 0 {
		b.WriteString("\n\nRevoked access is removed when the certification is signed off; until then a decision can be changed.")
	}
	return mcp.ElicitationParams{
		Message: b.String(),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{
					"type":        "boolean",
					"title":       "Record these decisions",
					"description": fmt.Sprintf("Approve %s and revoke %s", countOf(approve, "item", "items"), countOf(revoke, "item", "items")),
					"default":     true,
				},
			},
		},
	}
}

// SignOffOut is sign_off's result.
type SignOffOut struct {
	Outcome         string        `json:"outcome" jsonschema:"confirmation_required, declined, cancelled, completed, failed, or submitted (follow it with get_reassignment_status)"`
	Message         string        `json:"message"`
	CertificationID string        `json:"certificationId"`
	PlanID          string        `json:"planId"`
	Digest          string        `json:"digest,omitempty" jsonschema:"confirm, once the person agreed"`
	Summary         string        `json:"summary" jsonschema:"show it to the person"`
	Decisions       *SignOffTally `json:"decisions,omitempty" jsonschema:"what becomes final"`
	Request         *ChangeStatus `json:"request,omitempty"`
}

// SignOffTally is what signing off makes final.
type SignOffTally struct {
	Approve          int          `json:"approve"`
	Revoke           int          `json:"revoke"`
	Revoked          []RevokedOut `json:"revoked" jsonschema:"the revocations ISC carries out after sign-off (the first few)"`
	RevokedNotListed int          `json:"revokedNotListed" jsonschema:"revocations beyond those listed"`
}

// RevokedOut is one revocation a sign-off makes final.
type RevokedOut struct {
	ItemID     string `json:"itemId"`
	Identity   string `json:"identity"`
	AccessType string `json:"accessType"`
	AccessName string `json:"accessName"`
	Source     string `json:"source,omitempty"`
	Privileged bool   `json:"privileged"`
	Comments   string `json:"comments,omitempty"`
}

// maxRevokedShown bounds the revocations a sign-off question lists.
const maxRevokedShown = 25

type signOffArgs struct {
	CertificationID string `json:"certification_id"`
	PlanID          string `json:"plan_id"`
	Confirm         string `json:"confirm"`
	OnBehalf        string `json:"on_behalf"`
}

func signOff(d deps) server.ServerTool {
	tool := newTool("sign_off",
		mcp.WithDescription("Sign a certification off once every item is decided: final, and ISC then removes the revoked access. "+
			"The person confirms first: the client asks them, or the answer is confirmation_required with the plan; "+
			"call again with plan_id and confirm = its digest once they agreed."),
		idArg("certification_id", "Certification id.", true),
		idArg("plan_id", "From a confirmation_required answer.", false),
		confirmArg(),
		onBehalfArg("signing off"),
		mcp.WithToolAnnotation(mcp.ToolAnnotation{
			Title:        "Sign a certification off",
			ReadOnlyHint: mcp.ToBoolPtr(false),
			// Final: decisions can no longer change, and ISC removes the
			// revoked access.
			DestructiveHint: mcp.ToBoolPtr(true),
			// Each call without plan_id stores a new plan.
			IdempotentHint: mcp.ToBoolPtr(false),
			OpenWorldHint:  mcp.ToBoolPtr(true),
		}),
		mcp.WithOutputSchema[SignOffOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[signOffArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		if args.PlanID != "" {
			if err := checkID("plan_id", args.PlanID); err != nil {
				return nil, err
			}
		}
		if err := checkConfirm(args.Confirm); err != nil {
			return nil, err
		}
		if err := certs.ValidateText("on_behalf", args.OnBehalf, onBehalfRule); err != nil {
			return nil, err
		}
		plan, err := d.signOffPlan(ctx, a, req, args)
		if err != nil {
			return nil, err
		}
		step, err := confirmPlan(ctx, req, plan, args.Confirm, tool.Name, signOffInput, func() mcp.ElicitationParams {
			return signOffQuestion(plan, d.signOffTally(ctx, a, plan.CertificationID))
		})
		out := SignOffOut{CertificationID: plan.CertificationID, PlanID: plan.ID, Summary: plan.Summary}
		switch {
		case err != nil:
			return nil, err
		case step.ask != nil:
			return step.ask, nil
		case step.outcome != "":
			d.log.InfoContext(ctx, "sign-off not confirmed", "plan", plan.ID, "outcome", step.outcome, "actor", a.ID)
			out.Outcome, out.Message = step.outcome, "The person declined the sign-off. Nothing was sent."
			if step.outcome == outcomeCancelled {
				out.Message = "The person dismissed the confirmation. Nothing was sent."
			}
			return result(out, out.Message+"\n"), nil
		case step.digest == "":
			// This client cannot ask: the plan goes back to the model, to
			// show the person before confirming with its digest.
			out.Outcome, out.Digest, out.Decisions = outcomeConfirmationRequired, plan.Digest, d.signOffTally(ctx, a, plan.CertificationID)
			out.Message = "Nothing was signed off. Show the person this sign-off and what it makes final; only if they agree, call sign_off again with plan_id and confirm set to the digest."
			var b strings.Builder
			fmt.Fprintf(&b, "Sign-off plan %s (nothing has changed yet):\n%s\n", plan.ID, plan.Summary)
			tallyLines(&b, out.Decisions)
			fmt.Fprintf(&b, "Digest: %s\n%s\n", plan.Digest, out.Message)
			return result(out, b.String()), nil
		}

		r, err := d.svc.SubmitPlan(ctx, a, plan.ID, step.digest)
		if err != nil {
			return nil, err
		}
		d.log.InfoContext(ctx, "sign-off confirmed", "actor", a.ID, "role", a.Role, "plan", plan.ID, "request", r.ID, "state", r.State, "certification", plan.CertificationID)
		st := changeStatus(r)
		out.Outcome, out.Request = outcomeOf(r.State), &st
		switch out.Outcome {
		case outcomeCompleted:
			out.Message = fmt.Sprintf("Signed off: certification %q. Its decisions are final, and ISC now removes the revoked access.", plan.CertificationName)
		case outcomeFailed:
			out.Message = fmt.Sprintf("ISC did not sign certification %q off (request %s). Check get_certification before trying again.", plan.CertificationName, r.ID)
		default:
			out.Message = fmt.Sprintf("Confirmed request %s; ISC's answer is not settled yet and nothing is sent twice. Follow it with get_reassignment_status.", r.ID)
			if r.WaitingFor != "" {
				out.Message = fmt.Sprintf("Confirmed request %s, which waits: it is not sent until %s is settled; certops then sends it by itself. Follow it with get_reassignment_status.",
					r.ID, waitingText(r.WaitingFor))
			}
		}
		return result(out, out.Message+"\n"+st.text()), nil
	})}
}

// signOffPlan finds the sign-off plan a call is about: the one named in the
// answered question's state, the one passed as plan_id, or a new one when
// ISC would accept the sign-off now.
func (d deps) signOffPlan(ctx context.Context, a certs.Actor, req mcp.CallToolRequest, args signOffArgs) (*certs.Plan, error) {
	planID := args.PlanID
	if server.ElicitationResponse(req.Params.InputResponses, signOffInput) != nil {
		id, _, ok := strings.Cut(req.Params.RequestState, "|")
		if !ok || certs.ValidateID("plan id", id) != nil {
			return nil, certs.Errorf(certs.ECONFLICT, "the confirmation answered is not one this server asked for; call sign_off again")
		}
		planID = id
	}
	if planID != "" {
		p, err := d.svc.GetPlan(ctx, a, planID)
		if err != nil {
			return nil, err
		}
		if err := planOfKind(p, certs.KindSignOff, "plan_id"); err != nil {
			return nil, err
		}
		if p.CertificationID != args.CertificationID {
			return nil, invalid("plan_id %s signs off certification %s, not certification_id %s", p.ID, p.CertificationID, args.CertificationID)
		}
		if err := d.notCarriedOut(ctx, a, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	ready, why, err := d.svc.SignOffReady(ctx, a, args.CertificationID)
	if err != nil {
		return nil, err
	}
	if !ready {
		return nil, invalid("certification %s cannot be signed off: %s. Nothing was signed. When items are left, decide them first "+
			"(list_review_items with status open, plan_decisions, decide); when an ISC task is pending, wait for it (list_pending_tasks); then call sign_off again",
			args.CertificationID, why)
	}
	p, err := d.svc.PlanSignOff(ctx, a, args.CertificationID, args.OnBehalf)
	return p, namingOnBehalf(err)
}

// namingOnBehalf names the argument in the Service's refusals about acting
// on the reviewer's behalf, which speak of "a reason".
func namingOnBehalf(err error) error {
	code, msg := certs.ErrorCode(err), certs.ErrorMessage(err)
	if err == nil || (code != certs.EFORBIDDEN && code != certs.EINVALID) || !strings.Contains(msg, "behalf") {
		return err
	}
	return &certs.Error{Code: code, Message: msg + " (the argument on_behalf)", Err: err}
}

// signOffTally reads the decisions a sign-off makes final, a page of ISC's
// largest at a time. It is shown to the person, never required: when it
// cannot be read, the question says so.
func (d deps) signOffTally(ctx context.Context, a certs.Actor, certID string) *SignOffTally {
	const pageSize = 250
	done := true
	t := &SignOffTally{Revoked: []RevokedOut{}}
	for offset := 0; offset < maxCursorOffset; offset += pageSize {
		page, err := d.svc.ListReviewItems(ctx, a, certID, certs.ReviewItemFilter{Completed: &done, Page: certs.PageOptions{Offset: offset, Limit: pageSize}})
		if err != nil {
			d.log.WarnContext(ctx, "reading the decisions a sign-off makes final", "certification", certID, "err", err)
			return nil
		}
		for _, it := range page.Items {
			if it.Decision != certs.DecisionRevoke {
				t.Approve++
				continue
			}
			t.Revoke++
			if len(t.Revoked) == maxRevokedShown {
				t.RevokedNotListed++
				continue
			}
			t.Revoked = append(t.Revoked, RevokedOut{ItemID: it.ID, Identity: it.IdentitySummary.Name, AccessType: string(it.Access.Type),
				AccessName: it.Access.Name, Source: it.Access.SourceName, Privileged: it.Access.Privileged, Comments: it.Comments})
		}
		if len(page.Items) < pageSize {
			break
		}
	}
	return t
}

func tallyLines(b *strings.Builder, t *SignOffTally) {
	if t == nil {
		b.WriteString("(The decisions could not be read just now; list_review_items with status completed shows them.)\n")
		return
	}
	fmt.Fprintf(b, "It makes final: %s approved and %s revoked.\n", countOf(t.Approve, "item", "items"), countOf(t.Revoke, "item", "items"))
	if len(t.Revoked) > 0 {
		b.WriteString("Access ISC removes after sign-off:\n")
	}
	for _, r := range t.Revoked {
		fmt.Fprintf(b, "- %s: %s [%s]", r.Identity, accessPhrase(r.AccessType, r.AccessName, r.Source, r.Privileged, false), r.ItemID)
		if r.Comments != "" {
			fmt.Fprintf(b, ", comment %q", r.Comments)
		}
		b.WriteByte('\n')
	}
	if t.RevokedNotListed > 0 {
		fmt.Fprintf(b, "… and %s more.\n", countOf(t.RevokedNotListed, "revocation", "revocations"))
	}
}

// signOffQuestion is what the person is asked before a sign-off is sent.
func signOffQuestion(p *certs.Plan, t *SignOffTally) mcp.ElicitationParams {
	var b strings.Builder
	fmt.Fprintf(&b, "Sign off certification %q? This is final.\n\n%s\n\n", p.CertificationName, p.Summary)
	tallyLines(&b, t)
	b.WriteString("\nAfter sign-off no decision can be changed.")
	return mcp.ElicitationParams{
		Message: b.String(),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{
					"type":        "boolean",
					"title":       "Sign off (final)",
					"description": fmt.Sprintf("Sign off %q: its decisions become final", p.CertificationName),
					// Final: the person ticks it themselves.
					"default": false,
				},
			},
		},
	}
}
