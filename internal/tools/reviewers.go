package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// ReviewerList is list_reviewers' result.
type ReviewerList struct {
	CertificationID string   `json:"certificationId"`
	Reviewers       []Person `json:"reviewers"`
	Total           int      `json:"total" jsonschema:"-1 if unknown"`
	NextCursor      string   `json:"nextCursor,omitempty"`
}

type listReviewersArgs struct {
	CertificationID string `json:"certification_id"`
	Name            string `json:"name"`
	Email           string `json:"email"`
	Limit           *int   `json:"limit"`
	Cursor          string `json:"cursor"`
}

func listReviewers(d deps) server.ServerTool {
	tool := newTool("list_reviewers",
		mcp.WithDescription("List a certification's reviewers (who may decide its items). To find anyone else, use find_people."),
		idArg("certification_id", "Certification id.", true),
		prefixArg("name", "Name"),
		prefixArg("email", "Email"),
		limitArg(),
		cursorArg(),
		readAnnotations("List reviewers", true),
		mcp.WithOutputSchema[ReviewerList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[listReviewersArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		if err := checkText("name", args.Name, maxFilterLen); err != nil {
			return nil, err
		}
		if err := checkText("email", args.Email, maxFilterLen); err != nil {
			return nil, err
		}
		limit, err := pageLimit(args.Limit, defaultLimit, maxLimit)
		if err != nil {
			return nil, err
		}
		key := queryKey(tool.Name, args.CertificationID, args.Name, args.Email)
		offset, err := decodeCursor(args.Cursor, key)
		if err != nil {
			return nil, err
		}
		page, err := d.svc.ListReviewers(ctx, a, args.CertificationID, certs.ReviewerFilter{
			NameSW: args.Name, EmailSW: args.Email, Sorters: []string{"name"},
			Page: certs.PageOptions{Offset: offset, Limit: limit, Count: true},
		})
		if err != nil {
			return nil, err
		}
		out := ReviewerList{CertificationID: args.CertificationID, Reviewers: make([]Person, 0, len(page.Items)), Total: page.Total}
		var b strings.Builder
		fmt.Fprintf(&b, "Reviewers of certification %s: %s.\n", args.CertificationID, countText(offset, len(page.Items), page.Total))
		for _, r := range page.Items {
			out.Reviewers = append(out.Reviewers, Person{ID: r.ID, Name: r.Name, Email: r.Email})
			fmt.Fprintf(&b, "- %s <%s> [%s]\n", r.Name, r.Email, r.ID)
		}
		out.NextCursor = nextCursor(offset, len(page.Items), page.Total, limit, key)
		if out.NextCursor != "" {
			fmt.Fprintf(&b, "More: call again with cursor %q.\n", out.NextCursor)
		}
		return result(out, b.String()), nil
	})}
}
