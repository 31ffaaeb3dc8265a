package sandbox

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/certops/certops/internal/sandbox/filter"
)

// Review items: GET /certifications/{id}/access-review-items and the
// permissions of an entitlement item.

type identityRef struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email *string `json:"email,omitempty"`
}

func identityRefOf(i *identity) *identityRef {
	if i == nil {
		return nil
	}
	return &identityRef{Type: "IDENTITY", ID: i.ID, Name: i.Name, Email: nullable(i.Email)}
}

type activityInsights struct {
	AccountID      string `json:"accountID"`
	UsageDays      int    `json:"usageDays"`
	UsageDaysState string `json:"usageDaysState"`
}

type accountDto struct {
	NativeIdentity    string           `json:"nativeIdentity"`
	Disabled          bool             `json:"disabled"`
	Locked            bool             `json:"locked"`
	Type              string           `json:"type"`
	ID                *string          `json:"id"`
	Name              *string          `json:"name"`
	Created           *isoTime         `json:"created"`
	Modified          *isoTime         `json:"modified"`
	ActivityInsights  activityInsights `json:"activityInsights"`
	Description       *string          `json:"description"`
	GovernanceGroupID *string          `json:"governanceGroupId"`
	Owner             *struct{}        `json:"owner"`
}

type reviewableEntitlement struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	Description            *string        `json:"description"`
	Privileged             bool           `json:"privileged"`
	Owner                  *identityRef   `json:"owner"`
	AttributeName          string         `json:"attributeName"`
	AttributeValue         string         `json:"attributeValue"`
	SourceSchemaObjectType string         `json:"sourceSchemaObjectType"`
	SourceName             string         `json:"sourceName"`
	SourceType             string         `json:"sourceType"`
	SourceID               string         `json:"sourceId"`
	HasPermissions         bool           `json:"hasPermissions"`
	IsPermission           bool           `json:"isPermission"`
	Revocable              bool           `json:"revocable"`
	CloudGoverned          bool           `json:"cloudGoverned"`
	ContainsDataAccess     bool           `json:"containsDataAccess"`
	DataAccess             *dataAccessDto `json:"dataAccess"`
	Account                *accountDto    `json:"account"`
}

// dataAccessDto is ISC's DataAccess.
type dataAccessDto struct {
	Policies    []valueDto    `json:"policies"`
	Categories  []categoryDto `json:"categories"`
	ImpactScore valueDto      `json:"impactScore"`
}

type valueDto struct {
	Value string `json:"value"`
}

type categoryDto struct {
	Value      string `json:"value"`
	MatchCount int    `json:"matchCount"`
}

func dataAccessOf(d *dataAccess) *dataAccessDto {
	if d == nil {
		return nil
	}
	out := &dataAccessDto{Policies: []valueDto{}, Categories: []categoryDto{}, ImpactScore: valueDto{Value: d.ImpactScore}}
	for _, p := range d.Policies {
		out.Policies = append(out.Policies, valueDto{Value: p})
	}
	for _, c := range d.Categories {
		out.Categories = append(out.Categories, categoryDto{Value: c.Value, MatchCount: c.MatchCount})
	}
	return out
}

type reviewableAccessProfile struct {
	ID            string                  `json:"id"`
	Name          string                  `json:"name"`
	Description   string                  `json:"description"`
	Privileged    bool                    `json:"privileged"`
	CloudGoverned bool                    `json:"cloudGoverned"`
	EndDate       *isoTime                `json:"endDate"`
	Owner         *identityRef            `json:"owner"`
	Entitlements  []reviewableEntitlement `json:"entitlements"`
	Created       isoTime                 `json:"created"`
	Modified      isoTime                 `json:"modified"`
}

type reviewableRole struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Privileged  bool         `json:"privileged"`
	Owner       *identityRef `json:"owner"`
	Revocable   bool         `json:"revocable"`
	// EndDate is not nullable in the spec: left out when the assignment
	// has none.
	EndDate        *isoTime                  `json:"endDate,omitempty"`
	AccessProfiles []reviewableAccessProfile `json:"accessProfiles"`
	Entitlements   []reviewableEntitlement   `json:"entitlements"`
}

type accessRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accessSummary struct {
	Access        accessRef                `json:"access"`
	Entitlement   *reviewableEntitlement   `json:"entitlement,omitempty"`
	AccessProfile *reviewableAccessProfile `json:"accessProfile,omitempty"`
	Role          *reviewableRole          `json:"role,omitempty"`
}

type identitySummaryDto struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	IdentityID string `json:"identityId"`
	Completed  bool   `json:"completed"`
}

func entitlementDto(a *access, it *item) reviewableEntitlement {
	e := reviewableEntitlement{
		ID: a.ID, Name: a.Name, Description: nullable(a.Description), Privileged: a.Privileged,
		Owner: identityRefOf(a.Owner), AttributeName: a.AttributeName, AttributeValue: a.AttributeValue,
		SourceSchemaObjectType: "group", HasPermissions: len(a.Permissions) > 0, Revocable: true,
		CloudGoverned: a.CloudGoverned, ContainsDataAccess: a.DataAccess != nil, DataAccess: dataAccessOf(a.DataAccess),
	}
	if a.Source != nil {
		e.SourceName, e.SourceType, e.SourceID = a.Source.Name, a.Source.Type, a.Source.ID
	}
	if it != nil && it.AccountID != "" {
		id, name := it.AccountID, it.AccountName
		usage := activityInsights{AccountID: it.AccountID, UsageDays: it.UsageDays, UsageDaysState: "COMPLETE"}
		if it.UsageUnknown {
			usage.UsageDaysState = "UNKNOWN"
		}
		e.Account = &accountDto{
			NativeIdentity: it.AccountName, Disabled: it.AccountDisabled, Type: "ACCOUNT", ID: &id, Name: &name,
			Created: timePtr(it.Summary.Identity.Created), Modified: timePtr(it.Summary.Identity.Created),
			ActivityInsights: usage,
		}
	}
	return e
}

// accessProfileDto encodes an access profile; endDate is the reviewed
// assignment's (zero inside a role).
func accessProfileDto(a *access, endDate time.Time) reviewableAccessProfile {
	ap := reviewableAccessProfile{ID: a.ID, Name: a.Name, Description: a.Description, Privileged: a.Privileged,
		CloudGoverned: a.CloudGoverned, EndDate: timePtr(endDate),
		Owner: identityRefOf(a.Owner), Entitlements: []reviewableEntitlement{}, Created: isoTime(a.Created), Modified: isoTime(a.Created)}
	for _, e := range a.Entitlements {
		ap.Entitlements = append(ap.Entitlements, entitlementDto(e, nil))
	}
	return ap
}

// appendItemJSON appends an encoded item: the cached accessSummary, then
// the rest.
func appendItemJSON(out []byte, it *item, summaryDone bool) []byte {
	if it.accessJSON == nil {
		it.accessJSON = marshal(accessSummaryOf(it))
	}
	done := 0
	if summaryDone {
		done = 1
	}
	rest := it.restJSON[done]
	if rest == nil {
		rest = marshal(itemRest{
			IdentitySummary: identitySummaryDto{ID: it.Summary.ID, Name: it.Summary.Identity.Name,
				IdentityID: it.Summary.Identity.ID, Completed: summaryDone},
			ID: it.ID, Completed: it.Completed, NewAccess: it.NewAccess, Decision: it.Decision, Comments: nullable(it.Comments),
		})
		it.restJSON[done] = rest
	}
	out = append(out, `{"accessSummary":`...)
	out = append(out, it.accessJSON...)
	out = append(out, ',')
	return append(out, rest[1:]...) // rest without its opening brace
}

// itemRest is an AccessReviewItem without its accessSummary.
type itemRest struct {
	IdentitySummary identitySummaryDto `json:"identitySummary"`
	ID              string             `json:"id"`
	Completed       bool               `json:"completed"`
	NewAccess       bool               `json:"newAccess"`
	Decision        string             `json:"decision,omitempty"`
	Comments        *string            `json:"comments"`
}

func accessSummaryOf(it *item) accessSummary {
	a := it.Access
	d := struct{ AccessSummary accessSummary }{
		AccessSummary: accessSummary{Access: accessRef{Type: a.Type, ID: a.ID, Name: a.Name}},
	}
	switch a.Type {
	case "ENTITLEMENT":
		e := entitlementDto(a, it)
		d.AccessSummary.Entitlement = &e
	case "ACCESS_PROFILE":
		ap := accessProfileDto(a, it.EndDate)
		d.AccessSummary.AccessProfile = &ap
	case "ROLE":
		r := reviewableRole{ID: a.ID, Name: a.Name, Description: a.Description, Privileged: a.Privileged,
			Owner: identityRefOf(a.Owner), Revocable: true, EndDate: timePtr(it.EndDate),
			AccessProfiles: []reviewableAccessProfile{}, Entitlements: []reviewableEntitlement{}}
		for _, ap := range a.AccessProfiles {
			r.AccessProfiles = append(r.AccessProfiles, accessProfileDto(ap, time.Time{}))
		}
		for _, e := range a.Entitlements {
			r.Entitlements = append(r.Entitlements, entitlementDto(e, nil))
		}
		d.AccessSummary.Role = &r
	}
	return d.AccessSummary
}

var (
	itemFilters = filter.Fields{
		"id": {"eq", "in"}, "type": {"eq"}, "access.type": {"eq"}, "completed": {"eq", "ne"},
		"identitySummary.id": {"eq", "in"}, "identitySummary.name": {"eq", "sw"},
		"access.id": {"eq", "in"}, "access.name": {"eq", "sw"},
		"entitlement.sourceName": {"eq", "sw"}, "accessProfile.sourceName": {"eq", "sw"},
	}
	itemSorters = []string{"identitySummary.name", "access.name", "access.type", "entitlement.sourceName", "accessProfile.sourceName"}
)

// itemString returns an item's value for a sorter or string filter field.
func itemString(it *item, field string) string {
	switch field {
	case "id":
		return it.ID
	case "type", "access.type":
		return it.Access.Type
	case "identitySummary.id":
		return it.Summary.ID
	case "identitySummary.name":
		return it.Summary.Identity.Name
	case "access.id":
		return it.Access.ID
	case "access.name":
		return it.Access.Name
	case "entitlement.sourceName":
		if it.Access.Type == "ENTITLEMENT" && it.Access.Source != nil {
			return it.Access.Source.Name
		}
	case "accessProfile.sourceName":
		if it.Access.Type == "ACCESS_PROFILE" && it.Access.Source != nil {
			return it.Access.Source.Name
		}
	}
	return ""
}

func itemField(it *item, field string) (filter.Value, bool) {
	if field == "completed" {
		return boolean(it.Completed)
	}
	if _, ok := itemFilters[field]; !ok {
		return filter.Null(), false
	}
	return optStr(itemString(it, field))
}

// accessParams reads entitlements / access-profiles / roles: comma-separated
// access ids of one type; only one of the three may be given.
func accessParams(c *call) (string, map[string]bool, *apiError) {
	var typ, name string
	var ids map[string]bool
	for _, p := range []struct{ param, typ string }{
		{"entitlements", "ENTITLEMENT"}, {"access-profiles", "ACCESS_PROFILE"}, {"roles", "ROLE"},
	} {
		v := strings.TrimSpace(c.q.Get(p.param))
		if v == "" {
			continue
		}
		if typ != "" {
			return "", nil, badRequest("Only one of entitlements, access-profiles and roles may be used at a time; got %s and %s.", name, p.param)
		}
		typ, name = p.typ, p.param
		ids = map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids[id] = true
			}
		}
	}
	return typ, ids, nil
}

func (s *Sandbox) listItems(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	col, e := parseCollection(c, itemFilters, itemSorters)
	if e != nil {
		return nil, e
	}
	p, expr, sorters := col.page, col.filter, col.sorters
	accessType, accessIDs, e := accessParams(c)
	if e != nil {
		return nil, e
	}
	var all []*item
	for _, it := range cert.items {
		if accessType != "" && (it.Access.Type != accessType || !accessIDs[it.Access.ID]) {
			continue
		}
		if expr != nil && !filter.Eval(expr, func(f string) (filter.Value, bool) { return itemField(it, f) }) {
			continue
		}
		all = append(all, it)
	}
	if len(sorters) > 0 {
		slices.SortStableFunc(all, func(a, b *item) int {
			for _, so := range sorters {
				r := compareEmptyLast(itemString(a, so.field), itemString(b, so.field))
				if so.desc {
					r = -r
				}
				if r != 0 {
					return r
				}
			}
			return 0
		})
	}
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	// A summary is completed when all its items are: one pass, not one
	// scan per item.
	open := map[*identitySummary]bool{}
	for _, it := range cert.items {
		if !it.Completed {
			open[it.Summary] = true
		}
	}
	page := all[lo:hi]
	return jsonArray(len(page), func(dst []byte, i int) []byte { return appendItemJSON(dst, page[i], !open[page[i].Summary]) }), nil
}

// compareEmptyLast compares case-insensitively; empty values sort last.
func compareEmptyLast(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
}

// Permissions.

type permissionDto struct {
	Rights []string `json:"rights"`
	Target string   `json:"target"`
}

var permissionFilters = filter.Fields{"target": {"eq", "sw"}, "rights": {"ca"}}

// checkPermissionFilter applies the permissions operation's extra rule: at
// most one and/or, between a target filter and a rights filter; no not.
func checkPermissionFilter(e filter.Expr) *apiError {
	var l, r filter.Expr
	switch e := e.(type) {
	case nil, *filter.Comparison:
		return nil
	case *filter.Not:
		return badRequest("Invalid filter: the composite operator 'not' is not supported here; supported: and, or.")
	case *filter.And:
		l, r = e.Left, e.Right
	case *filter.Or:
		l, r = e.Left, e.Right
	}
	lc, lok := l.(*filter.Comparison)
	rc, rok := r.(*filter.Comparison)
	if !lok || !rok {
		return badRequest("Invalid filter: only a single 'and' or 'or' may be used, between a target filter and a rights filter.")
	}
	if lc.Field == rc.Field {
		return badRequest("Invalid filter: 'and'/'or' must join a target filter and a rights filter, not two %s filters.", lc.Field)
	}
	return nil
}

func (s *Sandbox) listPermissions(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "certificationId")
	if e != nil {
		return nil, e
	}
	itemID := c.r.PathValue("itemId")
	it, ok := s.st.itemByID[itemID]
	if !ok || it.Cert != cert {
		return nil, notFound("review item " + quoteID(itemID) + " not found in certification " + cert.ID)
	}
	col, e := parseCollection(c, permissionFilters, nil)
	if e != nil {
		return nil, e
	}
	p, expr := col.page, col.filter
	if e := checkPermissionFilter(expr); e != nil {
		return nil, e
	}
	var all []permission
	if it.Access.Type == "ENTITLEMENT" {
		for _, perm := range it.Access.Permissions {
			if expr != nil && !filter.Eval(expr, func(f string) (filter.Value, bool) {
				switch f {
				case "target":
					return str(perm.Target)
				case "rights":
					vs := make([]filter.Value, len(perm.Rights))
					for i, r := range perm.Rights {
						vs[i] = filter.String(r)
					}
					return filter.List(vs...), true
				}
				return filter.Null(), false
			}) {
				continue
			}
			all = append(all, perm)
		}
	}
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	out := make([]permissionDto, 0, hi-lo)
	for _, perm := range all[lo:hi] {
		out = append(out, permissionDto{Rights: slices.Clone(perm.Rights), Target: perm.Target})
	}
	return out, nil
}
