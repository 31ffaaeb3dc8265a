package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// ItemRow is one review item: an identity's access to one thing.
type ItemRow struct {
	ID        string    `json:"id"`
	Identity  ItemOwner `json:"identity"`
	Access    AccessOut `json:"access"`
	Completed bool      `json:"completed"`
	Decision  string    `json:"decision,omitempty" jsonschema:"APPROVE or REVOKE once decided"`
	NewAccess bool      `json:"newAccess" jsonschema:"the access was granted since the last campaign"`
}

// ItemOwner is the identity a review item is about.
type ItemOwner struct {
	SummaryID  string `json:"summaryId" jsonschema:"the identity summary id within this certification (use it in plan_reassignment identity_summary_ids)"`
	IdentityID string `json:"identityId"`
	Name       string `json:"name"`
}

// AccessOut is what an item reviews.
type AccessOut struct {
	Type           string `json:"type" jsonschema:"ENTITLEMENT, ACCESS_PROFILE or ROLE"`
	ID             string `json:"id"`
	Name           string `json:"name"`
	Source         string `json:"source,omitempty"`
	Privileged     bool   `json:"privileged,omitempty"`
	HasPermissions bool   `json:"hasPermissions,omitempty" jsonschema:"the entitlement carries permissions: see get_item_permissions"`
}

// ItemList is list_review_items' result.
type ItemList struct {
	CertificationID string    `json:"certificationId"`
	Items           []ItemRow `json:"items"`
	Total           int       `json:"total" jsonschema:"-1 if unknown"`
	NextCursor      string    `json:"nextCursor,omitempty"`
}

type listItemsArgs struct {
	CertificationID   string `json:"certification_id"`
	IdentityName      string `json:"identity_name"`
	IdentitySummaryID string `json:"identity_summary_id"`
	AccessType        string `json:"access_type"`
	AccessName        string `json:"access_name"`
	Status            string `json:"status"`
	Limit             *int   `json:"limit"`
	Cursor            string `json:"cursor"`
}

func accessTypeNames() []string {
	out := make([]string, len(certs.AccessTypes))
	for i, t := range certs.AccessTypes {
		out[i] = string(t)
	}
	return out
}

func listReviewItems(d deps) server.ServerTool {
	tool := newTool("list_review_items",
		mcp.WithDescription("List a certification's review items (an identity's access to approve or revoke), with identity ids and summary ids."),
		idArg("certification_id", "Certification id.", true),
		prefixArg("identity_name", "Identity name"),
		idArg("identity_summary_id", "Only this identity's items (identity.summaryId).", false),
		mcp.WithString("access_type", mcp.Description("Kind of access."), mcp.Enum(accessTypeNames()...)),
		prefixArg("access_name", "Access name"),
		statusArg(statusOpen, "decided"),
		limitArg(),
		cursorArg(),
		readAnnotations("List review items", true),
		mcp.WithOutputSchema[ItemList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[listItemsArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		f := certs.ReviewItemFilter{IdentityName: args.IdentityName, AccessName: args.AccessName}
		if err := checkText("identity_name", args.IdentityName, maxFilterLen); err != nil {
			return nil, err
		}
		if err := checkText("access_name", args.AccessName, maxFilterLen); err != nil {
			return nil, err
		}
		if args.IdentitySummaryID != "" {
			if err := checkID("identity_summary_id", args.IdentitySummaryID); err != nil {
				return nil, err
			}
			f.IdentitySummaryIDs = []string{args.IdentitySummaryID}
		}
		if args.AccessType != "" {
			ok := false
			for _, t := range certs.AccessTypes {
				if string(t) == args.AccessType {
					ok = true
				}
			}
			if !ok {
				return nil, invalid("access_type must be one of %s; got %q", strings.Join(accessTypeNames(), ", "), args.AccessType)
			}
			f.AccessType = certs.AccessType(args.AccessType)
		}
		var status string
		if f.Completed, status, err = completedFilter(args.Status, statusOpen); err != nil {
			return nil, err
		}
		limit, err := pageLimit(args.Limit, defaultLimit, maxLimit)
		if err != nil {
			return nil, err
		}
		key := queryKey(tool.Name, args.CertificationID, args.IdentityName, args.IdentitySummaryID, args.AccessType, args.AccessName, status)
		offset, err := decodeCursor(args.Cursor, key)
		if err != nil {
			return nil, err
		}
		f.Page = certs.PageOptions{Offset: offset, Limit: limit, Count: true}
		page, err := d.svc.ListReviewItems(ctx, a, args.CertificationID, f)
		if err != nil {
			return nil, err
		}
		out := ItemList{CertificationID: args.CertificationID, Items: make([]ItemRow, 0, len(page.Items)), Total: page.Total}
		var b strings.Builder
		fmt.Fprintf(&b, "Review items (%s) of certification %s: %s.\n", status, args.CertificationID, countText(offset, len(page.Items), page.Total))
		var owners []ItemOwner
		seen := map[string]bool{}
		for _, it := range page.Items {
			row := ItemRow{
				ID:        it.ID,
				Identity:  ItemOwner{SummaryID: it.IdentitySummary.ID, IdentityID: it.IdentitySummary.IdentityID, Name: it.IdentitySummary.Name},
				Access:    AccessOut{Type: string(it.Access.Type), ID: it.Access.ID, Name: it.Access.Name, Source: it.Access.SourceName, Privileged: it.Access.Privileged, HasPermissions: it.Access.HasPermissions},
				Completed: it.Completed, Decision: string(it.Decision), NewAccess: it.NewAccess,
			}
			out.Items = append(out.Items, row)
			if !seen[row.Identity.SummaryID] {
				seen[row.Identity.SummaryID] = true
				owners = append(owners, row.Identity)
			}
			fmt.Fprintf(&b, "- %s [%s] · %s %q", row.Identity.Name, row.ID, row.Access.Type, row.Access.Name)
			if row.Access.Source != "" {
				fmt.Fprintf(&b, " on %s", row.Access.Source)
			}
			if row.Access.Privileged {
				b.WriteString(" · privileged")
			}
			if row.Decision != "" {
				b.WriteString(" · " + row.Decision)
			}
			b.WriteByte('\n')
		}
		// Each identity's ids once: identity_ids (plan_decisions select,
		// plan_reassignment) take the identity id, identity_summary_id
		// (get_review_item, plan_reassignment) the summary id.
		if len(owners) > 0 {
			b.WriteString("Identities (identity id · identity summary id):\n")
			for _, o := range owners {
				fmt.Fprintf(&b, "- %s: %s · %s\n", o.Name, o.IdentityID, o.SummaryID)
			}
		}
		out.NextCursor = nextCursor(offset, len(page.Items), page.Total, limit, key)
		if out.NextCursor != "" {
			fmt.Fprintf(&b, "More: call again with cursor %q.\n", out.NextCursor)
		}
		return result(out, b.String()), nil
	})}
}

// PermissionList is get_item_permissions' result.
type PermissionList struct {
	CertificationID string          `json:"certificationId"`
	ItemID          string          `json:"itemId"`
	Permissions     []PermissionOut `json:"permissions"`
	Total           int             `json:"total" jsonschema:"-1 if unknown"`
	NextCursor      string          `json:"nextCursor,omitempty"`
}

// PermissionOut is what an entitlement grants on one target.
type PermissionOut struct {
	Target string   `json:"target" jsonschema:"what the rights apply to, e.g. a database table or a file share"`
	Rights []string `json:"rights"`
}

type permissionsArgs struct {
	CertificationID string   `json:"certification_id"`
	ItemID          string   `json:"item_id"`
	Target          string   `json:"target"`
	TargetMatch     string   `json:"target_match"`
	Rights          []string `json:"rights"`
	Limit           *int     `json:"limit"`
	Cursor          string   `json:"cursor"`
}

const maxRightsFilter = 10

func getItemPermissions(d deps) server.ServerTool {
	tool := newTool("get_item_permissions",
		mcp.WithDescription("Show what an entitlement item (access.hasPermissions) grants: rights on targets, e.g. SELECT on a table."),
		idArg("certification_id", "Certification id.", true),
		idArg("item_id", "Review item id.", true),
		mcp.WithString("target", mcp.Description("Only this target."), mcp.MaxLength(maxFilterLen)),
		mcp.WithString("target_match", mcp.Description("Default exact."), mcp.Enum("exact", "prefix")),
		mcp.WithArray("rights", mcp.Description("Only permissions with all these rights."),
			mcp.MaxItems(maxRightsFilter), mcp.WithStringItems(mcp.MaxLength(100))),
		limitArg(),
		cursorArg(),
		readAnnotations("Get item permissions", true),
		mcp.WithOutputSchema[PermissionList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[permissionsArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		if err := checkID("item_id", args.ItemID); err != nil {
			return nil, err
		}
		if err := checkText("target", args.Target, maxFilterLen); err != nil {
			return nil, err
		}
		f := certs.PermissionFilter{Target: args.Target}
		switch args.TargetMatch {
		case "", "exact":
		case "prefix":
			f.TargetPrefix = true
		default:
			return nil, invalid("target_match must be exact or prefix; got %q", args.TargetMatch)
		}
		if args.TargetMatch != "" && args.Target == "" {
			return nil, invalid("target_match needs target")
		}
		if len(args.Rights) > maxRightsFilter {
			return nil, invalid("rights has %d entries; at most %d are allowed", len(args.Rights), maxRightsFilter)
		}
		for i, r := range args.Rights {
			if r == "" {
				return nil, invalid("rights[%d] is empty", i)
			}
			if err := checkText(fmt.Sprintf("rights[%d]", i), r, 100); err != nil {
				return nil, err
			}
		}
		f.Rights = args.Rights
		limit, err := pageLimit(args.Limit, defaultLimit, maxLimit)
		if err != nil {
			return nil, err
		}
		key := queryKey(tool.Name, args.CertificationID, args.ItemID, args.Target, args.TargetMatch, strings.Join(args.Rights, "\x00"))
		offset, err := decodeCursor(args.Cursor, key)
		if err != nil {
			return nil, err
		}
		f.Page = certs.PageOptions{Offset: offset, Limit: limit, Count: true}
		page, err := d.svc.ListItemPermissions(ctx, a, args.CertificationID, args.ItemID, f)
		if err != nil {
			return nil, err
		}
		out := PermissionList{CertificationID: args.CertificationID, ItemID: args.ItemID, Permissions: make([]PermissionOut, 0, len(page.Items)), Total: page.Total}
		var b strings.Builder
		fmt.Fprintf(&b, "Permissions granted by item %s: %s.\n", args.ItemID, countText(offset, len(page.Items), page.Total))
		for _, p := range page.Items {
			rights := p.Rights
			if rights == nil {
				rights = []string{}
			}
			out.Permissions = append(out.Permissions, PermissionOut{Target: p.Target, Rights: rights})
			fmt.Fprintf(&b, "- %s: %s\n", p.Target, strings.Join(rights, ", "))
		}
		out.NextCursor = nextCursor(offset, len(page.Items), page.Total, limit, key)
		if out.NextCursor != "" {
			fmt.Fprintf(&b, "More: call again with cursor %q.\n", out.NextCursor)
		}
		return result(out, b.String()), nil
	})}
}
