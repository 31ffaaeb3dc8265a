package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// PeopleList is find_people's result.
type PeopleList struct {
	People []PersonFound `json:"people"`
	Total  int           `json:"total" jsonschema:"matches in all, -1 if unknown"`
}

// PersonFound is one identity a search found.
type PersonFound struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Active bool   `json:"active" jsonschema:"false: cannot take review work"`
}

type findPeopleArgs struct {
	Query string `json:"query"`
	Limit *int   `json:"limit"`
}

// People searches are short: they find the person meant.
const (
	defaultPeopleLimit = 10
	maxPeopleLimit     = 25
)

func findPeople(d deps) server.ServerTool {
	tool := newTool("find_people",
		mcp.WithDescription(`Find people by the start of their name or email ("bob", "bob b", "bob.brown@"): their ISC identity ids and emails, `+
			"for plan_reassignment's target or list_certifications' reviewer."),
		mcp.WithString("query", mcp.Required(),
			mcp.Description("First name, last name, both, or the start of an email."),
			mcp.MaxLength(certs.MaxIdentityQueryLength)),
		mcp.WithInteger("limit", mcp.Description(fmt.Sprintf("Default %d.", defaultPeopleLimit)), mcp.Min(1), mcp.Max(maxPeopleLimit)),
		readAnnotations("Find people", true),
		mcp.WithOutputSchema[PeopleList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[findPeopleArgs](req)
		if err != nil {
			return nil, err
		}
		limit, err := pageLimit(args.Limit, defaultPeopleLimit, maxPeopleLimit)
		if err != nil {
			return nil, err
		}
		page, err := d.svc.FindPeople(ctx, a, args.Query, limit)
		if err != nil {
			return nil, err
		}
		out := PeopleList{People: make([]PersonFound, 0, len(page.Items)), Total: page.Total}
		var b strings.Builder
		fmt.Fprintf(&b, "People matching %q: %s.\n", strings.TrimSpace(args.Query), countText(0, len(page.Items), page.Total))
		for _, i := range page.Items {
			p := PersonFound{ID: i.ID, Name: i.Name, Email: i.Email, Active: i.Active()}
			out.People = append(out.People, p)
			fmt.Fprintf(&b, "- %s", p.Name)
			if p.Email != "" {
				fmt.Fprintf(&b, " <%s>", p.Email)
			}
			fmt.Fprintf(&b, " [%s]", p.ID)
			if !p.Active {
				b.WriteString(" · inactive: cannot take review work")
			}
			b.WriteByte('\n')
		}
		switch {
		case len(page.Items) == 0:
			b.WriteString("Nobody: try the start of the first or last name only, or of the email.\n")
		case page.Total > len(page.Items):
			fmt.Fprintf(&b, "%d more: add to the query (e.g. the first letters of the last name).\n", page.Total-len(page.Items))
		}
		return result(out, b.String()), nil
	})}
}
