package sandbox

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The seed data: a deterministic tenant made from Config.Seed and the size.
// The same seed and size give the same ids, names, emails, reviewers, items
// and decisions; dates are relative to the clock's time when the sandbox is
// built (Config.Now at New), so "overdue" and "due soon" stay true whenever
// it runs. Tests that need fixed dates inject a fixed clock.
//
// For reviewing, the seed has: campaigns under each mandatory-comment rule
// in turn (the first reviewer client's cover all three); in every
// certification of a few identities, access several of them hold and
// access only one holds; privileged, cloud-governed and new access, entitlements with and
// without descriptions, permissions and classified data; accounts used
// daily, unused or of unknown use, and a few disabled; temporary access
// profile and role assignments (endDate); items already decided, with the
// comments their campaign requires (revocations always say why); and the
// admin client's identity among those a privileged access review
// certifies.

// idGen makes ISC-style ids: 32 lowercase hex characters.
type idGen struct{ r *rand.Rand }

func newIDGen(seed int64, stream uint64) *idGen {
	return &idGen{r: rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (g *idGen) next() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

var firstNames = []string{
	"Alison", "Bob", "Carmen", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ingrid", "Jamal",
	"Keiko", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tara",
	"Umar", "Valentina", "William", "Ximena", "Yusuf", "Zoe", "Aaron", "Beatriz", "Chen", "Dmitri",
	"Emma", "Felix", "Gabriela", "Hannah", "Isaac", "Julia", "Kofi", "Lucia", "Mateo", "Nadia",
	"Oscar", "Paula", "Rafael", "Sofia", "Thomas", "Ursula", "Victor", "Wen", "Yara", "Zane",
}

var lastNames = []string{
	"Ferguson", "Martinez", "Nakamura", "Okafor", "Schmidt", "Rossi", "Novak", "Haddad", "Kim", "Larsen",
	"Dubois", "Silva", "Kowalski", "Andersson", "Patel", "Murphy", "Ivanova", "Tanaka", "Fischer", "Moreau",
	"Costa", "Jensen", "Nguyen", "Garcia", "Brown", "Wilson", "Singh", "Müller", "Romero", "Cohen",
	"Edison", "Lovelace", "Hopper", "Turing", "Curie", "Meitner", "Noether", "Ramanujan", "Franklin", "Banda",
}

var departments = []string{"Finance", "Engineering", "Sales", "Human Resources", "Operations", "Legal", "IT", "Marketing"}
var countries = []string{"US", "GB", "DE", "FR", "IN", "JP", "BR", "CA"}

// groupSpec is one entitlement of a source.
type groupSpec struct {
	name string
	// description is empty for a few entitlements, as in real tenants
	// (ISC's ReviewableEntitlement description is nullable).
	description string
	privileged  bool
	data        *dataAccess
}

// sourceSpecs are the connected systems and their entitlements.
var sourceSpecs = []struct {
	name, typ, attr string
	// cloud sources' entitlements are cloud governed.
	cloud  bool
	groups []groupSpec
	// targets and rights give entitlements permissions.
	targets []string
	rights  [][]string
}{
	{"Active Directory", "Active Directory - Direct", "memberOf", false, []groupSpec{
		{"Finance-Readers", `Read access to the finance file share (\\fs01\finance).`, false,
			&dataAccess{Policies: []string{"SOX"}, Categories: []dataCategory{{"financial-records", 312}}, ImpactScore: "Medium"}},
		{"Finance-Approvers", "Approves payments and journal entries above the team's limits.", false, nil},
		{"Engineering", "Engineering staff: build servers and the engineering file share.", false, nil},
		{"VPN-Users", "Remote access through the corporate VPN.", false, nil},
		{"Domain Admins", "Full administrative control of the Active Directory domain.", true, nil},
		{"HR-Confidential", `Read and write access to confidential HR records (\\fs01\hr).`, false,
			&dataAccess{Policies: []string{"GDPR"}, Categories: []dataCategory{{"personal-data", 1240}, {"salary", 310}}, ImpactScore: "High"}},
	}, []string{"\\\\fs01\\finance", "\\\\fs01\\hr", "\\\\fs02\\eng"}, [][]string{{"read"}, {"read", "write"}, {"read", "write", "delete"}}},
	{"Oracle ERP", "JDBC", "role", false, []groupSpec{
		{"GL_INQUIRY", "Read-only inquiry on general ledger balances and journals.", false, nil},
		{"AP_CLERK", "Enters and edits supplier invoices in Accounts Payable.", false, nil},
		{"AR_MANAGER", "", false, nil},
		{"DBA", "Database administrator: unrestricted access to every schema.", true, nil},
	}, []string{"SYS.GV_$TRANSACTION", "SYS.OBJAUTH2", "GL.JOURNALS", "AP.INVOICES"}, [][]string{{"SELECT"}, {"SELECT", "INSERT"}, {"SELECT", "INSERT", "UPDATE", "DELETE"}}},
	{"AWS Production", "Amazon Web Services", "policy", true, []groupSpec{
		{"ReadOnlyAccess", "Read-only access to the production AWS account.", false, nil},
		{"S3-Data-Lake-Write", "Writes to the acme-data-lake S3 bucket, which holds customer data.", false,
			&dataAccess{Policies: []string{"GDPR", "CCPA"}, Categories: []dataCategory{{"personal-data", 48210}, {"email", 9120}}, ImpactScore: "High"}},
		{"AdministratorAccess", "Full administrative access to the production AWS account.", true, nil},
	}, []string{"arn:aws:s3:::acme-data-lake", "arn:aws:ec2:*:*:instance/*", "arn:aws:iam::*:role/*"}, [][]string{{"read"}, {"read", "write"}, {"read", "write", "admin"}}},
	{"Salesforce", "Salesforce", "profile", false, []groupSpec{
		{"Standard User", "Standard Salesforce user: own accounts, contacts and opportunities.", false, nil},
		{"Sales Manager", "Manages the team's pipeline and forecasts; sees every opportunity of the team.", false, nil},
		{"System Administrator", "Full Salesforce administration, including users, profiles and data export.", true, nil},
	}, nil, nil},
	{"Workday", "Workday", "securityGroup", false, []groupSpec{
		{"Employee Self Service", "Own profile, time off and payslips.", false, nil},
		{"HR Partner", "Views and edits the worker records of a supported organization.", false, nil},
		{"Payroll Administrator", "Runs payroll and changes the pay and bank details of any worker.", true, nil},
	}, nil, nil},
	{"GitHub Enterprise", "GitHub", "team", false, []groupSpec{
		{"developers", "Write access to the application repositories.", false, nil},
		{"maintainers", "", false, nil},
		{"org-owners", "Owners of the acme GitHub organization: repositories, members and settings.", true, nil},
	}, []string{"acme/payments", "acme/website", "acme/infrastructure"}, [][]string{{"read"}, {"read", "write"}, {"admin"}}},
}

// accessProfileSpecs are the access profiles: each on one source, with
// entitlements of that source (named as in sourceSpecs). An access profile
// is privileged or cloud governed when one of its entitlements is.
var accessProfileSpecs = []struct {
	name, description, source string
	entitlements              []string
}{
	{"Finance Read Access", "Read access to finance data: the finance share and remote access.", "Active Directory", []string{"Finance-Readers", "VPN-Users"}},
	{"Accounts Payable Clerk", "Enter supplier invoices and look up the general ledger.", "Oracle ERP", []string{"GL_INQUIRY", "AP_CLERK"}},
	{"Sales Team Access", "Salesforce access for the sales team and its managers.", "Salesforce", []string{"Standard User", "Sales Manager"}},
	{"Engineering Standard Access", "Write access to the application repositories, and their maintenance.", "GitHub Enterprise", []string{"developers", "maintainers"}},
	{"HR Partner Access", "Worker records of the supported organization, and self service.", "Workday", []string{"Employee Self Service", "HR Partner"}},
	{"Data Lake Contributor", "Read the production account and write to the customer data lake.", "AWS Production", []string{"ReadOnlyAccess", "S3-Data-Lake-Write"}},
	{"Payroll Processing", "Run payroll and change any worker's pay and bank details.", "Workday", []string{"Payroll Administrator", "Employee Self Service"}},
	{"Help Desk Tools", "Remote access and the engineering tools the help desk supports.", "Active Directory", []string{"VPN-Users", "Engineering"}},
}

// roleSpecs are the business roles: access profiles and entitlements
// granted directly.
var roleSpecs = []struct {
	name, description string
	privileged        bool
	accessProfiles    []string
	entitlements      []string
}{
	{"Accounting Employees", "Everyone in accounting: finance data and supplier invoices.", false,
		[]string{"Finance Read Access", "Accounts Payable Clerk"}, nil},
	{"Software Engineer", "Engineers: repositories, the data lake, engineering servers.", false,
		[]string{"Engineering Standard Access", "Data Lake Contributor"}, []string{"Engineering"}},
	{"Sales Representative", "Sales staff: Salesforce.", false,
		[]string{"Sales Team Access"}, nil},
	{"HR Business Partner", "HR partners: worker records and confidential HR files.", false,
		[]string{"HR Partner Access"}, []string{"HR-Confidential"}},
	{"IT Administrator", "Administrators of the directory and the production cloud account.", true,
		[]string{"Help Desk Tools"}, []string{"Domain Admins", "AdministratorAccess"}},
	{"Finance Manager", "Finance managers: approvals and receivables on top of accounting access.", false,
		[]string{"Finance Read Access", "Accounts Payable Clerk"}, []string{"Finance-Approvers", "AR_MANAGER"}},
}

// campaignSpec names a campaign of each type.
var campaignSpecs = map[string]struct{ name, description string }{
	"MANAGER":          {"Manager Access Review", "Managers review the access of their direct reports."},
	"SOURCE_OWNER":     {"Source Owner Review", "Source owners review who has access to their systems."},
	"SEARCH":           {"Privileged Access Review", "Review of privileged access found by search."},
	"ROLE_COMPOSITION": {"Role Composition Review", "Role owners review what their roles grant."},
	"MACHINE_ACCOUNT":  {"Machine Account Review", "Owners review service and machine accounts."},
}

var campaignTypes = []string{"MANAGER", "SOURCE_OWNER", "SEARCH", "ROLE_COMPOSITION", "MACHINE_ACCOUNT"}

// dueOffsets spread campaign deadlines: overdue, due soon, and later.
var dueOffsets = []time.Duration{-3 * 24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour, 26 * time.Hour}

const (
	emailDomain = "acme.example"
	// maxCertsPerCampaign keeps campaigns at a realistic size; more
	// certifications mean more campaigns.
	maxCertsPerCampaign = 40
)

// seed builds the tenant.
func seed(cfg Config, now time.Time) *state {
	st := newState()
	ids := newIDGen(cfg.Seed, 1)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 2))
	now = now.UTC().Truncate(time.Millisecond)
	epoch := now.Add(-90 * 24 * time.Hour)

	// Identities: managers first (a tree under the CEO), then staff.
	// Enough people for every certification's subjects to be different
	// people, however many items a certification has.
	nIdent := max(40, cfg.Certifications*2+20, subjectsPerCert(cfg.ItemsPerCertification)*6/5+20)
	nManagers := max(6, nIdent/8)
	emails := map[string]int{}
	mkIdentity := func(first, last string) *identity {
		local := strings.ToLower(asciiFold(first) + "." + asciiFold(last))
		emails[local]++
		if n := emails[local]; n > 1 {
			local = fmt.Sprintf("%s%d", local, n)
		}
		id := &identity{
			ID: ids.next(), First: first, Last: last, Name: first + " " + last,
			Alias: local, Email: local + "@" + emailDomain,
			State: "ACTIVE", Status: "Active", Correlated: true,
			Department: departments[rng.IntN(len(departments))],
			Country:    countries[rng.IntN(len(countries))],
			Phone:      fmt.Sprintf("+1 512 555 %04d", rng.IntN(10000)),
			Created:    epoch.Add(-time.Duration(rng.IntN(1000)) * 24 * time.Hour),
		}
		st.identities = append(st.identities, id)
		st.identityByID[id.ID] = id
		return id
	}
	people := make([]*identity, 0, nIdent)
	for i := 0; i < nIdent; i++ {
		people = append(people, mkIdentity(firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]))
	}
	managers := people[:nManagers]
	for j := 1; j < nManagers; j++ {
		managers[j].ManagerID = managers[(j-1)/4].ID
	}
	staff := people[nManagers:]
	for i, p := range staff {
		p.ManagerID = managers[i%nManagers].ID
	}
	// A few people have left: they cannot take review work.
	for i := len(staff) - 1; i >= 0 && i >= len(staff)-max(2, len(staff)/50); i-- {
		staff[i].State, staff[i].Status = "INACTIVE_LONG_TERM", "Terminated"
	}
	// The admin client's own identity (it reviews nothing).
	st.admin = mkIdentity("Sandbox", "Admin")
	st.admin.Department = "IT"
	// Service accounts: uncorrelated, no last name or email, so
	// add-core-filters leaves them out.
	for _, name := range []string{"svc-backup", "svc-integration"} {
		sa := &identity{ID: ids.next(), Name: name, Alias: name, State: "ACTIVE", Status: "Active", Created: epoch}
		st.identities = append(st.identities, sa)
		st.identityByID[sa.ID] = sa
	}
	st.sortIdentities()

	// The access catalog.
	var entitlements, profiles, roles []*access
	byName := map[string]*access{} // entitlements and access profiles
	for _, spec := range sourceSpecs {
		src := &source{ID: ids.next(), Name: spec.name, Type: spec.typ}
		st.sources = append(st.sources, src)
		for gi, g := range spec.groups {
			value := g.name
			if spec.attr == "memberOf" {
				value = "CN=" + g.name + ",OU=Groups,DC=acme,DC=example"
			}
			e := &access{
				Type: "ENTITLEMENT", ID: ids.next(), Name: value, Source: src, Description: g.description,
				AttributeName: spec.attr, AttributeValue: value,
				Privileged: g.privileged, CloudGoverned: spec.cloud, DataAccess: g.data,
				Owner:   managers[rng.IntN(len(managers))],
				Created: epoch,
			}
			for ti, target := range spec.targets {
				if (gi+ti)%2 == 0 || ti == 0 {
					e.Permissions = append(e.Permissions, permission{Target: target, Rights: spec.rights[(gi+ti)%len(spec.rights)]})
				}
			}
			entitlements = append(entitlements, e)
			st.catalog[e.ID] = e
			byName[spec.name+"/"+g.name] = e
		}
	}
	sourceByName := map[string]*source{}
	for _, src := range st.sources {
		sourceByName[src.Name] = src
	}
	for _, spec := range accessProfileSpecs {
		ap := &access{Type: "ACCESS_PROFILE", ID: ids.next(), Name: spec.name, Description: spec.description,
			Source: sourceByName[spec.source], Owner: managers[rng.IntN(len(managers))], Created: epoch}
		for _, name := range spec.entitlements {
			e := byName[spec.source+"/"+name]
			ap.Entitlements = append(ap.Entitlements, e)
			ap.Privileged = ap.Privileged || e.Privileged
			ap.CloudGoverned = ap.CloudGoverned || e.CloudGoverned
		}
		profiles = append(profiles, ap)
		st.catalog[ap.ID] = ap
		byName[spec.name] = ap
	}
	for _, spec := range roleSpecs {
		r := &access{Type: "ROLE", ID: ids.next(), Name: spec.name, Description: spec.description,
			Owner: managers[rng.IntN(len(managers))], Privileged: spec.privileged, Created: epoch}
		for _, name := range spec.accessProfiles {
			r.AccessProfiles = append(r.AccessProfiles, byName[name])
		}
		for _, name := range spec.entitlements {
			r.Entitlements = append(r.Entitlements, entitlementNamed(entitlements, name))
		}
		roles = append(roles, r)
		st.catalog[r.ID] = r
	}

	// Campaigns: at least one of each type.
	perCampaign := min(maxCertsPerCampaign, nManagers)
	nCampaigns := max(len(campaignTypes), (cfg.Certifications+perCampaign-1)/perCampaign)
	for c := 0; c < nCampaigns; c++ {
		typ := campaignTypes[c%len(campaignTypes)]
		spec := campaignSpecs[typ]
		created := now.Add(-30*24*time.Hour + time.Duration(c)*time.Hour)
		camp := &campaign{
			ID: ids.next(), Type: typ,
			Name:                        fmt.Sprintf("%s %s %d", spec.name, created.Format("Jan 2006"), c/len(campaignTypes)+1),
			Description:                 spec.description,
			CorrelatedStatus:            "CORRELATED",
			MandatoryCommentRequirement: commentRules[c%len(commentRules)],
			Due:                         now.Add(dueOffsets[c%len(dueOffsets)]),
			Created:                     created,
		}
		if typ == "SOURCE_OWNER" && c%2 == 1 {
			camp.CorrelatedStatus = "UNCORRELATED"
		}
		st.campaigns = append(st.campaigns, camp)
		st.campaignByID[camp.ID] = camp
	}

	// Direct reports, for manager campaigns.
	reports := map[string][]*identity{}
	for _, p := range people {
		if p.ManagerID != "" && p.active() {
			reports[p.ManagerID] = append(reports[p.ManagerID], p)
		}
	}
	activeStaff := make([]*identity, 0, len(staff))
	for _, p := range staff {
		if p.active() {
			activeStaff = append(activeStaff, p)
		}
	}
	nSubjects := min(subjectsPerCert(cfg.ItemsPerCertification), len(activeStaff))
	catalog := map[string][]*access{"ENTITLEMENT": entitlements, "ACCESS_PROFILE": profiles, "ROLE": roles}

	// Certifications: certification k belongs to campaign k mod C, at
	// position k div C within it; the reviewer rotates through the managers
	// so one person reviews in several campaigns, never twice in one (and
	// the first reviewer's campaigns cover every mandatory-comment rule).
	newID := ids.next
	type holding struct {
		who *identity
		acc *access
	}
	held := map[holding]bool{}
	for k := 0; k < cfg.Certifications; k++ {
		camp := st.campaigns[k%nCampaigns]
		pos := k / nCampaigns
		reviewer := managers[(pos+(k%nCampaigns)*3)%nManagers]
		cert := &certification{
			ID:        ids.next(),
			Name:      fmt.Sprintf("%s for %s", campaignSpecs[camp.Type].name, reviewer.Name),
			Campaign:  camp,
			Reviewer:  reviewer,
			Phase:     "ACTIVE",
			Due:       camp.Due,
			Created:   camp.Created,
			Modified:  camp.Created,
			summaries: map[string]*identitySummary{},
		}
		switch {
		case k%25 == 11:
			cert.Phase = "STAGED"
		case k%12 == 5:
			cert.Phase = "SIGNED"
		}
		// Who is certified: direct reports in manager campaigns, other
		// active people elsewhere; never the reviewer. The first
		// certification of each privileged access review also certifies
		// the admin client's identity, so an admin can meet their own
		// access.
		var subjects []*identity
		if camp.Type == "MANAGER" {
			subjects = slices.Clone(reports[reviewer.ID])
		}
		if camp.Type == "SEARCH" && pos == 0 {
			subjects = append(subjects, st.admin)
		}
		chosen := map[*identity]bool{reviewer: true}
		for _, p := range subjects {
			chosen[p] = true
		}
		for len(subjects) < nSubjects {
			p := activeStaff[rng.IntN(len(activeStaff))]
			if !chosen[p] {
				chosen[p] = true
				subjects = append(subjects, p)
			}
		}
		subjects = subjects[:min(len(subjects), nSubjects)]
		clear(held)
		for j := 0; j < cfg.ItemsPerCertification; j++ {
			si, r := j%len(subjects), j/len(subjects)
			subject := subjects[si]
			acc := pickAccess(k, r, si, catalog[roundTypes[r%len(roundTypes)]], func(a *access) bool { return held[holding{subject, a}] })
			held[holding{subject, acc}] = true
			it := &item{ID: ids.next(), Summary: cert.summaryFor(subject, newID), Access: acc, NewAccess: (j+k)%4 == 3}
			if acc.Type == "ENTITLEMENT" {
				it.AccountID = ids.next()
				it.AccountName = subject.Alias
				it.UsageDays, it.UsageUnknown = accountUsage(j, k)
				it.AccountDisabled = (j+3*k)%13 == 5
			} else if (j+2*k)%5 == 1 {
				// A temporary assignment, ending in a few weeks.
				it.EndDate = now.Add(time.Duration(20+(j+k)%40) * 24 * time.Hour)
			}
			decided := cert.Phase == "SIGNED"
			if cert.Phase == "ACTIVE" && (rng.IntN(4) == 0 || k%12 == 9) {
				// Every twelfth certification is fully decided and
				// awaits sign-off; the others are partly decided.
				decided = true
			}
			if decided {
				it.Completed, it.Decision = true, "APPROVE"
				if (j+k)%5 == 3 {
					it.Decision = "REVOKE"
				}
				it.Comments = seedComment(camp.MandatoryCommentRequirement, it.Decision, j+k)
			}
			st.addItem(cert, it)
		}
		for _, s := range cert.summaryOrder {
			st.summaryByID[s.ID] = s
		}
		if cert.Phase == "SIGNED" {
			cert.Signed = camp.Created.Add(time.Duration(5+k%7) * 24 * time.Hour)
			if cert.Signed.After(now) {
				cert.Signed = now.Add(-time.Hour)
			}
			cert.Modified = cert.Signed
		}
		// Some certifications were made by an earlier reassignment from
		// the first certification of their campaign.
		if k%12 == 7 && pos > 0 {
			from := st.certsByCampaign[camp.ID][0]
			cert.Reassignment = &reassignedFrom{From: from, Comment: "Reassigned: " + reviewer.First + " owns this team's access now."}
		}
		cert.recount()
		st.addCert(cert)
	}
	return st
}

// entitlementNamed finds an entitlement by its group name (the seed's
// names are unique across sources).
func entitlementNamed(entitlements []*access, name string) *access {
	for _, e := range entitlements {
		if e.Name == name || strings.HasPrefix(e.Name, "CN="+name+",") {
			return e
		}
	}
	panic("sandbox: seed: no entitlement " + name)
}

var foldReplacer = strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "é", "e", "í", "i", "á", "a")

// asciiFold makes a name usable in an email address.
func asciiFold(s string) string { return foldReplacer.Replace(s) }

// subjectsPerCert is how many identities a certification with n items
// certifies: about three items each.
func subjectsPerCert(n int) int { return max(1, (n+2)/3) }

// commentRules are the campaigns' mandatory-comment rules, in turn
// (CampaignReference mandatoryCommentRequirement).
var commentRules = []string{"NO_DECISIONS", "REVOKE_ONLY_DECISIONS", "ALL_DECISIONS"}

// roundTypes is the access type of each round of items: the subjects of a
// certification get one item each per round.
var roundTypes = []string{"ENTITLEMENT", "ACCESS_PROFILE", "ROLE", "ENTITLEMENT", "ENTITLEMENT", "ACCESS_PROFILE", "ENTITLEMENT", "ROLE"}

// pickAccess chooses the access of subject si's item in round r of
// certification k from pool. Whether the subjects of a round share their
// access turns with the round and the certification: all of them hold the
// same access, each holds a different one, or each pair holds one. So every
// certification of a few rounds has access several of its identities hold
// and access exactly one holds. An access the subject already holds in
// the certification (held) is skipped while the pool has another.
func pickAccess(k, r, si int, pool []*access, held func(*access) bool) *access {
	var group int
	switch (r + k) % 3 {
	case 0: // everyone
	case 1: // each their own
		group = si
	default: // pairs
		group = si / 2
	}
	start := k*7 + r*5 + group
	for n := 0; n < len(pool); n++ {
		if a := pool[(start+n)%len(pool)]; !held(a) {
			return a
		}
	}
	return pool[start%len(pool)]
}

var (
	approveComments = []string{
		"Still needed for current duties.",
		"Confirmed with the team lead.",
		"Used daily for month-end close.",
	}
	revokeComments = []string{
		"No longer needed in this role.",
		"Moved to another team.",
		"Not used in the last 90 days.",
	}
)

// seedComment is the comment of a seeded decision: revokes always say
// why, approvals when the campaign requires it and now and then otherwise.
func seedComment(rule, decision string, n int) string {
	if decision == "REVOKE" {
		return revokeComments[n%len(revokeComments)]
	}
	if rule == "ALL_DECISIONS" || n%3 == 0 {
		return approveComments[n%len(approveComments)]
	}
	return ""
}

// accountUsage is an account's activity (ActivityInsights): days of use in
// the last 90 (0 for some: unused), or unknown for a few.
func accountUsage(j, k int) (days int, unknown bool) {
	switch h := (j*7 + k*13) % 23; {
	case h == 0:
		return 0, true
	case h <= 3:
		return 0, false
	default:
		return 1 + (j*31+k*17)%90, false
	}
}
