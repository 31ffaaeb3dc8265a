package sandbox

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/certops/certops/internal/sandbox/filter"
)

// Certifications: GET /certifications (v3/v1 IdentityCertificationDto,
// beta CertificationDto) and GET /certifications/{id}.

// campaignReference is ISC's CampaignReference (all seven fields required).
type campaignReference struct {
	ID                          string  `json:"id"`
	Name                        string  `json:"name"`
	Type                        string  `json:"type"`
	CampaignType                string  `json:"campaignType"`
	Description                 *string `json:"description"`
	CorrelatedStatus            string  `json:"correlatedStatus"`
	MandatoryCommentRequirement string  `json:"mandatoryCommentRequirement"`
}

func campaignRef(c *campaign) campaignReference {
	d := c.Description
	return campaignReference{ID: c.ID, Name: c.Name, Type: "CAMPAIGN", CampaignType: c.Type, Description: &d,
		CorrelatedStatus: c.CorrelatedStatus, MandatoryCommentRequirement: c.MandatoryCommentRequirement}
}

// reviewerDto is v3's Reviewer.
type reviewerDto struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Email    *string  `json:"email"`
	Type     string   `json:"type"`
	Created  *isoTime `json:"created"`
	Modified *isoTime `json:"modified"`
}

func reviewerOf(i *identity) reviewerDto {
	return reviewerDto{ID: i.ID, Name: i.Name, Email: nullable(i.Email), Type: "IDENTITY",
		Created: timePtr(i.Created), Modified: timePtr(i.Created)}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type certificationReference struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Reviewer reviewerDto `json:"reviewer"`
}

type reassignmentDto struct {
	From    certificationReference `json:"from"`
	Comment string                 `json:"comment"`
}

// identityCertificationDto is v3's IdentityCertificationDto.
type identityCertificationDto struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Campaign            campaignReference `json:"campaign"`
	Completed           bool              `json:"completed"`
	IdentitiesCompleted int               `json:"identitiesCompleted"`
	IdentitiesTotal     int               `json:"identitiesTotal"`
	Created             isoTime           `json:"created"`
	Modified            isoTime           `json:"modified"`
	DecisionsMade       int               `json:"decisionsMade"`
	DecisionsTotal      int               `json:"decisionsTotal"`
	Due                 *isoTime          `json:"due"`
	Signed              *isoTime          `json:"signed"`
	Reviewer            reviewerDto       `json:"reviewer"`
	Reassignment        *reassignmentDto  `json:"reassignment"`
	HasErrors           bool              `json:"hasErrors"`
	ErrorMessage        *string           `json:"errorMessage"`
	Phase               string            `json:"phase"`
}

func certDto(c *certification) identityCertificationDto {
	d := identityCertificationDto{
		ID: c.ID, Name: c.Name, Campaign: campaignRef(c.Campaign), Completed: c.completed(),
		IdentitiesCompleted: c.identitiesCompleted, IdentitiesTotal: c.identitiesTotal,
		Created: isoTime(c.Created), Modified: isoTime(c.Modified),
		DecisionsMade: c.decisionsMade, DecisionsTotal: c.decisionsTotal,
		Due: timePtr(c.Due), Signed: timePtr(c.Signed), Reviewer: reviewerOf(c.Reviewer),
		HasErrors: c.HasErrors, ErrorMessage: nullable(c.ErrorMessage), Phase: c.Phase,
	}
	if r := c.Reassignment; r != nil {
		d.Reassignment = &reassignmentDto{
			From:    certificationReference{ID: r.From.ID, Name: r.From.Name, Type: "CERTIFICATION", Reviewer: reviewerOf(r.From.Reviewer)},
			Comment: r.Comment,
		}
	}
	return d
}

// certJSON returns the encoded v3 DTO, cached until the certification
// changes.
func (s *Sandbox) certJSON(c *certification) rawJSON {
	if c.v3JSON == nil {
		c.v3JSON = marshal(certDto(c))
	}
	return c.v3JSON
}

func (s *Sandbox) betaCertJSON(c *certification) rawJSON {
	if c.betaJSON == nil {
		c.betaJSON = marshal(s.betaCertDto(c))
	}
	return c.betaJSON
}

// Beta shapes.

type betaReviewer struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email *string `json:"email"`
}

func betaReviewerOf(i *identity) betaReviewer {
	return betaReviewer{Type: "IDENTITY", ID: i.ID, Name: i.Name, Email: nullable(i.Email)}
}

type betaCertificationReference struct {
	Type     string       `json:"type"`
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Reviewer betaReviewer `json:"reviewer"`
}

type betaReassignment struct {
	From    betaCertificationReference `json:"from"`
	Comment string                     `json:"comment"`
}

type ownerReference struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// certificationDto is beta's CertificationDto.
//
// The spec's schema has no id or name and requires campaignOwner, which it
// never defines. The sandbox sends id and name (without them the list is
// useless, and real ISC sends them) and campaignOwner as an identity
// reference (the campaign's owner: the sandbox's admin identity); the schema
// allows additional properties, so the contract check passes.
//
// It also requires due and signed as non-nullable date-times. Every seeded
// certification has a due date; for a certification not yet signed the
// sandbox sends the Unix epoch (1970-01-01T00:00:00.000Z) as signed, a
// sentinel that satisfies the schema, where ISC's v3 sends null. Clients
// should read phase (SIGNED) to know whether it was signed.
type certificationDto struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	CampaignRef       campaignReference `json:"campaignRef"`
	CampaignOwner     ownerReference    `json:"campaignOwner"`
	Phase             string            `json:"phase"`
	Due               isoTime           `json:"due"`
	Signed            isoTime           `json:"signed"`
	Reviewer          betaReviewer      `json:"reviewer"`
	Reassignment      *betaReassignment `json:"reassignment,omitempty"`
	HasErrors         bool              `json:"hasErrors"`
	ErrorMessage      *string           `json:"errorMessage"`
	Completed         bool              `json:"completed"`
	DecisionsMade     int               `json:"decisionsMade"`
	DecisionsTotal    int               `json:"decisionsTotal"`
	EntitiesCompleted int               `json:"entitiesCompleted"`
	EntitiesTotal     int               `json:"entitiesTotal"`
}

func (s *Sandbox) betaCertDto(c *certification) certificationDto {
	d := certificationDto{
		ID: c.ID, Name: c.Name, CampaignRef: campaignRef(c.Campaign),
		CampaignOwner: ownerReference{Type: "IDENTITY", ID: s.st.admin.ID, Name: s.st.admin.Name},
		Phase:         c.Phase, Due: isoTime(c.Due), Signed: isoTime(time.Unix(0, 0)),
		Reviewer: betaReviewerOf(c.Reviewer), HasErrors: c.HasErrors, ErrorMessage: nullable(c.ErrorMessage),
		Completed: c.completed(), DecisionsMade: c.decisionsMade, DecisionsTotal: c.decisionsTotal,
		EntitiesCompleted: c.identitiesCompleted, EntitiesTotal: c.identitiesTotal,
	}
	if !c.Signed.IsZero() {
		d.Signed = isoTime(c.Signed)
	}
	if r := c.Reassignment; r != nil {
		d.Reassignment = &betaReassignment{
			From:    betaCertificationReference{Type: "CERTIFICATION", ID: r.From.ID, Name: r.From.Name, Reviewer: betaReviewerOf(r.From.Reviewer)},
			Comment: r.Comment,
		}
	}
	return d
}

// Filters and sorters, per the specs.
var (
	certFilters = filter.Fields{
		"id": {"eq", "in"}, "campaign.id": {"eq", "in"}, "phase": {"eq"}, "completed": {"eq"},
	}
	betaCertFilters = filter.Fields{
		"id": {"eq", "in"}, "phase": {"eq"}, "completed": {"eq", "ne"},
		"campaignRef.campaignType": {"eq", "in"}, "campaignRef.id": {"eq", "in"},
	}
	certSorters = []string{"name", "due", "signed"}
)

func certField(c *certification, field string) (filter.Value, bool) {
	switch field {
	case "id":
		return str(c.ID)
	case "campaign.id", "campaignRef.id":
		return str(c.Campaign.ID)
	case "campaignRef.campaignType":
		return str(c.Campaign.Type)
	case "phase":
		return str(c.Phase)
	case "completed":
		return boolean(c.completed())
	}
	return filter.Null(), false
}

func compareTimes(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// visibleTo reports whether the caller may see a certification: admins see
// all; reviewers see the certifications they review, except STAGED ones
// (a staged campaign is not yet visible to its reviewers).
func visibleTo(c *call, cert *certification) bool {
	if c.admin() {
		return true
	}
	return cert.Reviewer.ID == c.client.IdentityID && cert.Phase != "STAGED"
}

// reviewerParam resolves reviewer-identity (beta: reviewer-identitiy, sic)
// to an identity id: "me" is the caller's own identity (for the admin
// client, the Sandbox Admin identity, which reviews nothing).
func reviewerParam(c *call, name string) string {
	v := c.q.Get(name)
	if strings.EqualFold(v, "me") {
		return c.client.IdentityID
	}
	return v
}

// queryCerts returns the page of certifications matching the request.
func (s *Sandbox) queryCerts(c *call, reviewerParamName string, fields filter.Fields) ([]*certification, *apiError) {
	col, e := parseCollection(c, fields, certSorters)
	if e != nil {
		return nil, e
	}
	p, expr, sorters := col.page, col.filter, col.sorters
	reviewer := reviewerParam(c, reviewerParamName)

	// Candidates: the smallest index that covers the request.
	var candidates []*certification
	switch {
	case reviewer != "":
		candidates = s.st.certsByReviewer[reviewer]
	case !c.admin():
		candidates = s.st.certsByReviewer[c.client.IdentityID]
	default:
		candidates = s.st.certs
	}
	if ids, ok := eqInValues(expr, "id"); ok && len(ids) < len(candidates) {
		candidates = s.lookupCerts(ids)
	} else if ids, ok := eqInValues(expr, "campaign.id"); ok {
		candidates = s.lookupCampaignCerts(ids, candidates)
	} else if ids, ok := eqInValues(expr, "campaignRef.id"); ok {
		candidates = s.lookupCampaignCerts(ids, candidates)
	}
	// Sorting every certification: walk the cached order for these
	// sorters instead of sorting per request.
	if len(sorters) > 0 && len(candidates) == len(s.st.certs) {
		candidates = s.st.certsSorted(sorters)
		sorters = nil
	}

	match := func(cert *certification) bool {
		if !visibleTo(c, cert) || (reviewer != "" && cert.Reviewer.ID != reviewer) {
			return false
		}
		return expr == nil || filter.Eval(expr, func(f string) (filter.Value, bool) { return certField(cert, f) })
	}
	// Without sorting: one pass that keeps the page and, when asked,
	// counts the rest (stopping at the end of the page when not).
	if len(sorters) == 0 {
		out := make([]*certification, 0, min(p.limit, len(candidates)))
		n := 0
		for _, cert := range candidates {
			if len(out) == p.limit && !p.count {
				break
			}
			if !match(cert) {
				continue
			}
			if n >= p.offset && len(out) < p.limit {
				out = append(out, cert)
			}
			n++
		}
		if p.count {
			c.total = n
		}
		return out, nil
	}
	var all []*certification
	for _, cert := range candidates {
		if match(cert) {
			all = append(all, cert)
		}
	}
	sortCerts(all, sorters)
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	return all[lo:hi], nil
}

// sortCerts sorts by the sorters, then by creation (a total order).
func sortCerts(certs []*certification, sorters []sorter) {
	slices.SortFunc(certs, func(a, b *certification) int {
		for _, so := range sorters {
			r := compareCertsNoTie(a, b, so.field)
			if so.desc {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// compareCertsNoTie compares by one field only (ties stay ties, so the next
// sorter decides).
func compareCertsNoTie(a, b *certification, field string) int {
	switch field {
	case "name":
		return strings.Compare(a.nameKey, b.nameKey)
	case "due":
		return compareTimes(a.Due, b.Due)
	case "signed":
		return compareTimes(a.Signed, b.Signed)
	}
	return 0
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func (s *Sandbox) lookupCerts(ids []string) []*certification {
	var out []*certification
	seen := map[*certification]bool{}
	for _, id := range ids {
		cert, ok := s.st.certByID[id]
		if !ok {
			cert, ok = s.st.certByID[strings.ToLower(id)]
		}
		if ok && !seen[cert] {
			seen[cert] = true
			out = append(out, cert)
		}
	}
	slices.SortFunc(out, func(a, b *certification) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// lookupCampaignCerts narrows candidates to the given campaigns.
func (s *Sandbox) lookupCampaignCerts(ids []string, candidates []*certification) []*certification {
	var out []*certification
	for _, id := range ids {
		byCampaign := s.st.certsByCampaign[strings.ToLower(id)]
		if len(byCampaign) < len(candidates) {
			out = append(out, byCampaign...)
		} else {
			return candidates
		}
	}
	slices.SortFunc(out, func(a, b *certification) int { return cmp.Compare(a.seq, b.seq) })
	return slices.Compact(out)
}

func (s *Sandbox) listCertifications(c *call) (any, *apiError) {
	certs, e := s.queryCerts(c, "reviewer-identity", certFilters)
	if e != nil {
		return nil, e
	}
	return jsonArray(len(certs), func(dst []byte, i int) []byte { return append(dst, s.certJSON(certs[i])...) }), nil
}

func (s *Sandbox) listCertificationsBeta(c *call) (any, *apiError) {
	certs, e := s.queryCerts(c, "reviewer-identitiy", betaCertFilters)
	if e != nil {
		return nil, e
	}
	return jsonArray(len(certs), func(dst []byte, i int) []byte { return append(dst, s.betaCertJSON(certs[i])...) }), nil
}

// certFor returns the certification of the path parameter, 404 when it
// does not exist (or is staged and hidden from a reviewer), 403 when the
// caller does not review it.
func (s *Sandbox) certFor(c *call, param string) (*certification, *apiError) {
	id := c.r.PathValue(param)
	cert, ok := s.st.certByID[id]
	if !ok {
		return nil, notFound("certification " + quoteID(id) + " not found")
	}
	if !visibleTo(c, cert) {
		if cert.Phase == "STAGED" && cert.Reviewer.ID == c.client.IdentityID {
			return nil, notFound("certification " + quoteID(id) + " not found")
		}
		return nil, forbidden("identity " + c.client.IdentityID + " is not a reviewer of certification " + id)
	}
	return cert, nil
}

// quoteID shortens an id for a message.
func quoteID(id string) string {
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return strings.ToValidUTF8(id, "?")
}

func (s *Sandbox) getCertification(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	return s.certJSON(cert), nil
}
