package sandbox_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestSeedIsDeterministic(t *testing.T) {
	clk := newClock()
	a := start(t, sandbox.Config{Seed: 42, Now: clk.Now})
	b := start(t, sandbox.Config{Seed: 42, Now: clk.Now})
	c := start(t, sandbox.Config{Seed: 43, Now: clk.Now})
	assert.Equal(t, a.certs(""), b.certs(""))
	assert.Equal(t, a.sb.Clients(), b.sb.Clients())
	assert.NotEqual(t, a.certs("")[0].ID, c.certs("")[0].ID)
	id := a.certs("")[0].ID
	assert.Equal(t, a.items(id, ""), b.items(id, ""))

	// Dates are relative to the clock at start: some overdue, some soon.
	now := clk.Now()
	overdue, soon := 0, 0
	for _, cert := range a.certs("") {
		due, err := time.Parse(time.RFC3339, *cert.Due)
		require.NoError(t, err)
		switch {
		case due.Before(now):
			overdue++
		case due.Before(now.Add(3 * 24 * time.Hour)):
			soon++
		}
	}
	assert.Positive(t, overdue)
	assert.Positive(t, soon)
}

func TestSeedContents(t *testing.T) {
	tn := start(t, sandbox.Config{})
	clients := tn.sb.Clients()
	require.Len(t, clients, 4)
	assert.Equal(t, sandbox.Credential{ClientID: "sandbox-admin", ClientSecret: "sandbox-admin-secret", Role: "admin",
		IdentityID: clients[0].IdentityID, Name: "Sandbox Admin", Email: "sandbox.admin@acme.example"}, clients[0])
	for i, c := range clients[1:] {
		assert.Equal(t, "reviewer", c.Role)
		assert.Equal(t, "sandbox-reviewer-"+string(rune('1'+i)), c.ClientID)
		assert.Equal(t, c.ClientID+"-secret", c.ClientSecret)
	}
	reassigned, awaitingSignOff := 0, 0
	for _, c := range tn.certs("") {
		if c.Phase == "ACTIVE" && c.Completed {
			awaitingSignOff++
		}
		if c.Reassignment != nil {
			reassigned++
			assert.NotEqual(t, c.ID, c.Reassignment.From.ID)
		}
	}
	assert.Positive(t, reassigned, "some certifications were reassigned")
	assert.Positive(t, awaitingSignOff, "some are fully decided, awaiting sign-off")
}

func TestLargeSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 items")
	}
	tn := start(t, sandbox.Config{Certifications: sandbox.LargeCertifications, ItemsPerCertification: sandbox.LargeItemsPerCert})
	res := tn.admin("GET", "/v3/certifications?limit=1&count=true", nil)
	assert.Equal(t, "10000", res.Header.Get("X-Total-Count"))
	last := tn.certs("limit=1&offset=9999")
	require.Len(t, last, 1)
	assert.Equal(t, 10, last[0].DecisionsTotal)
	holders := map[string]int{}
	for _, it := range tn.items(last[0].ID, "") {
		holders[it.AccessSummary.Access.ID]++
	}
	counts := map[bool]int{} // several holders → how many accesses
	for _, n := range holders {
		counts[n > 1]++
	}
	assert.Positive(t, counts[false], "access one identity holds")
	assert.Positive(t, counts[true], "access several identities hold")
}

// A certification of many items certifies many people, each holding any
// access once.
func TestSeedBigCertification(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 2, ItemsPerCertification: 600, RateLimit: -1})
	cert := tn.certs("")[0]
	require.Equal(t, 600, cert.DecisionsTotal)
	assert.Equal(t, 200, cert.IdentitiesTotal)
	seen := map[[2]string]bool{}
	for off := 0; off < 600; off += 250 {
		for _, it := range tn.items(cert.ID, fmt.Sprintf("limit=250&offset=%d", off)) {
			k := [2]string{it.IdentitySummary.IdentityID, it.AccessSummary.Access.ID}
			assert.False(t, seen[k], "%s holds %s once", it.IdentitySummary.Name, it.AccessSummary.Access.Name)
			seen[k] = true
		}
	}
	assert.Len(t, seen, 600)
}

// The seed has what reviewing needs: a campaign under each
// mandatory-comment rule, access several identities of a certification
// hold and access only one holds, privileged and new access in every
// combination, decisions already made with comments (as the campaign's
// rule requires), managers, and the admin's own access under review.
func TestSeedForReviews(t *testing.T) {
	tn := start(t, sandbox.Config{RateLimit: -1})
	rules := []string{"NO_DECISIONS", "REVOKE_ONLY_DECISIONS", "ALL_DECISIONS"}
	active := map[string]int{}
	var approvedWithComment, revokedWithComment int
	for _, c := range tn.certs("") {
		rule := c.Campaign.MandatoryCommentRequirement
		require.Contains(t, rules, rule)
		if c.Phase == "ACTIVE" {
			active[rule]++
		}
		items := tn.items(c.ID, "")
		holders := map[string]map[string]bool{} // access id → identity ids
		for _, it := range items {
			acc := it.AccessSummary.Access.ID
			if holders[acc] == nil {
				holders[acc] = map[string]bool{}
			}
			assert.False(t, holders[acc][it.IdentitySummary.IdentityID], "%s: %s holds %s once", c.Name, it.IdentitySummary.Name, it.AccessSummary.Access.Name)
			holders[acc][it.IdentitySummary.IdentityID] = true

			if !it.Completed {
				assert.Empty(t, it.Decision, "an open item has no decision")
				assert.Nil(t, it.Comments)
				continue
			}
			comment := ""
			if it.Comments != nil {
				comment = *it.Comments
			}
			if rule == "ALL_DECISIONS" || (rule == "REVOKE_ONLY_DECISIONS" && it.Decision == "REVOKE") {
				assert.NotEmpty(t, comment, "%s (%s): the seeded %s of item %s has the comment the rule requires", c.Name, rule, it.Decision, it.ID)
			}
			if comment != "" && c.Phase == "ACTIVE" {
				switch it.Decision {
				case "APPROVE":
					approvedWithComment++
				case "REVOKE":
					revokedWithComment++
				}
			}
		}
		shared, single := 0, 0
		for _, ids := range holders {
			if len(ids) > 1 {
				shared++
			} else {
				single++
			}
		}
		assert.Positive(t, shared, "%s: some access is held by several of its identities", c.Name)
		assert.Positive(t, single, "%s: some access is held by one of its identities only", c.Name)
	}
	for _, rule := range rules {
		assert.Positive(t, active[rule], "an active certification under %s", rule)
	}
	assert.Positive(t, approvedWithComment, "approvals with comments")
	assert.Positive(t, revokedWithComment, "revocations with comments")

	// The first reviewer meets every rule, and privileged and new access
	// in every combination.
	rev := tn.cred("sandbox-reviewer-1")
	var mine []certDto
	tn.as(rev.ClientID, "GET", "/v3/certifications?filters="+q(`phase eq "ACTIVE"`), nil).decode(t, &mine)
	myRules := map[string]bool{}
	combos := map[[2]bool]int{}
	for _, c := range mine {
		myRules[c.Campaign.MandatoryCommentRequirement] = true
		for _, it := range tn.evidenceItems("/v3/certifications/", c.ID) {
			combos[[2]bool{it.privileged(), it.NewAccess}]++
		}
	}
	assert.Len(t, myRules, 3, "sandbox-reviewer-1 reviews under every mandatory-comment rule")
	for _, combo := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		assert.Positive(t, combos[combo], "sandbox-reviewer-1 has items privileged=%v new=%v", combo[0], combo[1])
	}

	// A manager review certifies the reviewer's direct reports, whose
	// manager the public identities name.
	first := tn.certs("")[0]
	require.Equal(t, "MANAGER", first.Campaign.CampaignType)
	seen := map[string]bool{}
	for _, it := range tn.items(first.ID, "") {
		id := it.IdentitySummary.IdentityID
		if seen[id] {
			continue
		}
		seen[id] = true
		var got []identityDto
		tn.admin("GET", "/v3/public-identities?filters="+q(`id eq "`+id+`"`), nil).decode(t, &got)
		require.Len(t, got, 1)
		require.NotNil(t, got[0].Manager, "%s has a manager", got[0].Name)
		assert.Equal(t, first.Reviewer.ID, got[0].Manager.ID)
	}

	// The admin client's identity reviews nothing, but a privileged access
	// review certifies its access; it has no manager.
	admin := tn.cred(sandbox.AdminClientID)
	var reviewedIn []string
	for _, c := range tn.certs("") {
		assert.NotEqual(t, admin.IdentityID, c.Reviewer.ID)
		if len(tn.items(c.ID, "filters="+q(`identitySummary.name eq "`+admin.Name+`"`))) > 0 {
			reviewedIn = append(reviewedIn, c.Campaign.CampaignType)
		}
	}
	assert.Equal(t, []string{"SEARCH"}, reviewedIn)
	var adminIdentity []identityDto
	tn.admin("GET", "/v3/public-identities?filters="+q(`id eq "`+admin.IdentityID+`"`), nil).decode(t, &adminIdentity)
	require.Len(t, adminIdentity, 1)
	assert.Nil(t, adminIdentity[0].Manager)
}
