package sandbox

import (
	"slices"
	"strings"
	"time"
)

// The tenant's state: identities, the access catalog, campaigns,
// certifications with their review items, and certification tasks. All of it
// is guarded by Sandbox.mu. Certifications keep their items in a slice in
// creation order and are indexed by id, by reviewer and by campaign, so a
// page costs the page, not the tenant.

// identity is a person (or a service account) in the tenant.
type identity struct {
	ID                         string
	First                      string // empty for service accounts
	Last                       string
	Name                       string
	Alias                      string
	Email                      string // empty for some service accounts
	ManagerID                  string
	State                      string // ACTIVE, INACTIVE_SHORT_TERM, INACTIVE_LONG_TERM
	Status                     string // lifecycle status shown by ISC: "Active", "Terminated"
	Department, Country, Phone string
	Created                    time.Time
	// Correlated is false for uncorrelated service accounts (excluded by
	// add-core-filters).
	Correlated bool
}

func (i *identity) active() bool { return i.State == "ACTIVE" }

// permission is what an entitlement grants on a target.
type permission struct {
	Rights []string
	Target string
}

// source is an ISC source (a connected system).
type source struct {
	ID, Name, Type string
}

// access is an entitlement, access profile or role in the catalog.
type access struct {
	Type string // ENTITLEMENT, ACCESS_PROFILE, ROLE
	ID   string
	Name string
	// Description is empty for some entitlements (ISC's is nullable there;
	// access profiles and roles always have one).
	Description string
	Source      *source // entitlements and access profiles
	Privileged  bool
	// CloudGoverned is set on entitlements of a cloud source (and access
	// profiles holding one): ReviewableEntitlement/AccessProfile
	// cloudGoverned.
	CloudGoverned bool
	Owner         *identity
	// AttributeName/Value name an entitlement on its source.
	AttributeName, AttributeValue string
	Permissions                   []permission
	// DataAccess is what data classification found behind an entitlement
	// (ReviewableEntitlement dataAccess), nil when none.
	DataAccess *dataAccess
	// Entitlements of an access profile, or granted directly by a role;
	// AccessProfiles of a role.
	Entitlements   []*access
	AccessProfiles []*access
	Created        time.Time
}

// dataAccess is ISC's DataAccess: the classification policies and
// categories of the data an entitlement reaches, and its impact score.
type dataAccess struct {
	Policies    []string
	Categories  []dataCategory
	ImpactScore string
}

type dataCategory struct {
	Value      string
	MatchCount int
}

// campaign groups the certifications of one review.
type campaign struct {
	ID, Name, Type, Description string
	CorrelatedStatus            string
	MandatoryCommentRequirement string
	Due                         time.Time
	Created                     time.Time
}

// identitySummary is one certified identity within one certification.
type identitySummary struct {
	ID       string
	Identity *identity
	Cert     *certification
}

// item is one review item: an identity's access to one thing.
type item struct {
	ID        string
	Cert      *certification
	Summary   *identitySummary
	Access    *access
	NewAccess bool
	Completed bool
	Decision  string // APPROVE, REVOKE or ""
	Comments  string
	// ProposedEndDate is set by a REVOKE decision that carries one. ISC's
	// AccessReviewItem has no field for it: it is kept, never shown.
	ProposedEndDate time.Time
	// EndDate is when the identity's assignment of an access profile or
	// role expires (ReviewableAccessProfile/Role endDate), zero for none.
	EndDate time.Time
	// accessJSON caches the encoded accessSummary (the access and the
	// account never change); restJSON the rest of the item, for an
	// identity summary not completed and completed. invalidate clears it.
	accessJSON []byte
	restJSON   [2][]byte
	// Account is the account the access sits on (entitlements).
	AccountID, AccountName string
	// AccountDisabled and the account's activity (ActivityInsights): days
	// of use in the last 90, or unknown.
	AccountDisabled bool
	UsageDays       int
	UsageUnknown    bool
}

// invalidate drops the cached JSON of what a decision or a move changes.
func (it *item) invalidate() { it.restJSON = [2][]byte{} }

// reassignedFrom records the certification work came from.
type reassignedFrom struct {
	From    *certification
	Comment string
}

// certification is one reviewer's share of a campaign.
type certification struct {
	ID           string
	Name         string
	Campaign     *campaign
	Reviewer     *identity
	Phase        string // STAGED, ACTIVE, SIGNED
	Due          time.Time
	Signed       time.Time
	Created      time.Time
	Modified     time.Time
	Reassignment *reassignedFrom
	HasErrors    bool
	ErrorMessage string

	// seq is the creation order, the default sort.
	seq int
	// nameKey is the lower-case name, for sorting.
	nameKey string
	// v3JSON and betaJSON cache the encoded DTOs; invalidate clears them.
	v3JSON, betaJSON []byte
	// items in creation order (moved-in items are appended).
	items []*item
	// summaries by identity id.
	summaries map[string]*identitySummary
	// summaryOrder keeps summaries in the order they appeared.
	summaryOrder []*identitySummary

	// Counts, kept by recount.
	identitiesCompleted, identitiesTotal int
	decisionsMade, decisionsTotal        int
}

func (c *certification) completed() bool { return c.decisionsMade == c.decisionsTotal }

// invalidate drops the cached JSON after a change.
func (c *certification) invalidate() { c.v3JSON, c.betaJSON = nil, nil }

// recount recomputes the counts from the items.
func (c *certification) recount() {
	c.invalidate()
	c.decisionsTotal = len(c.items)
	c.decisionsMade = 0
	done := make(map[*identitySummary]bool, len(c.summaryOrder))
	for _, s := range c.summaryOrder {
		done[s] = true
	}
	present := make(map[*identitySummary]bool, len(c.summaryOrder))
	for _, it := range c.items {
		present[it.Summary] = true
		if it.Completed {
			c.decisionsMade++
		} else {
			done[it.Summary] = false
		}
	}
	// Summaries whose items all moved away leave the certification.
	kept := c.summaryOrder[:0]
	for _, s := range c.summaryOrder {
		if present[s] {
			kept = append(kept, s)
		} else {
			delete(c.summaries, s.Identity.ID)
		}
	}
	c.summaryOrder = kept
	c.identitiesTotal = len(kept)
	c.identitiesCompleted = 0
	for _, s := range kept {
		if done[s] {
			c.identitiesCompleted++
		}
	}
}

// summaryFor returns the certification's summary for an identity, creating
// it (with id from newID) when the identity is not yet certified here.
func (c *certification) summaryFor(ident *identity, newID func() string) *identitySummary {
	if s, ok := c.summaries[ident.ID]; ok {
		return s
	}
	s := &identitySummary{ID: newID(), Identity: ident, Cert: c}
	c.summaries[ident.ID] = s
	c.summaryOrder = append(c.summaryOrder, s)
	return s
}

// state is the tenant's data and its indexes.
type state struct {
	identities   []*identity // sorted by name, then id
	identityByID map[string]*identity
	// identitiesByKey indexes identities by "email:" or "alias:" and the
	// lower-case value.
	identitiesByKey map[string][]*identity
	admin           *identity
	sources         []*source
	catalog         map[string]*access // by access id
	campaigns       []*campaign
	campaignByID    map[string]*campaign
	certs           []*certification // creation order
	certByID        map[string]*certification
	certsByReviewer map[string][]*certification // creation order
	certsByCampaign map[string][]*certification // creation order
	itemByID        map[string]*item
	summaryByID     map[string]*identitySummary
	tasks           map[string]*task
	pending         []*task // QUEUED or IN_PROGRESS

	// sortedBy caches the certifications sorted by a list of sorters
	// (see certsSorted); cleared when a sort key changes.
	sortedBy map[string][]*certification
}

func newState() *state {
	return &state{
		identityByID:    map[string]*identity{},
		identitiesByKey: map[string][]*identity{},
		catalog:         map[string]*access{},
		campaignByID:    map[string]*campaign{},
		certByID:        map[string]*certification{},
		certsByReviewer: map[string][]*certification{},
		certsByCampaign: map[string][]*certification{},
		itemByID:        map[string]*item{},
		summaryByID:     map[string]*identitySummary{},
		tasks:           map[string]*task{},
		sortedBy:        map[string][]*certification{},
	}
}

func (st *state) addCert(c *certification) {
	c.seq = len(st.certs)
	c.nameKey = strings.ToLower(c.Name)
	st.certs = append(st.certs, c)
	st.certByID[c.ID] = c
	st.certsByReviewer[c.Reviewer.ID] = append(st.certsByReviewer[c.Reviewer.ID], c)
	st.certsByCampaign[c.Campaign.ID] = append(st.certsByCampaign[c.Campaign.ID], c)
	clear(st.sortedBy)
}

func (st *state) addItem(c *certification, it *item) {
	it.Cert = c
	c.items = append(c.items, it)
	st.itemByID[it.ID] = it
}

// sortIdentities keeps identities ordered by name (the sorter ISC offers)
// and rebuilds the email and alias index.
func (st *state) sortIdentities() {
	clear(st.identitiesByKey)
	defer func() {
		for _, i := range st.identities {
			for _, k := range []string{"email:" + strings.ToLower(i.Email), "alias:" + strings.ToLower(i.Alias)} {
				st.identitiesByKey[k] = append(st.identitiesByKey[k], i)
			}
		}
	}()
	slices.SortFunc(st.identities, func(a, b *identity) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// certsSorted returns all certifications in the order of the sorters,
// cached until certifications are added or signed (the sort keys name,
// due and signed change only then).
func (st *state) certsSorted(sorters []sorter) []*certification {
	var key strings.Builder
	for _, so := range sorters {
		if so.desc {
			key.WriteByte('-')
		}
		key.WriteString(so.field)
		key.WriteByte(',')
	}
	if s, ok := st.sortedBy[key.String()]; ok {
		return s
	}
	s := slices.Clone(st.certs)
	sortCerts(s, sorters)
	st.sortedBy[key.String()] = s
	return s
}

// reviewersOf lists who reviews a certification's work: its own reviewer,
// then the reviewers of certifications made from it by reassignment that
// still hold items, in the order they were created.
func (st *state) reviewersOf(c *certification) []*identity {
	out := []*identity{c.Reviewer}
	seen := map[string]bool{c.Reviewer.ID: true}
	for _, other := range st.certsByCampaign[c.Campaign.ID] {
		if other.Reassignment != nil && other.Reassignment.From == c && len(other.items) > 0 && !seen[other.Reviewer.ID] {
			seen[other.Reviewer.ID] = true
			out = append(out, other.Reviewer)
		}
	}
	return out
}
