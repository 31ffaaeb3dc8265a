package tools

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// Person is a reviewer or identity as tools show it.
type Person struct {
	ID    string `json:"id" jsonschema:"ISC identity id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// CampaignRef names a certification's campaign.
type CampaignRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty" jsonschema:"MANAGER, SOURCE_OWNER, SEARCH, ROLE_COMPOSITION or MACHINE_ACCOUNT"`
}

// ProgressOut is how far a certification's reviewer has got.
type ProgressOut struct {
	DecisionsMade       int `json:"decisionsMade"`
	DecisionsTotal      int `json:"decisionsTotal"`
	IdentitiesCompleted int `json:"identitiesCompleted"`
	IdentitiesTotal     int `json:"identitiesTotal"`
	Percent             int `json:"percent" jsonschema:"decisions made, in percent (0-100)"`
}

// CertificationRow is one certification in a list: compact, for a model.
type CertificationRow struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Reviewer  Person      `json:"reviewer"`
	Campaign  CampaignRef `json:"campaign"`
	Due       string      `json:"due,omitempty" jsonschema:"RFC 3339 due time; absent when the campaign has none"`
	Phase     string      `json:"phase" jsonschema:"STAGED, ACTIVE or SIGNED"`
	Completed bool        `json:"completed"`
	Progress  ProgressOut `json:"progress"`
}

// CertificationList is list_certifications' result.
type CertificationList struct {
	Certifications []CertificationRow `json:"certifications"`
	Total          int                `json:"total" jsonschema:"-1 if unknown"`
	NextCursor     string             `json:"nextCursor,omitempty"`
}

func certificationRow(c *certs.Certification) CertificationRow {
	return CertificationRow{
		ID:        c.ID,
		Name:      c.Name,
		Reviewer:  Person{ID: c.Reviewer.ID, Name: c.Reviewer.Name, Email: c.Reviewer.Email},
		Campaign:  CampaignRef{ID: c.Campaign.ID, Name: c.Campaign.Name, Type: string(c.Campaign.CampaignType)},
		Due:       ts(c.Due),
		Phase:     string(c.Phase),
		Completed: c.Completed,
		Progress: ProgressOut{
			DecisionsMade: c.DecisionsMade, DecisionsTotal: c.DecisionsTotal,
			IdentitiesCompleted: c.IdentitiesCompleted, IdentitiesTotal: c.IdentitiesTotal,
			Percent: pct(c.DecisionsMade, c.DecisionsTotal),
		},
	}
}

func (r CertificationRow) line(now time.Time) string {
	due := "no due date"
	if r.Due != "" {
		due = "due " + r.Due[:10]
		if t, err := time.Parse(time.RFC3339, r.Due); err == nil && t.Before(now) && !r.Completed {
			due += " (OVERDUE)"
		}
	}
	state := ""
	if r.Completed {
		state = " · completed"
	}
	return fmt.Sprintf("- %s [%s] · reviewer %s · campaign %s · %s · %d/%d decisions (%d%%)%s",
		r.Name, r.ID, r.Reviewer.Name, r.Campaign.Name, due,
		r.Progress.DecisionsMade, r.Progress.DecisionsTotal, r.Progress.Percent, state)
}

type listCertificationsArgs struct {
	Reviewer   string `json:"reviewer"`
	CampaignID string `json:"campaign_id"`
	Status     string `json:"status"`
	Limit      *int   `json:"limit"`
	Cursor     string `json:"cursor"`
}

func listCertifications(d deps) server.ServerTool {
	tool := newTool("list_certifications",
		mcp.WithDescription("List certifications (access reviews), due soonest first: your open ones, a reviewer's, or a campaign's (others' need the admin role)."),
		mcp.WithString("reviewer",
			mcp.Description(`"me" (default), an identity id or an email.`),
			mcp.MaxLength(maxEmailLen)),
		idArg("campaign_id", "Campaign id; without reviewer, every reviewer's.", false),
		statusArg(statusOpen, "signed off"),
		limitArg(),
		cursorArg(),
		readAnnotations("List certifications", true),
		mcp.WithOutputSchema[CertificationList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[listCertificationsArgs](req)
		if err != nil {
			return nil, err
		}
		reviewer, reviewerName, err := d.reviewerArg(ctx, a, args.Reviewer, args.CampaignID != "")
		if err != nil {
			return nil, err
		}
		if args.CampaignID != "" {
			if err := checkID("campaign_id", args.CampaignID); err != nil {
				return nil, err
			}
		}
		completed, status, err := completedFilter(args.Status, statusOpen)
		if err != nil {
			return nil, err
		}
		limit, err := pageLimit(args.Limit, defaultLimit, maxLimit)
		if err != nil {
			return nil, err
		}
		key := queryKey(tool.Name, a.ID, reviewer, args.CampaignID, status)
		offset, err := decodeCursor(args.Cursor, key)
		if err != nil {
			return nil, err
		}
		page, err := d.svc.ListCertifications(ctx, a, certs.CertificationQuery{
			Reviewer:   reviewer,
			CampaignID: args.CampaignID,
			Completed:  completed,
			Page:       certs.PageOptions{Offset: offset, Limit: limit, Count: true},
		})
		if err != nil {
			return nil, err
		}
		out := CertificationList{Certifications: make([]CertificationRow, 0, len(page.Items)), Total: page.Total}
		for i := range page.Items {
			out.Certifications = append(out.Certifications, certificationRow(&page.Items[i]))
		}
		out.NextCursor = nextCursor(offset, len(page.Items), page.Total, limit, key)

		var b strings.Builder
		whose, note := "Your", ""
		switch {
		case reviewer != "me" && reviewer != "":
			if reviewerName == "" {
				reviewerName, note = d.reviewerName(ctx, a, reviewer, out.Certifications)
			}
			whose = fmt.Sprintf("%s's [%s]", reviewerName, reviewer)
			if reviewerName == "" {
				whose = "Reviewer " + reviewer + "'s"
			}
		case args.CampaignID != "" && args.Reviewer == "":
			whose = "Campaign " + args.CampaignID + "'s"
		}
		which := status + " certifications"
		if status == statusAll {
			which = "certifications (open and completed)"
		}
		fmt.Fprintf(&b, "%s %s, due soonest first: %s.\n", whose, which, countText(offset, len(out.Certifications), page.Total))
		if note != "" {
			b.WriteString(note + "\n")
		}
		for _, r := range out.Certifications {
			b.WriteString(r.line(d.now()))
			b.WriteByte('\n')
		}
		if out.NextCursor != "" {
			fmt.Fprintf(&b, "More: call again with cursor %q.\n", out.NextCursor)
		}
		return result(out, b.String()), nil
	})}
}

// reviewerArg resolves the reviewer argument: "" is "me" unless a campaign
// is given (then "" means every reviewer of the campaign); an email is
// resolved to its identity id (and name). The argument keeps its schema
// bound and the text policy of free text; a name is refused with the way
// to find the person (identityArg); whether it is a valid identity id or
// email address is the Service's to judge.
func (d deps) reviewerArg(ctx context.Context, a certs.Actor, v string, campaign bool) (id, name string, err error) {
	switch {
	case v == "" && campaign:
		return "", "", nil
	case v == "" || strings.EqualFold(v, "me"):
		return "me", "", nil
	}
	if err := checkText("reviewer", v, maxEmailLen); err != nil {
		return "", "", err
	}
	if err := identityArg("reviewer", v); err != nil {
		return "", "", err
	}
	if strings.Contains(v, "@") && strings.Contains(v, ".") {
		who, err := d.svc.ResolveIdentity(ctx, a, v)
		if err != nil {
			return "", "", err
		}
		return who.ID, who.Name, nil
	}
	return v, "", nil
}

// reviewerName names the reviewer whose certifications were listed: from
// the rows, else from ISC. When no identity has the id, the note says so
// and how to find the person meant; the (empty) list stands either way.
func (d deps) reviewerName(ctx context.Context, a certs.Actor, id string, rows []CertificationRow) (name, note string) {
	for _, r := range rows {
		if r.Reviewer.ID == id && r.Reviewer.Name != "" {
			return r.Reviewer.Name, ""
		}
	}
	who, err := d.svc.ResolveIdentity(ctx, a, id)
	switch {
	case certs.ErrorCode(err) == certs.ENOTFOUND:
		return "", fmt.Sprintf("No ISC identity has the id %q; to find a person by name, use find_people.", id)
	case err != nil:
		// Only the wording needed the name.
		d.log.WarnContext(ctx, "naming a reviewer", "reviewer", id, "err", err)
		return "", ""
	}
	return who.Name, ""
}

// identityArg refuses, for an argument that takes an ISC identity id or an
// email address, a person's name (which is neither), saying how to find
// the person; any other value that is not an id keeps certs' refusal.
func identityArg(arg, v string) error {
	if v == "" || strings.Contains(v, "@") {
		return nil
	}
	err := certs.ValidateID(arg, v)
	if err == nil || !looksLikeName(v) {
		return err
	}
	return invalid("%s %q looks like a name; give an ISC identity id or an email address. find_people finds a person by name and returns both", arg, v)
}

// looksLikeName reports whether v is words of letters (with - ' .), as a
// person's name is.
func looksLikeName(v string) bool {
	if !strings.ContainsRune(strings.TrimSpace(v), ' ') {
		return false
	}
	for _, r := range v {
		if !unicode.IsLetter(r) && !unicode.IsSpace(r) && !strings.ContainsRune("-'.’", r) {
			return false
		}
	}
	return true
}

// withPeopleHint adds, to "no identity has the id" refusals, the way to
// find the person meant.
func withPeopleHint(err error) error {
	if certs.ErrorCode(err) != certs.ENOTFOUND || !strings.Contains(certs.ErrorMessage(err), "no ISC identity has the id") {
		return err
	}
	return &certs.Error{Code: certs.ENOTFOUND, Message: certs.ErrorMessage(err) + "; to find a person by name, use find_people", Err: err}
}

func countText(offset, n, total int) string {
	switch {
	case n == 0 && total > 0:
		return fmt.Sprintf("none past %d (all %d shown)", offset, total)
	case n == 0:
		return "none"
	case total >= 0:
		return fmt.Sprintf("%d-%d of %d", offset+1, offset+n, total)
	}
	return fmt.Sprintf("%d-%d", offset+1, offset+n)
}

// CertificationDetailOut is get_certification's result.
type CertificationDetailOut struct {
	Certification  CertificationRow   `json:"certification"`
	Signed         string             `json:"signed,omitempty"`
	Created        string             `json:"created,omitempty"`
	Modified       string             `json:"modified,omitempty"`
	ReassignedFrom *ReassignedFromOut `json:"reassignedFrom,omitempty" jsonschema:"the certification its work came from"`
	HasErrors      bool               `json:"hasErrors"`
	ErrorMessage   string             `json:"errorMessage,omitempty"`
	PendingTasks   []TaskOut          `json:"pendingTasks"`
	Requests       []RequestSummary   `json:"requests" jsonschema:"newest first"`
}

// ReassignedFromOut says where a certification's work came from.
type ReassignedFromOut struct {
	CertificationID   string `json:"certificationId"`
	CertificationName string `json:"certificationName,omitempty"`
	Reviewer          Person `json:"reviewer"`
	Comment           string `json:"comment,omitempty"`
}

type certificationIDArgs struct {
	CertificationID string `json:"certification_id"`
}

func getCertification(d deps) server.ServerTool {
	tool := newTool("get_certification",
		mcp.WithDescription("Get a certification: progress, where reassigned work came from, pending ISC tasks, and the requests filed through certops."),
		idArg("certification_id", "Certification id.", true),
		readAnnotations("Get a certification", true),
		mcp.WithOutputSchema[CertificationDetailOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[certificationIDArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		c, err := d.svc.GetCertification(ctx, a, args.CertificationID)
		if err != nil {
			return nil, err
		}
		out := CertificationDetailOut{
			Certification: certificationRow(&c.Certification),
			Signed:        ts(c.Signed),
			Created:       ts(&c.Created),
			Modified:      ts(&c.Modified),
			HasErrors:     c.HasErrors,
			ErrorMessage:  c.ErrorMessage,
			PendingTasks:  make([]TaskOut, 0, len(c.PendingTasks)),
			Requests:      make([]RequestSummary, 0, len(c.Requests)),
		}
		if r := c.Reassignment; r != nil {
			out.ReassignedFrom = &ReassignedFromOut{
				CertificationID: r.CertificationID, CertificationName: r.CertificationName,
				Reviewer: Person{ID: r.Reviewer.ID, Name: r.Reviewer.Name, Email: r.Reviewer.Email},
				Comment:  r.Comment,
			}
		}
		for i := range c.PendingTasks {
			out.PendingTasks = append(out.PendingTasks, taskOut(&c.PendingTasks[i]))
		}
		for _, r := range c.Requests {
			if r != nil {
				out.Requests = append(out.Requests, requestSummary(r))
			}
		}

		var b strings.Builder
		b.WriteString(out.Certification.line(d.now())[2:])
		b.WriteByte('\n')
		fmt.Fprintf(&b, "Identities done: %d/%d. Phase %s.\n", out.Certification.Progress.IdentitiesCompleted, out.Certification.Progress.IdentitiesTotal, out.Certification.Phase)
		if r := out.ReassignedFrom; r != nil {
			fmt.Fprintf(&b, "Reassigned from %s (%s), reviewer %s: %s\n", r.CertificationName, r.CertificationID, r.Reviewer.Name, r.Comment)
		}
		if out.HasErrors {
			fmt.Fprintf(&b, "ISC reports an error: %s\n", out.ErrorMessage)
		}
		if len(out.PendingTasks) > 0 {
			fmt.Fprintf(&b, "Pending ISC tasks: %d\n", len(out.PendingTasks))
			for _, t := range out.PendingTasks {
				b.WriteString(t.line())
				b.WriteByte('\n')
			}
		}
		if len(out.Requests) == 0 {
			b.WriteString("No reassignment requests filed through certops.\n")
		} else {
			header := "Reassignment requests:\n"
			for _, r := range out.Requests {
				if r.kind != certs.KindReassign {
					header = "Requests filed through certops (reassignments, decisions, sign-off):\n"
				}
			}
			b.WriteString(header)
			for _, r := range out.Requests {
				b.WriteString(r.line())
				b.WriteByte('\n')
			}
		}
		return result(out, b.String()), nil
	})}
}
