package certstest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/certs/certstest/tenanttest"
)

// TestTenantConformance runs the certs.Tenant suite on the fake, over a
// small tenant like the sandbox's: two campaigns, certifications in every
// phase, items of every access type, permissions, and two identities that
// share an email.
func TestTenantConformance(t *testing.T) {
	tenanttest.Run(t, func(t *testing.T) tenanttest.Fixture {
		tn := seed()
		return tenanttest.Fixture{Tenant: tn, FinishTasks: tn.FinishTasks, SharedEmail: "twin@acme.example"}
	})
}

var t0 = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

func seed() *certstest.Tenant {
	tn := certstest.NewTenant()
	tn.Now = func() time.Time { return t0 }
	people := map[string]string{}
	for _, p := range [][3]string{
		{"id-ana", "Ana Reviewer", "ana@acme.example"}, {"id-ben", "Ben Reviewer", "ben@acme.example"},
		{"id-cho", "Cho Reviewer", "cho@acme.example"}, {"id-dev", "Dev Reviewer", "dev@acme.example"},
		{"id-eli", "Eli Subject", "eli@acme.example"}, {"id-fay", "Fay Subject", "fay@acme.example"},
		{"id-gus", "Gus Subject", "gus@acme.example"}, {"id-hal", "Hal Subject", "hal@acme.example"},
		{"id-ivy", "Ivy Subject", "ivy@acme.example"}, {"id-jon", "Jon Left", "jon@acme.example"},
		{"id-twin-1", "Twin One", "twin@acme.example"}, {"id-twin-2", "Twin Two", "Twin@Acme.example"},
	} {
		tn.AddIdentity(p[0], p[1], p[2])
		people[p[0]] = p[1]
	}
	tn.SetIdentityState("id-jon", "INACTIVE_LONG_TERM")

	manager := certs.Campaign{ID: "camp-mgr", Name: "Manager Access Review", CampaignType: certs.CampaignManager}
	source := certs.Campaign{ID: "camp-src", Name: "Source Owner Review", CampaignType: certs.CampaignSourceOwner}
	due := func(days int) *time.Time { d := t0.Add(time.Duration(days) * 24 * time.Hour); return &d }
	reviewer := func(id string) certs.Reviewer {
		return certs.Reviewer{ID: id, Name: people[id], Email: id[3:] + "@acme.example", Type: certs.ReviewerIdentity}
	}
	add := func(id string, camp certs.Campaign, rev string, phase certs.Phase, dueIn *time.Time) {
		c := certs.Certification{ID: id, Name: camp.Name + " – " + people[rev], Campaign: camp, Reviewer: reviewer(rev),
			Phase: phase, Due: dueIn, Created: t0.Add(-30 * 24 * time.Hour), Modified: t0.Add(-24 * time.Hour)}
		if phase == certs.PhaseSigned {
			c.Completed, c.Signed = true, due(-1)
		}
		tn.AddCertification(c)
	}
	add("cert-1", manager, "id-ana", certs.PhaseActive, due(10))
	add("cert-2", manager, "id-ben", certs.PhaseActive, due(3))
	add("cert-3", source, "id-cho", certs.PhaseSigned, due(-5))
	add("cert-4", source, "id-dev", certs.PhaseActive, nil)
	add("cert-5", source, "id-ben", certs.PhaseStaged, due(30))

	n := 0
	item := func(cert, subject string, access certs.Access, decided bool) certs.ReviewItem {
		n++
		it := certs.ReviewItem{ID: fmt.Sprintf("item-%02d", n), Completed: decided, Access: access,
			IdentitySummary: certs.IdentitySummary{ID: "sum-" + subject[3:] + "-" + cert, Name: people[subject], IdentityID: subject}}
		if decided {
			it.Decision = certs.DecisionApprove
		}
		return it
	}
	finance := certs.Access{Type: certs.AccessEntitlement, ID: "ent-finance", Name: "Finance-Readers", SourceName: "Active Directory", HasPermissions: true}
	vpn := certs.Access{Type: certs.AccessEntitlement, ID: "ent-vpn", Name: "VPN-Users", SourceName: "Active Directory"}
	payables := certs.Access{Type: certs.AccessAccessProfile, ID: "ap-payables", Name: "Accounts Payable Clerk", SourceName: "Oracle ERP"}
	engineer := certs.Access{Type: certs.AccessRole, ID: "role-eng", Name: "Software Engineer"}
	admin := certs.Access{Type: certs.AccessEntitlement, ID: "ent-admin", Name: "Domain Admins", SourceName: "Active Directory", Privileged: true}

	cert1 := []certs.ReviewItem{
		item("cert-1", "id-eli", finance, false), item("cert-1", "id-eli", payables, false), item("cert-1", "id-eli", engineer, false),
		item("cert-1", "id-fay", vpn, false), item("cert-1", "id-fay", finance, true), item("cert-1", "id-gus", admin, false),
	}
	tn.AddItems("cert-1", cert1...)
	tn.AddItems("cert-2", item("cert-2", "id-hal", vpn, false), item("cert-2", "id-hal", payables, false),
		item("cert-2", "id-ivy", finance, false), item("cert-2", "id-ivy", engineer, true))
	tn.AddItems("cert-3", item("cert-3", "id-eli", admin, true), item("cert-3", "id-gus", vpn, true))
	tn.AddItems("cert-4", item("cert-4", "id-fay", payables, false), item("cert-4", "id-ivy", engineer, false))
	tn.AddItems("cert-5", item("cert-5", "id-hal", admin, false))

	perms := []certs.Permission{
		{Target: `\\fs01\finance`, Rights: []string{"read"}},
		{Target: `\\fs01\hr`, Rights: []string{"read", "write"}},
		{Target: "SYS.GV_$TRANSACTION", Rights: []string{"SELECT"}},
	}
	for _, it := range []certs.ReviewItem{cert1[0], cert1[4]} {
		tn.SetPermissions(it.ID, perms...)
	}
	return tn
}
