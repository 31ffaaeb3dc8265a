package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// Evidence: what a careful reviewer looks at before deciding an item
// (certs.ItemEvidence), from facts only. Remarks say which facts they come
// from; nothing here recommends a decision.

// ItemEvidenceOut is the evidence for one review item.
type ItemEvidenceOut struct {
	ItemID      string            `json:"itemId"`
	Identity    EvidenceIdentity  `json:"identity" jsonschema:"whose access the item reviews"`
	Manager     *Person           `json:"manager,omitempty" jsonschema:"the identity's manager, where the tenant has one"`
	Access      EvidenceAccess    `json:"access"`
	NewAccess   bool              `json:"newAccess" jsonschema:"the access was granted since the last review"`
	Peers       int               `json:"peers" jsonschema:"how many other identities in this certification hold the same access"`
	Permissions *EvidencePerms    `json:"permissions,omitempty" jsonschema:"what the entitlement grants (the first few; get_item_permissions has them all); only when one item is asked for"`
	Reassigned  *EvidenceReassign `json:"reassigned,omitempty" jsonschema:"how the item came to this reviewer, when it came by a reassignment"`
	Decision    *EvidenceDecision `json:"decision,omitempty" jsonschema:"the decision already made; absent while the item is open"`
	Remarks     []RemarkOut       `json:"remarks" jsonschema:"what certops points out, each with the facts it comes from; never a recommendation"`
}

// EvidenceIdentity is the identity a review item is about.
type EvidenceIdentity struct {
	SummaryID  string `json:"summaryId" jsonschema:"the identity summary id within this certification"`
	IdentityID string `json:"identityId" jsonschema:"the ISC identity id (use it in plan_decisions select.identity_ids)"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
}

// EvidenceAccess is what an item reviews, with its description.
type EvidenceAccess struct {
	Type           string `json:"type" jsonschema:"ENTITLEMENT, ACCESS_PROFILE or ROLE"`
	ID             string `json:"id"`
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	Source         string `json:"source,omitempty"`
	Privileged     bool   `json:"privileged"`
	HasPermissions bool   `json:"hasPermissions" jsonschema:"the entitlement carries permissions"`
}

// EvidencePerms is the start of what an entitlement grants.
type EvidencePerms struct {
	Shown []PermissionOut `json:"shown"`
	Total int             `json:"total" jsonschema:"how many permissions the entitlement carries, -1 if unknown"`
}

// EvidenceReassign is how an item came to its reviewer.
type EvidenceReassign struct {
	From      string `json:"from" jsonschema:"the former reviewer"`
	Reason    string `json:"reason,omitempty"`
	Source    string `json:"source" jsonschema:"certops (a request made through certops) or ISC (the certification's own reassignment)"`
	RequestID string `json:"requestId,omitempty"`
	By        string `json:"by,omitempty" jsonschema:"who asked for it, for a certops request"`
}

// EvidenceDecision is a decision already made on an item.
type EvidenceDecision struct {
	Decision  string `json:"decision" jsonschema:"APPROVE or REVOKE"`
	Comments  string `json:"comments,omitempty"`
	By        string `json:"by,omitempty" jsonschema:"who decided, when it was decided through certops"`
	At        string `json:"at,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// RemarkOut is something worth a reviewer's attention and its facts.
type RemarkOut struct {
	Text  string   `json:"text"`
	Facts []string `json:"facts"`
}

// ItemEvidenceList is get_review_item's result.
type ItemEvidenceList struct {
	CertificationID string            `json:"certificationId"`
	Items           []ItemEvidenceOut `json:"items"`
	Total           int               `json:"total" jsonschema:"-1 if unknown"`
	NextCursor      string            `json:"nextCursor,omitempty"`
}

func evidenceOut(ev *certs.ItemEvidence) ItemEvidenceOut {
	it := ev.Item
	out := ItemEvidenceOut{
		ItemID:   it.ID,
		Identity: EvidenceIdentity{SummaryID: it.IdentitySummary.ID, IdentityID: ev.Identity.ID, Name: ev.Identity.Name, Email: ev.Identity.Email},
		Access: EvidenceAccess{Type: string(it.Access.Type), ID: it.Access.ID, Name: it.Access.Name, Description: it.Access.Description,
			Source: it.Access.SourceName, Privileged: it.Access.Privileged, HasPermissions: it.Access.HasPermissions},
		NewAccess: it.NewAccess,
		Peers:     ev.Peers,
		Remarks:   make([]RemarkOut, 0, len(ev.Remarks)),
	}
	if m := ev.Manager; m != nil {
		out.Manager = &Person{ID: m.ID, Name: m.Name, Email: m.Email}
	}
	if r := ev.Reassigned; r != nil {
		out.Reassigned = &EvidenceReassign{From: r.From, Reason: r.Reason, Source: r.Source, RequestID: r.RequestID, By: r.By}
	}
	if d := ev.Decided; d != nil {
		out.Decision = &EvidenceDecision{Decision: string(d.Decision), Comments: d.Comments, By: d.By, At: d.At, RequestID: d.RequestID}
	}
	for _, r := range ev.Remarks {
		facts := r.Facts
		if facts == nil {
			facts = []string{}
		}
		out.Remarks = append(out.Remarks, RemarkOut{Text: r.Text, Facts: facts})
	}
	return out
}

// text renders one item's evidence in a few lines.
func (e ItemEvidenceOut) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- item %s: %s", e.ItemID, e.Identity.Name)
	if e.Identity.Email != "" {
		fmt.Fprintf(&b, " <%s>", e.Identity.Email)
	}
	fmt.Fprintf(&b, " [identity %s]", e.Identity.IdentityID)
	if e.Manager != nil {
		fmt.Fprintf(&b, ", manager %s", e.Manager.Name)
		if e.Manager.Email != "" {
			fmt.Fprintf(&b, " <%s>", e.Manager.Email)
		}
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "  Access: %s", accessPhrase(e.Access.Type, e.Access.Name, e.Access.Source, e.Access.Privileged, e.NewAccess))
	if e.Access.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Access.Description)
	}
	b.WriteByte('\n')
	if p := e.Permissions; p != nil && len(p.Shown) > 0 {
		var grants []string
		for _, g := range p.Shown {
			grants = append(grants, g.Target+": "+strings.Join(g.Rights, ", "))
		}
		fmt.Fprintf(&b, "  Grants: %s", strings.Join(grants, "; "))
		if p.Total > len(p.Shown) {
			fmt.Fprintf(&b, " (%d of %d; get_item_permissions shows the rest)", len(p.Shown), p.Total)
		}
		b.WriteByte('\n')
	} else if e.Access.HasPermissions && p == nil {
		b.WriteString("  Grants permissions: see get_item_permissions.\n")
	}
	fmt.Fprintf(&b, "  Held by %s in this certification.\n", countOf(e.Peers, "other identity", "other identities"))
	if r := e.Reassigned; r != nil {
		fmt.Fprintf(&b, "  Came to this reviewer by a reassignment from %s", r.From)
		if r.RequestID != "" {
			fmt.Fprintf(&b, " (certops request %s, asked by %s)", r.RequestID, r.By)
		} else {
			fmt.Fprintf(&b, " (in %s)", r.Source)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, ": %s", r.Reason)
		}
		b.WriteByte('\n')
	}
	if d := e.Decision; d != nil {
		fmt.Fprintf(&b, "  Decided: %s", d.Decision)
		if d.By != "" {
			fmt.Fprintf(&b, " by %s", d.By)
		}
		if d.At != "" {
			fmt.Fprintf(&b, " on %s", d.At)
		}
		if d.Comments != "" {
			fmt.Fprintf(&b, ", comment %q", d.Comments)
		}
		b.WriteString(" (it may be changed until sign-off)\n")
	} else {
		b.WriteString("  Not decided yet.\n")
	}
	for _, r := range e.Remarks {
		fmt.Fprintf(&b, "  Note: %s (from: %s)\n", r.Text, strings.Join(r.Facts, "; "))
	}
	return b.String()
}

// accessText names a piece of access in one phrase.
func accessPhrase(typ, name, source string, privileged, newAccess bool) string {
	s := fmt.Sprintf("%s %q", typ, name)
	if source != "" {
		s += " on " + source
	}
	if privileged {
		s += " · privileged"
	}
	if newAccess {
		s += " · new since the last review"
	}
	return s
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

type reviewItemArgs struct {
	CertificationID   string `json:"certification_id"`
	ItemID            string `json:"item_id"`
	IdentitySummaryID string `json:"identity_summary_id"`
	Status            string `json:"status"`
	Limit             *int   `json:"limit"`
	Cursor            string `json:"cursor"`
}

// Evidence pages are small: each item is several lines for a model to read.
const (
	defaultEvidenceLimit = 10
	maxEvidenceLimit     = 25
	// evidencePermissions is how many of an entitlement's permissions the
	// evidence of one item shows.
	evidencePermissions = 10
)

func getReviewItem(d deps) server.ServerTool {
	tool := newTool("get_review_item",
		mcp.WithDescription("The evidence for deciding review items, facts only (certops never recommends a decision): the identity and manager, "+
			"the access and what it grants, new or privileged, how many others hold it, how it came to this reviewer, any decision made. "+
			"Give item_id, or identity_summary_id for a page of one identity's items."),
		idArg("certification_id", "Certification id.", true),
		idArg("item_id", "One item.", false),
		idArg("identity_summary_id", "One identity's items (identity.summaryId).", false),
		statusArg(statusOpen, "decided"),
		mcp.WithInteger("limit",
			mcp.Description(fmt.Sprintf("Default %d.", defaultEvidenceLimit)),
			mcp.Min(1), mcp.Max(maxEvidenceLimit)),
		cursorArg(),
		readAnnotations("Get the evidence for review items", true),
		mcp.WithOutputSchema[ItemEvidenceList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[reviewItemArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		switch {
		case args.ItemID != "" && args.IdentitySummaryID != "":
			return nil, invalid("give either item_id or identity_summary_id, not both")
		case args.ItemID != "":
			if err := checkID("item_id", args.ItemID); err != nil {
				return nil, err
			}
			for name, set := range map[string]bool{"status": args.Status != "", "limit": args.Limit != nil, "cursor": args.Cursor != ""} {
				if set {
					return nil, invalid("%s goes with identity_summary_id, not with item_id (one item has no pages)", name)
				}
			}
			return d.itemEvidence(ctx, a, args.CertificationID, args.ItemID)
		case args.IdentitySummaryID != "":
			if err := checkID("identity_summary_id", args.IdentitySummaryID); err != nil {
				return nil, err
			}
			return d.identityEvidence(ctx, a, tool.Name, args)
		}
		return nil, invalid("item_id or identity_summary_id is required")
	})}
}

// itemEvidence is the evidence of one item, with the start of what its
// entitlement grants.
func (d deps) itemEvidence(ctx context.Context, a certs.Actor, certID, itemID string) (*mcp.CallToolResult, error) {
	ev, err := d.svc.GetItemEvidence(ctx, a, certID, itemID)
	if err != nil {
		return nil, err
	}
	e := evidenceOut(ev)
	if e.Access.HasPermissions {
		page, err := d.svc.ListItemPermissions(ctx, a, certID, itemID, certs.PermissionFilter{Page: certs.PageOptions{Limit: evidencePermissions, Count: true}})
		if err != nil {
			return nil, err
		}
		e.Permissions = &EvidencePerms{Shown: make([]PermissionOut, 0, len(page.Items)), Total: page.Total}
		for _, p := range page.Items {
			rights := p.Rights
			if rights == nil {
				rights = []string{}
			}
			e.Permissions.Shown = append(e.Permissions.Shown, PermissionOut{Target: p.Target, Rights: rights})
		}
	}
	out := ItemEvidenceList{CertificationID: certID, Items: []ItemEvidenceOut{e}, Total: 1}
	text := fmt.Sprintf("Evidence for review item %s of certification %s (facts only; certops recommends no decision):\n%s", itemID, certID, e.text())
	return result(out, text), nil
}

// identityEvidence is the evidence of a page of one identity's items.
func (d deps) identityEvidence(ctx context.Context, a certs.Actor, toolName string, args reviewItemArgs) (*mcp.CallToolResult, error) {
	completed, status, err := completedFilter(args.Status, statusOpen)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(args.Limit, defaultEvidenceLimit, maxEvidenceLimit)
	if err != nil {
		return nil, err
	}
	key := queryKey(toolName, args.CertificationID, args.IdentitySummaryID, status)
	offset, err := decodeCursor(args.Cursor, key)
	if err != nil {
		return nil, err
	}
	page, err := d.svc.ListReviewItems(ctx, a, args.CertificationID, certs.ReviewItemFilter{
		IdentitySummaryIDs: []string{args.IdentitySummaryID}, Completed: completed,
		Page: certs.PageOptions{Offset: offset, Limit: limit, Count: true},
	})
	if err != nil {
		return nil, err
	}
	out := ItemEvidenceList{CertificationID: args.CertificationID, Items: make([]ItemEvidenceOut, 0, len(page.Items)), Total: page.Total}
	if len(page.Items) > 0 {
		ids := make([]string, len(page.Items))
		for i, it := range page.Items {
			ids[i] = it.ID
		}
		// One read of the certification's items for the whole page (never
		// a call per item); an empty list would mean every item.
		evs, err := d.svc.ListEvidence(ctx, a, args.CertificationID, ids)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			out.Items = append(out.Items, evidenceOut(&evs[i]))
		}
	}
	var b strings.Builder
	who := args.IdentitySummaryID
	if len(out.Items) > 0 {
		who = fmt.Sprintf("%s (identity summary %s)", out.Items[0].Identity.Name, args.IdentitySummaryID)
	}
	fmt.Fprintf(&b, "Evidence for the %s review items of %s in certification %s (facts only; certops recommends no decision): %s.\n",
		status, who, args.CertificationID, countText(offset, len(out.Items), page.Total))
	for _, e := range out.Items {
		b.WriteString(e.text())
	}
	out.NextCursor = nextCursor(offset, len(page.Items), page.Total, limit, key)
	if out.NextCursor != "" {
		fmt.Fprintf(&b, "More: call again with cursor %q.\n", out.NextCursor)
	}
	return result(out, b.String()), nil
}
