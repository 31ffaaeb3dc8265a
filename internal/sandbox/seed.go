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

// sourceSpecs are the connected systems; each gets a few entitlements.
var sourceSpecs = []struct {
	name, typ, attr string
	groups          []string
	// targets and rights give entitlements permissions.
	targets []string
	rights  [][]string
}{
	{"Active Directory", "Active Directory - Direct", "memberOf",
		[]string{"Finance-Readers", "Finance-Approvers", "Engineering", "VPN-Users", "Domain Admins", "HR-Confidential"},
		[]string{"\\\\fs01\\finance", "\\\\fs01\\hr", "\\\\fs02\\eng"}, [][]string{{"read"}, {"read", "write"}, {"read", "write", "delete"}}},
	{"Oracle ERP", "JDBC", "role",
		[]string{"GL_INQUIRY", "AP_CLERK", "AR_MANAGER", "DBA"},
		[]string{"SYS.GV_$TRANSACTION", "SYS.OBJAUTH2", "GL.JOURNALS", "AP.INVOICES"}, [][]string{{"SELECT"}, {"SELECT", "INSERT"}, {"SELECT", "INSERT", "UPDATE", "DELETE"}}},
	{"AWS Production", "Amazon Web Services", "policy",
		[]string{"ReadOnlyAccess", "S3-Data-Lake-Write", "AdministratorAccess"},
		[]string{"arn:aws:s3:::acme-data-lake", "arn:aws:ec2:*:*:instance/*", "arn:aws:iam::*:role/*"}, [][]string{{"read"}, {"read", "write"}, {"read", "write", "admin"}}},
	{"Salesforce", "Salesforce", "profile",
		[]string{"Standard User", "Sales Manager", "System Administrator"}, nil, nil},
	{"Workday", "Workday", "securityGroup",
		[]string{"Employee Self Service", "HR Partner", "Payroll Administrator"}, nil, nil},
	{"GitHub Enterprise", "GitHub", "team",
		[]string{"developers", "maintainers", "org-owners"},
		[]string{"acme/payments", "acme/website", "acme/infrastructure"}, [][]string{{"read"}, {"read", "write"}, {"admin"}}},
}

var accessProfileNames = []string{
	"Finance Read Access", "Accounts Payable Clerk", "Sales Team Access", "Engineering Standard Access",
	"HR Partner Access", "Data Lake Contributor", "Payroll Processing", "Help Desk Tools",
}

var roleNames = []string{
	"Accounting Employees", "Software Engineer", "Sales Representative", "HR Business Partner",
	"IT Administrator", "Finance Manager",
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
	nIdent := max(40, cfg.Certifications*2+20)
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
	for _, spec := range sourceSpecs {
		src := &source{ID: ids.next(), Name: spec.name, Type: spec.typ}
		st.sources = append(st.sources, src)
		for gi, g := range spec.groups {
			value := g
			if spec.attr == "memberOf" {
				value = "CN=" + g + ",OU=Groups,DC=acme,DC=example"
			}
			e := &access{
				Type: "ENTITLEMENT", ID: ids.next(), Name: value, Source: src,
				Description:   fmt.Sprintf("%s %s on %s", g, spec.attr, spec.name),
				AttributeName: spec.attr, AttributeValue: value,
				Privileged: strings.Contains(g, "Admin") || g == "DBA" || g == "org-owners",
				Owner:      managers[rng.IntN(len(managers))],
				Created:    epoch,
			}
			for ti, target := range spec.targets {
				if (gi+ti)%2 == 0 || ti == 0 {
					e.Permissions = append(e.Permissions, permission{Target: target, Rights: spec.rights[(gi+ti)%len(spec.rights)]})
				}
			}
			entitlements = append(entitlements, e)
			st.catalog[e.ID] = e
		}
	}
	for i, name := range accessProfileNames {
		ap := &access{Type: "ACCESS_PROFILE", ID: ids.next(), Name: name, Description: "Access profile: " + name,
			Source: st.sources[i%len(st.sources)], Owner: managers[rng.IntN(len(managers))], Created: epoch}
		ap.Entitlements = []*access{entitlements[(2*i)%len(entitlements)], entitlements[(2*i+1)%len(entitlements)]}
		profiles = append(profiles, ap)
		st.catalog[ap.ID] = ap
	}
	for i, name := range roleNames {
		r := &access{Type: "ROLE", ID: ids.next(), Name: name, Description: "Business role: " + name,
			Owner: managers[rng.IntN(len(managers))], Privileged: name == "IT Administrator", Created: epoch}
		r.AccessProfiles = []*access{profiles[i%len(profiles)], profiles[(i+3)%len(profiles)]}
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
			MandatoryCommentRequirement: []string{"NO_DECISIONS", "REVOKE_ONLY_DECISIONS", "NO_DECISIONS", "ALL_DECISIONS"}[c%4],
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

	// Certifications: certification k belongs to campaign k mod C, at
	// position k div C within it; the reviewer rotates through the managers
	// so one person reviews in several campaigns, never twice in one.
	accessPattern := []string{"ENTITLEMENT", "ACCESS_PROFILE", "ROLE", "ENTITLEMENT", "ENTITLEMENT", "ACCESS_PROFILE", "ENTITLEMENT", "ROLE"}
	newID := ids.next
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
		// active people elsewhere; never the reviewer.
		nSubjects := min(max(1, (cfg.ItemsPerCertification+2)/3), len(activeStaff))
		var subjects []*identity
		if camp.Type == "MANAGER" {
			subjects = slices.Clone(reports[reviewer.ID])
		}
		for len(subjects) < nSubjects {
			p := activeStaff[rng.IntN(len(activeStaff))]
			if p != reviewer && !containsIdentity(subjects, p) {
				subjects = append(subjects, p)
			}
		}
		subjects = subjects[:min(len(subjects), nSubjects)]
		for j := 0; j < cfg.ItemsPerCertification; j++ {
			subject := subjects[j%len(subjects)]
			var acc *access
			switch accessPattern[j%len(accessPattern)] {
			case "ENTITLEMENT":
				acc = entitlements[(k*3+j)%len(entitlements)]
			case "ACCESS_PROFILE":
				acc = profiles[(k+j)%len(profiles)]
			default:
				acc = roles[(k+j)%len(roles)]
			}
			it := &item{ID: ids.next(), Summary: cert.summaryFor(subject, newID), Access: acc, NewAccess: j%5 == 4}
			if acc.Type == "ENTITLEMENT" {
				it.AccountID = ids.next()
				it.AccountName = subject.Alias
			}
			switch {
			case cert.Phase == "SIGNED":
				it.Completed, it.Decision = true, "APPROVE"
				if j%4 == 3 {
					it.Decision, it.Comments = "REVOKE", "No longer needed in this role."
				}
			case cert.Phase == "ACTIVE" && (rng.IntN(4) == 0 || k%12 == 9):
				// Every twelfth certification is fully decided and
				// awaits sign-off; the others are partly decided.
				it.Completed, it.Decision = true, "APPROVE"
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

func containsIdentity(list []*identity, p *identity) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

var foldReplacer = strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "é", "e", "í", "i", "á", "a")

// asciiFold makes a name usable in an email address.
func asciiFold(s string) string { return foldReplacer.Replace(s) }
