// Package tenanttest is the conformance suite of certs.Tenant: what the
// certs Service and the people behind it rely on when they read a tenant or
// reassign review work, asserted the same way on every implementation.
//
// It runs on sailpoint.Client over the sandbox (which is itself checked
// against SailPoint's OpenAPI specs, so this is as close to ISC as a test
// gets) and on certstest.Tenant, the fake the Service's own tests use, so
// that the fake cannot drift from the real thing unnoticed.
//
// The suite finds its data by reading the tenant, so the tenant only has to
// hold enough of it (see Fixture), and it never depends on the wall clock:
// tasks advance when the suite calls Fixture.FinishTasks.
package tenanttest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// Fixture is one fresh tenant for one test.
//
// The tenant must hold at least 4 certifications in at least 2 campaigns;
// at least one ACTIVE, not completed certification with at least 4 open
// review items of at least 2 identities, whose reviewer and subjects are
// identities GetIdentity finds; at least one other identity that reviews a
// certification and is active; an entitlement item with permissions; and
// every reviewer must have an email. The sandbox's small seed does;
// certstest's test builds a tenant that does.
type Fixture struct {
	Tenant certs.Tenant
	// FinishTasks runs every pending task to its end: SUCCESS, or ERROR
	// when it can no longer be applied. (The sandbox: its clock moves past
	// the tasks' run time. certstest.Tenant: FinishTasks.)
	FinishTasks func()
	// SharedEmail is an email that several identities have, so that
	// FindIdentityByEmail must answer ECONFLICT; "" when the tenant has
	// none (the sandbox's emails are unique), and that check is skipped.
	SharedEmail string
}

// Run runs the suite, each test on a fresh fixture from newFixture.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	tests := []struct {
		name string
		run  func(t *testing.T, f Fixture)
	}{
		{"certifications: pages", testCertificationPages},
		{"certifications: filters and sorters", testCertificationFilters},
		{"certifications: all pages", testListAllCertifications},
		{"certifications: get", testGetCertification},
		{"reviewers", testReviewers},
		{"review items: pages", testReviewItemPages},
		{"review items: filters", testReviewItemFilters},
		{"review items: access selectors", testReviewItemSelectors},
		{"review items: all pages", testListAllReviewItems},
		{"permissions", testPermissions},
		{"identities", testIdentities},
		{"identities: search", testSearchIdentities},
		{"invalid arguments", testInvalidArguments},
		{"reassign: synchronous", testReassignSync},
		{"reassign: synchronous, by identity summary", testReassignSyncSummary},
		{"reassign: asynchronous", testReassignAsync},
		{"reassign: a task that can no longer apply ends in ERROR", testReassignAsyncConflict},
		{"reassign: refusals apply nothing", testReassignRefused},
		{"tasks", testTasks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			require.NotNil(t, f.Tenant, "the fixture has a tenant")
			require.NotNil(t, f.FinishTasks, "the fixture can finish tasks")
			tt.run(t, f)
		})
	}
}

// unknownID is a well-formed id no tenant holds.
const unknownID = "0123456789abcdef0123456789abcdef"

// requireCode checks an error's code and that its message names what it is
// about (an argument, an id).
func requireCode(t *testing.T, code string, err error, names ...string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, certs.ErrorCode(err), "%v", err)
	for _, n := range names {
		assert.Contains(t, certs.ErrorMessage(err), n)
	}
}

// requireRefused checks a refusal SailPoint itself gave: the code, and
// SailPoint's answer kept in Upstream.
func requireRefused(t *testing.T, code string, status int, err error) {
	t.Helper()
	requireCode(t, code, err)
	up := certs.UpstreamOf(err)
	require.NotNil(t, up, "SailPoint's answer is kept: %v", err)
	assert.Equal(t, status, up.Status)
}

// allCertifications reads every certification matching f, page by page.
func allCertifications(t *testing.T, tn certs.Tenant, f certs.CertificationFilter) []certs.Certification {
	t.Helper()
	var out []certs.Certification
	for f.Page = (certs.PageOptions{Limit: certs.MaxPageLimit}); ; f.Page.Offset += certs.MaxPageLimit {
		page, err := tn.ListCertifications(context.Background(), f)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if len(page.Items) < certs.MaxPageLimit {
			return out
		}
	}
}

// allItems reads every review item of a certification matching f.
func allItems(t *testing.T, tn certs.Tenant, certID string, f certs.ReviewItemFilter) []certs.ReviewItem {
	t.Helper()
	var out []certs.ReviewItem
	for f.Page = (certs.PageOptions{Limit: certs.MaxPageLimit}); ; f.Page.Offset += certs.MaxPageLimit {
		page, err := tn.ListReviewItems(context.Background(), certID, f)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if len(page.Items) < certs.MaxPageLimit {
			return out
		}
	}
}

// CertificationIDs are the certifications' ids, in order.
func CertificationIDs(cs []certs.Certification) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// ItemIDs are the review items' ids, in order.
func ItemIDs(its []certs.ReviewItem) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.ID
	}
	return out
}

func taskIDs(ts []certs.Task) []string {
	out := make([]string, len(ts))
	for i, task := range ts {
		out[i] = task.ID
	}
	return out
}

func filterItems(its []certs.ReviewItem, keep func(certs.ReviewItem) bool) []certs.ReviewItem {
	var out []certs.ReviewItem
	for _, it := range its {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

// hasPrefixFold is ISC's "sw": a case-insensitive prefix.
func hasPrefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
}

// head is the first n characters of s.
func head(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// move is a reassignment the tenant must accept: open items of an ACTIVE
// certification, and an active identity that may take them (it reviews
// another certification, not this one, and none of the items is about
// it).
type move struct {
	cert  certs.Certification
	items []certs.ReviewItem // the certification's open items not about the new reviewer
	to    *certs.Identity
}

// pickMove finds a move of at least n items.
func pickMove(t *testing.T, tn certs.Tenant, n int) move {
	t.Helper()
	ctx := context.Background()
	all := allCertifications(t, tn, certs.CertificationFilter{})
	for _, c := range all {
		if c.Phase != certs.PhaseActive || c.Completed {
			continue
		}
		open := allItems(t, tn, c.ID, certs.ReviewItemFilter{Completed: new(false)})
		for _, other := range all {
			if other.Reviewer.ID == c.Reviewer.ID || other.Reviewer.Type == certs.ReviewerGovernanceGroup {
				continue
			}
			to, err := tn.GetIdentity(ctx, other.Reviewer.ID)
			if err != nil || !to.Active() {
				continue
			}
			mine := filterItems(open, func(it certs.ReviewItem) bool { return it.IdentitySummary.IdentityID != to.ID })
			if len(mine) >= n {
				return move{cert: c, items: mine, to: to}
			}
		}
	}
	t.Fatalf("the tenant has no active certification with %d open items and an identity to take them", n)
	return move{}
}

func itemRefs(its []certs.ReviewItem) []certs.Ref {
	out := make([]certs.Ref, len(its))
	for i, it := range its {
		out[i] = certs.Ref{ID: it.ID, Type: certs.RefItem}
	}
	return out
}

// requireMoved checks that the items left from and are now reviewed by to
// in a certification of from's campaign, and returns that certification.
func requireMoved(t *testing.T, tn certs.Tenant, from certs.Certification, to string, moved []certs.ReviewItem) certs.Certification {
	t.Helper()
	ids := ItemIDs(moved)
	left := allItems(t, tn, from.ID, certs.ReviewItemFilter{IDs: ids})
	assert.Empty(t, ItemIDs(left), "the items left certification %s", from.ID)
	for _, c := range allCertifications(t, tn, certs.CertificationFilter{ReviewerIdentity: to, CampaignIDs: []string{from.Campaign.ID}}) {
		there := allItems(t, tn, c.ID, certs.ReviewItemFilter{IDs: ids})
		if len(there) == 0 {
			continue
		}
		require.ElementsMatch(t, ids, ItemIDs(there), "all the items went to one certification")
		assert.NotEqual(t, from.ID, c.ID)
		assert.Equal(t, to, c.Reviewer.ID)
		assert.Equal(t, from.Campaign.ID, c.Campaign.ID)
		byID := map[string]certs.ReviewItem{}
		for _, it := range there {
			byID[it.ID] = it
		}
		for _, it := range moved {
			got := byID[it.ID]
			assert.Equal(t, it.Access.ID, got.Access.ID, "item %s reviews the same access", it.ID)
			assert.Equal(t, it.IdentitySummary.IdentityID, got.IdentitySummary.IdentityID, "item %s is about the same identity", it.ID)
		}
		if c.Reassignment != nil {
			// A certification made for the move says where it came from.
			assert.NotEmpty(t, c.Reassignment.CertificationID)
		}
		return c
	}
	require.Failf(t, "items not found", "no certification of campaign %s reviewed by %s holds %v", from.Campaign.ID, to, ids)
	return certs.Certification{}
}

func testCertificationPages(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	first, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 2, Count: true}})
	require.NoError(t, err)
	total := first.Total
	require.GreaterOrEqual(t, total, 4, "the count of every certification")
	assert.Len(t, first.Items, 2, "the limit")

	uncounted, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 2}})
	require.NoError(t, err)
	assert.Equal(t, -1, uncounted.Total, "no count asked, none given")
	assert.Equal(t, CertificationIDs(first.Items), CertificationIDs(uncounted.Items), "the same order every time")

	// Pages of 3 cover every certification once, in the order of one
	// big page.
	var paged []string
	for off := 0; off <= total; off += 3 {
		page, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: off, Limit: 3}})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(page.Items), 3)
		paged = append(paged, CertificationIDs(page.Items)...)
	}
	all := allCertifications(t, tn, certs.CertificationFilter{})
	assert.Equal(t, CertificationIDs(all), paged)
	assert.Len(t, all, total)

	past, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: total, Limit: 5, Count: true}})
	require.NoError(t, err)
	assert.Empty(t, past.Items, "past the end")
	assert.Equal(t, total, past.Total)

	for _, c := range all {
		assert.NotEmpty(t, c.ID)
		assert.NotEmpty(t, c.Name, c.ID)
		assert.NotEmpty(t, c.Campaign.ID, c.ID)
		assert.NotEmpty(t, c.Campaign.Name, c.ID)
		assert.Contains(t, certs.CampaignTypes, c.Campaign.CampaignType, c.ID)
		assert.NotEmpty(t, c.Reviewer.ID, c.ID)
		assert.NotEmpty(t, c.Reviewer.Name, c.ID)
		assert.Contains(t, []certs.Phase{certs.PhaseStaged, certs.PhaseActive, certs.PhaseSigned}, c.Phase, c.ID)
		assert.LessOrEqual(t, c.DecisionsMade, c.DecisionsTotal, c.ID)
		assert.LessOrEqual(t, c.IdentitiesCompleted, c.IdentitiesTotal, c.ID)
		assert.False(t, c.Created.IsZero(), c.ID)
	}
}

func testCertificationFilters(t *testing.T, f Fixture) {
	tn := f.Tenant
	all := allCertifications(t, tn, certs.CertificationFilter{})
	require.GreaterOrEqual(t, len(all), 4)
	count := func(keep func(certs.Certification) bool) []string {
		var out []string
		for _, c := range all {
			if keep(c) {
				out = append(out, c.ID)
			}
		}
		return out
	}

	byID := allCertifications(t, tn, certs.CertificationFilter{IDs: []string{all[3].ID, all[1].ID}})
	assert.ElementsMatch(t, []string{all[1].ID, all[3].ID}, CertificationIDs(byID), "by id")

	campaign := all[0].Campaign.ID
	inCampaign := allCertifications(t, tn, certs.CertificationFilter{CampaignIDs: []string{campaign}})
	assert.ElementsMatch(t, count(func(c certs.Certification) bool { return c.Campaign.ID == campaign }), CertificationIDs(inCampaign), "by campaign")

	reviewer := all[0].Reviewer.ID
	mine := allCertifications(t, tn, certs.CertificationFilter{ReviewerIdentity: reviewer})
	assert.ElementsMatch(t, count(func(c certs.Certification) bool { return c.Reviewer.ID == reviewer }), CertificationIDs(mine), "by reviewer")

	open := allCertifications(t, tn, certs.CertificationFilter{Phase: certs.PhaseActive, Completed: new(false)})
	require.NotEmpty(t, open)
	assert.ElementsMatch(t, count(func(c certs.Certification) bool { return c.Phase == certs.PhaseActive && !c.Completed }), CertificationIDs(open), "active and open")

	done := allCertifications(t, tn, certs.CertificationFilter{Completed: new(true)})
	assert.ElementsMatch(t, count(func(c certs.Certification) bool { return c.Completed }), CertificationIDs(done), "completed")

	byName := allCertifications(t, tn, certs.CertificationFilter{Sorters: []string{"name"}})
	require.Len(t, byName, len(all))
	for i := 1; i < len(byName); i++ {
		assert.LessOrEqual(t, strings.ToLower(byName[i-1].Name), strings.ToLower(byName[i].Name), "sorted by name")
	}
	byNameDesc := allCertifications(t, tn, certs.CertificationFilter{Sorters: []string{"-name"}})
	for i := 1; i < len(byNameDesc); i++ {
		assert.GreaterOrEqual(t, strings.ToLower(byNameDesc[i-1].Name), strings.ToLower(byNameDesc[i].Name), "sorted by name, descending")
	}
	// Where certifications without a due date go is not documented; those
	// with one come in order.
	byDue := allCertifications(t, tn, certs.CertificationFilter{Sorters: []string{"due"}})
	var dues []certs.Certification
	for _, c := range byDue {
		if c.Due != nil {
			dues = append(dues, c)
		}
	}
	require.NotEmpty(t, dues)
	for i := 1; i < len(dues); i++ {
		assert.False(t, dues[i].Due.Before(*dues[i-1].Due), "sorted by due date: %s before %s", dues[i-1].ID, dues[i].ID)
	}
}

// testListAllCertifications: ListAllCertifications returns what reading
// page after page returns, in the same order, whatever the page size, and
// refuses what ListCertifications refuses.
func testListAllCertifications(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	all := allCertifications(t, tn, certs.CertificationFilter{})
	require.GreaterOrEqual(t, len(all), 4)
	counted, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 1, Count: true}})
	require.NoError(t, err)
	require.Equal(t, len(all), counted.Total)

	for _, cf := range []struct {
		name string
		f    certs.CertificationFilter
	}{
		{"every certification", certs.CertificationFilter{}},
		{"active and open", certs.CertificationFilter{Phase: certs.PhaseActive, Completed: new(false)}},
		{"of one reviewer", certs.CertificationFilter{ReviewerIdentity: all[0].Reviewer.ID}},
		{"of one campaign", certs.CertificationFilter{CampaignIDs: []string{all[0].Campaign.ID}}},
		{"by name, descending", certs.CertificationFilter{Sorters: []string{"-name"}}},
		{"by due date", certs.CertificationFilter{Sorters: []string{"due"}}},
	} {
		want := CertificationIDs(allCertifications(t, tn, cf.f))
		for _, limit := range []int{0, 1, 3} {
			q := cf.f
			q.Page = certs.PageOptions{Limit: limit, Count: limit == 3}
			got, err := tn.ListAllCertifications(ctx, q)
			require.NoError(t, err, "%s, pages of %d", cf.name, limit)
			assert.Equal(t, want, CertificationIDs(got), "%s, pages of %d: every one once, in order", cf.name, limit)
		}
	}
	got, err := tn.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: 1, Limit: 2}})
	require.NoError(t, err)
	assert.Equal(t, CertificationIDs(all[1:]), CertificationIDs(got), "from an offset")
	got, err = tn.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: len(all)}})
	require.NoError(t, err)
	assert.Empty(t, got, "past the end")
	for _, c := range []struct {
		names string
		f     certs.CertificationFilter
	}{
		{"limit", certs.CertificationFilter{Page: certs.PageOptions{Limit: 251}}},
		{"offset", certs.CertificationFilter{Page: certs.PageOptions{Offset: -1}}},
		{"campaign id", certs.CertificationFilter{CampaignIDs: []string{`c" or "1`}}},
		{"created", certs.CertificationFilter{Sorters: []string{"created"}}},
	} {
		_, err := tn.ListAllCertifications(ctx, c.f)
		requireCode(t, certs.EINVALID, err, c.names)
	}
}

func testGetCertification(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	for _, listed := range allCertifications(t, tn, certs.CertificationFilter{})[:3] {
		got, err := tn.GetCertification(ctx, listed.ID)
		require.NoError(t, err)
		assert.Equal(t, listed, *got, "the same as listed")
	}
	_, err := tn.GetCertification(ctx, unknownID)
	requireRefused(t, certs.ENOTFOUND, 404, err)
	assert.Contains(t, certs.ErrorMessage(err), unknownID)
}

func testReviewers(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c := allCertifications(t, tn, certs.CertificationFilter{})[0]
	page, err := tn.ListReviewers(ctx, c.ID, certs.ReviewerFilter{Page: certs.PageOptions{Count: true}})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	assert.Equal(t, len(page.Items), page.Total)
	var me certs.IdentityRef
	for _, r := range page.Items {
		if r.ID == c.Reviewer.ID {
			me = r
		}
	}
	require.Equal(t, c.Reviewer.ID, me.ID, "the certification's reviewer is among its reviewers")
	assert.Equal(t, c.Reviewer.Name, me.Name)
	require.NotEmpty(t, me.Email)

	for name, rf := range map[string]certs.ReviewerFilter{
		"id":           {IDs: []string{me.ID}},
		"name":         {Name: me.Name},
		"name prefix":  {NameSW: head(me.Name, 3)},
		"email":        {Email: me.Email},
		"email prefix": {EmailSW: head(me.Email, 3), Sorters: []string{"email"}},
	} {
		got, err := tn.ListReviewers(ctx, c.ID, rf)
		require.NoError(t, err, name)
		assert.Contains(t, got.Items, me, name)
	}
	none, err := tn.ListReviewers(ctx, c.ID, certs.ReviewerFilter{NameSW: `zz" or name sw "`})
	require.NoError(t, err, "quotes in a filter value are a value")
	assert.Empty(t, none.Items)

	_, err = tn.ListReviewers(ctx, unknownID, certs.ReviewerFilter{})
	requireRefused(t, certs.ENOTFOUND, 404, err)
}

// certWithItems is the first ACTIVE certification with at least n items.
func certWithItems(t *testing.T, tn certs.Tenant, n int) (certs.Certification, []certs.ReviewItem) {
	t.Helper()
	for _, c := range allCertifications(t, tn, certs.CertificationFilter{Phase: certs.PhaseActive}) {
		if items := allItems(t, tn, c.ID, certs.ReviewItemFilter{}); len(items) >= n {
			return c, items
		}
	}
	t.Fatalf("no active certification has %d review items", n)
	return certs.Certification{}, nil
}

func testReviewItemPages(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c, items := certWithItems(t, tn, 4)
	counted, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 1, Count: true}})
	require.NoError(t, err)
	assert.Len(t, counted.Items, 1)
	assert.Equal(t, len(items), counted.Total)
	assert.Equal(t, c.DecisionsTotal, counted.Total, "one decision per item")
	uncounted, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, -1, uncounted.Total)

	var paged []string
	for off := 0; off <= len(items); off += 3 {
		page, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Offset: off, Limit: 3}})
		require.NoError(t, err)
		paged = append(paged, ItemIDs(page.Items)...)
	}
	assert.Equal(t, ItemIDs(items), paged, "pages of 3 cover every item once, in order")

	made := 0
	for _, it := range items {
		assert.NotEmpty(t, it.ID)
		assert.Contains(t, certs.AccessTypes, it.Access.Type, it.ID)
		assert.NotEmpty(t, it.Access.ID, it.ID)
		assert.NotEmpty(t, it.Access.Name, it.ID)
		assert.NotEmpty(t, it.IdentitySummary.ID, it.ID)
		assert.NotEmpty(t, it.IdentitySummary.IdentityID, it.ID)
		assert.NotEmpty(t, it.IdentitySummary.Name, it.ID)
		if it.Completed {
			made++
		}
		// An identity summary is completed when all its items are.
		all := filterItems(items, func(o certs.ReviewItem) bool { return o.IdentitySummary.ID == it.IdentitySummary.ID })
		assert.Equal(t, !slices.ContainsFunc(all, func(o certs.ReviewItem) bool { return !o.Completed }), it.IdentitySummary.Completed, it.ID)
	}
	assert.Equal(t, c.DecisionsMade, made)

	_, err = tn.ListReviewItems(ctx, unknownID, certs.ReviewItemFilter{})
	requireRefused(t, certs.ENOTFOUND, 404, err)
}

func testReviewItemFilters(t *testing.T, f Fixture) {
	tn := f.Tenant
	c, items := certWithItems(t, tn, 4)
	one := items[1]
	same := func(name string, want func(certs.ReviewItem) bool, rf certs.ReviewItemFilter) {
		t.Helper()
		got := allItems(t, tn, c.ID, rf)
		assert.ElementsMatch(t, ItemIDs(filterItems(items, want)), ItemIDs(got), name)
	}
	same("ids", func(it certs.ReviewItem) bool { return it.ID == one.ID || it.ID == items[3].ID },
		certs.ReviewItemFilter{IDs: []string{one.ID, items[3].ID}})
	same("identity summary", func(it certs.ReviewItem) bool { return it.IdentitySummary.ID == one.IdentitySummary.ID },
		certs.ReviewItemFilter{IdentitySummaryIDs: []string{one.IdentitySummary.ID}})
	same("access id", func(it certs.ReviewItem) bool { return it.Access.ID == one.Access.ID },
		certs.ReviewItemFilter{AccessIDs: []string{one.Access.ID}})
	for _, typ := range certs.AccessTypes {
		same("access type "+string(typ), func(it certs.ReviewItem) bool { return it.Access.Type == typ },
			certs.ReviewItemFilter{AccessType: typ})
	}
	same("open", func(it certs.ReviewItem) bool { return !it.Completed }, certs.ReviewItemFilter{Completed: new(false)})
	same("decided", func(it certs.ReviewItem) bool { return it.Completed }, certs.ReviewItemFilter{Completed: new(true)})
	same("identity name prefix", func(it certs.ReviewItem) bool {
		return hasPrefixFold(it.IdentitySummary.Name, one.IdentitySummary.Name)
	},
		certs.ReviewItemFilter{IdentityName: one.IdentitySummary.Name})
	same("access name prefix", func(it certs.ReviewItem) bool { return hasPrefixFold(it.Access.Name, one.Access.Name) },
		certs.ReviewItemFilter{AccessName: one.Access.Name})
	same("identity and access", func(it certs.ReviewItem) bool {
		return it.IdentitySummary.ID == one.IdentitySummary.ID && it.Access.Type == one.Access.Type
	}, certs.ReviewItemFilter{IdentitySummaryIDs: []string{one.IdentitySummary.ID}, AccessType: one.Access.Type})
	same("a quote is a value", func(certs.ReviewItem) bool { return false }, certs.ReviewItemFilter{AccessName: `x" or access.name sw "`})
}

func testReviewItemSelectors(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	found := map[certs.AccessType]bool{}
	for _, c := range allCertifications(t, tn, certs.CertificationFilter{})[:4] {
		for _, it := range allItems(t, tn, c.ID, certs.ReviewItemFilter{}) {
			if found[it.Access.Type] {
				continue
			}
			found[it.Access.Type] = true
			var rf certs.ReviewItemFilter
			switch it.Access.Type {
			case certs.AccessEntitlement:
				rf.Entitlements = []string{it.Access.ID}
			case certs.AccessAccessProfile:
				rf.AccessProfiles = []string{it.Access.ID}
			case certs.AccessRole:
				rf.Roles = []string{it.Access.ID}
			}
			got := allItems(t, tn, c.ID, rf)
			assert.Contains(t, ItemIDs(got), it.ID, "select %s %s", it.Access.Type, it.Access.ID)
			for _, g := range got {
				assert.Equal(t, it.Access.ID, g.Access.ID, "only what was selected")
			}
		}
	}
	assert.True(t, found[certs.AccessEntitlement], "an entitlement item was selected")

	c := allCertifications(t, tn, certs.CertificationFilter{})[0]
	_, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Entitlements: []string{"a"}, Roles: []string{"b"}})
	requireCode(t, certs.EINVALID, err, "entitlements", "roles")
}

// testListAllReviewItems: ListAllReviewItems returns what reading page
// after page returns, in the same order, whatever the page size, filter or
// sorter, and refuses what ListReviewItems refuses.
func testListAllReviewItems(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c, items := certWithItems(t, tn, 4)
	one := items[1]
	for _, limit := range []int{0, 1, 3} {
		got, err := tn.ListAllReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: limit}})
		require.NoError(t, err)
		assert.Equal(t, ItemIDs(items), ItemIDs(got), "pages of %d: every item once, in order", limit)
	}
	assert.Len(t, items, c.DecisionsTotal, "the total")
	got, err := tn.ListAllReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Offset: 2, Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, ItemIDs(items[2:]), ItemIDs(got), "from an offset")

	for _, rf := range []struct {
		name string
		f    certs.ReviewItemFilter
	}{
		{"open", certs.ReviewItemFilter{Completed: new(false)}},
		{"identity summary", certs.ReviewItemFilter{IdentitySummaryIDs: []string{one.IdentitySummary.ID}}},
		{"ids", certs.ReviewItemFilter{IDs: []string{items[3].ID, one.ID}}},
		{"access type", certs.ReviewItemFilter{AccessType: one.Access.Type}},
		{"by access name", certs.ReviewItemFilter{Sorters: []string{"access.name"}}},
		{"by identity name, descending", certs.ReviewItemFilter{Sorters: []string{"-identitySummary.name", "access.name"}}},
	} {
		want := ItemIDs(allItems(t, tn, c.ID, rf.f))
		q := rf.f
		q.Page = certs.PageOptions{Limit: 1}
		got, err := tn.ListAllReviewItems(ctx, c.ID, q)
		require.NoError(t, err, rf.name)
		assert.Equal(t, want, ItemIDs(got), "%s, pages of 1", rf.name)
	}

	_, err = tn.ListAllReviewItems(ctx, unknownID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 1}})
	requireRefused(t, certs.ENOTFOUND, 404, err)
	assert.Contains(t, certs.ErrorMessage(err), unknownID)
	for _, bad := range []struct {
		names  string
		certID string
		f      certs.ReviewItemFilter
	}{
		{"certification id", "../x", certs.ReviewItemFilter{}},
		{"review item id", c.ID, certs.ReviewItemFilter{IDs: []string{`x") or (id pr`}}},
		{"limit", c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 251}}},
		{"entitlements", c.ID, certs.ReviewItemFilter{Entitlements: []string{"a"}, Roles: []string{"b"}}},
	} {
		_, err := tn.ListAllReviewItems(ctx, bad.certID, bad.f)
		requireCode(t, certs.EINVALID, err, bad.names)
	}
}

// entitlementWithPermissions finds an entitlement item that has
// permissions.
func entitlementWithPermissions(t *testing.T, tn certs.Tenant) (certs.Certification, certs.ReviewItem) {
	t.Helper()
	for _, c := range allCertifications(t, tn, certs.CertificationFilter{}) {
		for _, it := range allItems(t, tn, c.ID, certs.ReviewItemFilter{AccessType: certs.AccessEntitlement}) {
			if it.Access.HasPermissions {
				return c, it
			}
		}
	}
	t.Fatal("no entitlement item with permissions")
	return certs.Certification{}, certs.ReviewItem{}
}

func testPermissions(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c, it := entitlementWithPermissions(t, tn)
	all, err := tn.ListItemPermissions(ctx, c.ID, it.ID, certs.PermissionFilter{Page: certs.PageOptions{Count: true}})
	require.NoError(t, err)
	require.NotEmpty(t, all.Items)
	assert.Equal(t, len(all.Items), all.Total)
	for _, p := range all.Items {
		assert.NotEmpty(t, p.Target)
		assert.NotEmpty(t, p.Rights, p.Target)
	}
	p := all.Items[0]

	exact, err := tn.ListItemPermissions(ctx, c.ID, it.ID, certs.PermissionFilter{Target: p.Target})
	require.NoError(t, err)
	assert.Contains(t, exact.Items, p, "by target")
	for _, got := range exact.Items {
		assert.True(t, strings.EqualFold(p.Target, got.Target), "only that target: %q", got.Target)
	}
	prefix, err := tn.ListItemPermissions(ctx, c.ID, it.ID, certs.PermissionFilter{Target: head(p.Target, 2), TargetPrefix: true})
	require.NoError(t, err)
	assert.Contains(t, prefix.Items, p, "by target prefix")
	for _, got := range prefix.Items {
		assert.True(t, hasPrefixFold(got.Target, head(p.Target, 2)), "only that prefix: %q", got.Target)
	}
	rights, err := tn.ListItemPermissions(ctx, c.ID, it.ID, certs.PermissionFilter{Rights: p.Rights})
	require.NoError(t, err)
	assert.Contains(t, rights.Items, p, "by rights")
	for _, got := range rights.Items {
		for _, r := range p.Rights {
			assert.True(t, slices.ContainsFunc(got.Rights, func(g string) bool { return strings.EqualFold(g, r) }), "%q has right %q", got.Target, r)
		}
	}
	none, err := tn.ListItemPermissions(ctx, c.ID, it.ID, certs.PermissionFilter{Target: `no "such" \target`})
	require.NoError(t, err, "quotes and backslashes are a value")
	assert.Empty(t, none.Items)

	_, err = tn.ListItemPermissions(ctx, c.ID, unknownID, certs.PermissionFilter{})
	requireRefused(t, certs.ENOTFOUND, 404, err)
	assert.Contains(t, certs.ErrorMessage(err), unknownID)
	_, err = tn.ListItemPermissions(ctx, unknownID, it.ID, certs.PermissionFilter{})
	requireRefused(t, certs.ENOTFOUND, 404, err)
}

func testIdentities(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c := allCertifications(t, tn, certs.CertificationFilter{})[0]
	id, err := tn.GetIdentity(ctx, c.Reviewer.ID)
	require.NoError(t, err)
	assert.Equal(t, c.Reviewer.ID, id.ID)
	assert.Equal(t, c.Reviewer.Name, id.Name)
	require.NotEmpty(t, id.Email)

	byEmail, err := tn.FindIdentityByEmail(ctx, strings.ToUpper(id.Email))
	require.NoError(t, err, "emails compare case-insensitively")
	assert.Equal(t, id.ID, byEmail.ID)
	assert.Equal(t, *id, *byEmail, "the same identity either way")

	_, err = tn.GetIdentity(ctx, unknownID)
	requireCode(t, certs.ENOTFOUND, err, unknownID)

	// Several at once: the known ones, unknown ids left out.
	_, someItems := certWithItems(t, tn, 1)
	many, err := tn.ListIdentities(ctx, []string{id.ID, unknownID, someItems[0].IdentitySummary.IdentityID})
	require.NoError(t, err)
	got := map[string]certs.Identity{}
	for _, m := range many {
		got[m.ID] = m
	}
	assert.Equal(t, *id, got[id.ID], "the same identity as GetIdentity's")
	assert.Contains(t, got, someItems[0].IdentitySummary.IdentityID)
	assert.NotContains(t, got, unknownID)
	none, err := tn.ListIdentities(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = tn.ListIdentities(ctx, []string{"../x"})
	requireCode(t, certs.EINVALID, err)
	_, err = tn.ListIdentities(ctx, make([]string, certs.MaxIdentitiesPerRead+1))
	requireCode(t, certs.EINVALID, err)
	for _, email := range []string{"nobody@acme.example", `o"brien@acme.example`, `back\slash@acme.example`, `x" or email sw "`, `"`} {
		_, err = tn.FindIdentityByEmail(ctx, email)
		requireCode(t, certs.ENOTFOUND, err)
	}
	// The subject of a review item is an identity too.
	_, items := certWithItems(t, tn, 1)
	subject, err := tn.GetIdentity(ctx, items[0].IdentitySummary.IdentityID)
	require.NoError(t, err)
	assert.Equal(t, items[0].IdentitySummary.Name, subject.Name)

	if f.SharedEmail == "" {
		t.Log("the tenant has no email shared by several identities: ECONFLICT not checked")
		return
	}
	_, err = tn.FindIdentityByEmail(ctx, f.SharedEmail)
	requireCode(t, certs.ECONFLICT, err, f.SharedEmail)
}

// testSearchIdentities: SearchIdentities finds a person by the start of
// their first name, last name, both, or email, whatever the case, sorted by
// name and paged; every identity it returns matches by certs'
// IdentityMatches; a query it cannot take is EINVALID naming the query.
func testSearchIdentities(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	c := allCertifications(t, tn, certs.CertificationFilter{})[0]
	who, err := tn.GetIdentity(ctx, c.Reviewer.ID)
	require.NoError(t, err)
	first, last, ok := strings.Cut(who.Name, " ")
	require.True(t, ok, "the reviewer %q has a first and a last name", who.Name)
	local, _, _ := strings.Cut(who.Email, "@")

	search := func(query string, p certs.PageOptions) certs.Page[certs.Identity] {
		t.Helper()
		got, err := tn.SearchIdentities(ctx, certs.IdentitySearch{Query: query, Page: p})
		require.NoError(t, err, "query %q", query)
		return got
	}
	for _, query := range []string{
		first, strings.ToLower(first), strings.ToUpper(first[:1]), last, strings.ToLower(last),
		first + " " + last[:1], strings.ToUpper(first + " " + last), "  " + first + "   " + last + " ",
		strings.ToUpper(local + "@"), who.Email,
	} {
		got := search(query, certs.PageOptions{Count: true})
		assert.Equal(t, len(got.Items), got.Total, "query %q: the count", query)
		assert.Contains(t, identityIDs(got.Items), who.ID, "query %q finds %s", query, who.Name)
		words := strings.Fields(query)
		var names []string
		for _, i := range got.Items {
			f, l, _ := strings.Cut(i.Name, " ")
			assert.True(t, certs.IdentityMatches(words, f, l, i.Alias, i.Email), "query %q: %s <%s> matches", query, i.Name, i.Email)
			names = append(names, i.Name)
		}
		assert.True(t, slices.IsSorted(names), "query %q: sorted by name: %v", query, names)
	}

	// Pages: one at a time, they are the whole list.
	initial := first[:1]
	all := search(initial, certs.PageOptions{Count: true})
	require.NotEmpty(t, all.Items)
	var paged []string
	for off := 0; off < all.Total; off++ {
		p := search(initial, certs.PageOptions{Offset: off, Limit: 1})
		require.Len(t, p.Items, 1)
		paged = append(paged, p.Items[0].ID)
	}
	assert.Equal(t, identityIDs(all.Items), paged)

	for _, query := range []string{"zz-nobody-qx", "nobody-qx@acme.example", `o"brien`, `back\slash`, first + " zz-nobody-qx"} {
		got := search(query, certs.PageOptions{Count: true})
		assert.Empty(t, got.Items, "query %q", query)
		assert.Equal(t, 0, got.Total, "query %q", query)
	}
	for _, bad := range []struct{ query, names string }{
		{"", "query"}, {"   ", "query"}, {"a b c d e", "5 words"}, {strings.Repeat("a", 101), "query"},
		{"bob @acme", "@"}, {"a\nb", "query"},
	} {
		_, err := tn.SearchIdentities(ctx, certs.IdentitySearch{Query: bad.query})
		requireCode(t, certs.EINVALID, err, bad.names)
	}
	_, err = tn.SearchIdentities(ctx, certs.IdentitySearch{Query: first, Page: certs.PageOptions{Limit: 251}})
	requireCode(t, certs.EINVALID, err, "limit")
}

func identityIDs(is []certs.Identity) []string {
	out := make([]string, len(is))
	for i, id := range is {
		out[i] = id.ID
	}
	return out
}

func testInvalidArguments(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	good := allCertifications(t, tn, certs.CertificationFilter{})[0].ID
	refs := func(n int) []certs.Ref {
		out := make([]certs.Ref, n)
		for i := range out {
			out[i] = certs.Ref{ID: "item-" + string(rune('a'+i%26)), Type: certs.RefItem}
		}
		return out
	}
	r := certs.Reassignment{CertificationID: good, Refs: refs(1), To: unknownID, Reason: "r"}
	with := func(change func(*certs.Reassignment)) certs.Reassignment {
		rr := r
		change(&rr)
		return rr
	}
	tests := []struct {
		name, names string
		call        func() error
	}{
		{"path traversal in a certification id", "certification id", func() error { _, err := tn.GetCertification(ctx, "../x"); return err }},
		{"dot-dot certification id", "certification id", func() error { _, err := tn.GetCertification(ctx, ".."); return err }},
		{"quote in a certification id", "certification id", func() error { _, err := tn.GetCertification(ctx, `a"b`); return err }},
		{"empty certification id", "certification id", func() error { _, err := tn.GetCertification(ctx, ""); return err }},
		{"slash in a reviewers' certification id", "certification id", func() error {
			_, err := tn.ListReviewers(ctx, "a/b", certs.ReviewerFilter{})
			return err
		}},
		{"path traversal in an items' certification id", "certification id", func() error {
			_, err := tn.ListReviewItems(ctx, "../x", certs.ReviewItemFilter{})
			return err
		}},
		{"filter injection in a certification id", "certification id", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{IDs: []string{`x") or (id pr`}})
			return err
		}},
		{"filter injection in a campaign id", "campaign id", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{CampaignIDs: []string{`c" or "1`}})
			return err
		}},
		{"bad reviewer identity", "reviewer identity id", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: "me or you"})
			return err
		}},
		{"unknown phase", "phase", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{Phase: "DONE"})
			return err
		}},
		{"unknown sorter", "created", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{Sorters: []string{"created"}})
			return err
		}},
		{"limit 251", "limit", func() error {
			_, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 251}})
			return err
		}},
		{"negative offset", "offset", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{Page: certs.PageOptions{Offset: -1}})
			return err
		}},
		{"filter injection in a review item id", "review item id", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{IDs: []string{`x") or (id pr`}})
			return err
		}},
		{"bad identity summary id", "identity summary id", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{IdentitySummaryIDs: []string{"../x"}})
			return err
		}},
		{"bad entitlement id", "entitlement id", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{Entitlements: []string{"a,b"}})
			return err
		}},
		{"unknown access type", "access type", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{AccessType: "ACCOUNT"})
			return err
		}},
		{"control character in an identity name", "identity name", func() error {
			_, err := tn.ListReviewItems(ctx, good, certs.ReviewItemFilter{IdentityName: "a\nb"})
			return err
		}},
		{"bad reviewer id", "reviewer id", func() error {
			_, err := tn.ListReviewers(ctx, good, certs.ReviewerFilter{IDs: []string{"../x"}})
			return err
		}},
		{"control character in a reviewer name", "reviewer name", func() error {
			_, err := tn.ListReviewers(ctx, good, certs.ReviewerFilter{Name: "a\x00b"})
			return err
		}},
		{"path traversal in a permissions' item id", "review item id", func() error {
			_, err := tn.ListItemPermissions(ctx, good, "../x", certs.PermissionFilter{})
			return err
		}},
		{"path traversal in a permissions' certification id", "certification id", func() error {
			_, err := tn.ListItemPermissions(ctx, "../x", "item", certs.PermissionFilter{})
			return err
		}},
		{"slash in a task id", "task id", func() error { _, err := tn.GetTask(ctx, "a/b"); return err }},
		{"path traversal in a pending tasks' certification id", "certification id", func() error {
			_, err := tn.ListPendingTasks(ctx, "../x")
			return err
		}},
		{"empty identity id", "identity id", func() error { _, err := tn.GetIdentity(ctx, ""); return err }},
		{"filter injection in an identity id", "identity id", func() error { _, err := tn.GetIdentity(ctx, `x" or id pr "`); return err }},
		{"empty email", "email", func() error { _, err := tn.FindIdentityByEmail(ctx, ""); return err }},
		{"control character in an email", "email", func() error { _, err := tn.FindIdentityByEmail(ctx, "a\nb@acme.example"); return err }},
		{"bidi override in an email", "email", func() error { _, err := tn.FindIdentityByEmail(ctx, "a\u202eb@acme.example"); return err }},
		{"51 references in one synchronous call", "50", func() error {
			_, err := tn.Reassign(ctx, with(func(r *certs.Reassignment) { r.Refs = refs(51) }))
			return err
		}},
		{"501 references in one asynchronous call", "500", func() error {
			_, err := tn.ReassignAsync(ctx, with(func(r *certs.Reassignment) { r.Refs = refs(501) }))
			return err
		}},
		{"no reference", "nothing to reassign", func() error {
			_, err := tn.ReassignAsync(ctx, with(func(r *certs.Reassignment) { r.Refs = nil }))
			return err
		}},
		{"path traversal in a reassignment's certification id", "certification id", func() error {
			_, err := tn.Reassign(ctx, with(func(r *certs.Reassignment) { r.CertificationID = "../x" }))
			return err
		}},
		{"path traversal in a reassignment's target", "target identity id", func() error {
			_, err := tn.ReassignAsync(ctx, with(func(r *certs.Reassignment) { r.To = "../admin" }))
			return err
		}},
		{"quote in a reference id", "reference id", func() error {
			_, err := tn.ReassignAsync(ctx, with(func(r *certs.Reassignment) { r.Refs = []certs.Ref{{ID: `a"b`, Type: certs.RefItem}} }))
			return err
		}},
		{"unknown reference type", "reference type", func() error {
			_, err := tn.ReassignAsync(ctx, with(func(r *certs.Reassignment) { r.Refs = []certs.Ref{{ID: "x", Type: "ALL"}} }))
			return err
		}},
		{"no reason", "reason", func() error {
			_, err := tn.Reassign(ctx, with(func(r *certs.Reassignment) { r.Reason = " " }))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireCode(t, certs.EINVALID, tt.call(), tt.names)
		})
	}
}

func testReassignSync(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	m := pickMove(t, tn, 2)
	moved := m.items[:2]
	pendingBefore, err := tn.ListPendingTasks(ctx, m.cert.ID)
	require.NoError(t, err)

	got, err := tn.Reassign(ctx, certs.Reassignment{CertificationID: m.cert.ID, Refs: itemRefs(moved), To: m.to.ID, Reason: "expertise"})
	require.NoError(t, err)
	assert.Equal(t, m.cert.ID, got.ID, "the source certification comes back")
	assert.Equal(t, m.cert.DecisionsTotal-2, got.DecisionsTotal, "updated: two decisions fewer")
	now, err := tn.GetCertification(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.Equal(t, m.cert.DecisionsTotal-2, now.DecisionsTotal)
	requireMoved(t, tn, m.cert, m.to.ID, moved)

	pendingAfter, err := tn.ListPendingTasks(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, taskIDs(pendingBefore), taskIDs(pendingAfter), "a synchronous call leaves no task")

	// The same items again: they are no longer there, and SailPoint says
	// so.
	_, err = tn.Reassign(ctx, certs.Reassignment{CertificationID: m.cert.ID, Refs: itemRefs(moved), To: m.to.ID, Reason: "again"})
	requireRefused(t, certs.EINVALID, 400, err)
}

func testReassignSyncSummary(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	m := pickMove(t, tn, 1)
	summary := m.items[0].IdentitySummary
	all := allItems(t, tn, m.cert.ID, certs.ReviewItemFilter{IdentitySummaryIDs: []string{summary.ID}})
	require.NotEmpty(t, all)

	_, err := tn.Reassign(ctx, certs.Reassignment{CertificationID: m.cert.ID, Refs: []certs.Ref{{ID: summary.ID, Type: certs.RefIdentitySummary}}, To: m.to.ID, Reason: "all of one person"})
	require.NoError(t, err)
	left := allItems(t, tn, m.cert.ID, certs.ReviewItemFilter{IdentitySummaryIDs: []string{summary.ID}})
	assert.Empty(t, left, "every item of the identity left, decided or not")
	requireMoved(t, tn, m.cert, m.to.ID, all)
}

func testReassignAsync(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	m := pickMove(t, tn, 2)
	moved := m.items[:2]

	task, err := tn.ReassignAsync(ctx, certs.Reassignment{CertificationID: m.cert.ID, Refs: itemRefs(moved), To: m.to.ID, Reason: "on leave"})
	require.NoError(t, err)
	require.NotEmpty(t, task.ID)
	assert.Equal(t, m.cert.ID, task.TargetID)
	assert.Contains(t, []certs.TaskType{certs.TaskReassign, certs.TaskAdminReassign}, task.Type)
	assert.Equal(t, certs.TaskQueued, task.Status)
	assert.False(t, task.Created.IsZero())
	requireTrail := func(task *certs.Task) {
		t.Helper()
		require.NotEmpty(t, task.Trail, "the trail says who takes the work")
		for _, tr := range task.Trail {
			assert.Equal(t, m.to.ID, tr.NewOwner)
			assert.Equal(t, m.cert.Reviewer.ID, tr.PreviousOwner)
		}
	}
	requireTrail(task)

	got, err := tn.GetTask(ctx, task.ID)
	require.NoError(t, err)
	assert.Equal(t, task.ID, got.ID)
	assert.Equal(t, task.TargetID, got.TargetID)
	assert.False(t, got.Status.Done(), "still pending: %s", got.Status)
	pending, err := tn.ListPendingTasks(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.Contains(t, taskIDs(pending), task.ID)
	for _, p := range pending {
		assert.Equal(t, m.cert.ID, p.TargetID)
		assert.False(t, p.Status.Done(), p.ID)
	}
	for _, other := range allCertifications(t, tn, certs.CertificationFilter{})[:3] {
		if other.ID == m.cert.ID {
			continue
		}
		theirs, err := tn.ListPendingTasks(ctx, other.ID)
		require.NoError(t, err)
		assert.NotContains(t, taskIDs(theirs), task.ID, "another certification's pending tasks")
	}

	f.FinishTasks()
	done, err := tn.GetTask(ctx, task.ID)
	require.NoError(t, err)
	require.Equal(t, certs.TaskSuccess, done.Status, "errors: %v", done.Errors)
	assert.Empty(t, done.Errors)
	requireTrail(done)
	pending, err = tn.ListPendingTasks(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.NotContains(t, taskIDs(pending), task.ID, "no longer pending")

	requireMoved(t, tn, m.cert, m.to.ID, moved)
	now, err := tn.GetCertification(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.Equal(t, m.cert.DecisionsTotal-2, now.DecisionsTotal)
}

func testReassignAsyncConflict(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	m := pickMove(t, tn, 1)
	r := certs.Reassignment{CertificationID: m.cert.ID, Refs: itemRefs(m.items[:1]), To: m.to.ID, Reason: "twice"}
	first, err := tn.ReassignAsync(ctx, r)
	require.NoError(t, err)
	second, err := tn.ReassignAsync(ctx, r)
	require.NoError(t, err, "accepted: the item is still there until the first task runs")
	assert.NotEqual(t, first.ID, second.ID)

	f.FinishTasks()
	one, err := tn.GetTask(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.TaskSuccess, one.Status, "errors: %v", one.Errors)
	two, err := tn.GetTask(ctx, second.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.TaskError, two.Status)
	assert.NotEmpty(t, two.Errors, "an ERROR task says why")
	requireMoved(t, tn, m.cert, m.to.ID, m.items[:1])
}

func testReassignRefused(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	m := pickMove(t, tn, 1)
	it := m.items[0]
	ok := certs.Reassignment{CertificationID: m.cert.ID, Refs: itemRefs(m.items[:1]), To: m.to.ID, Reason: "refused"}
	with := func(change func(*certs.Reassignment)) certs.Reassignment {
		r := ok
		change(&r)
		return r
	}
	tests := []struct {
		name   string
		r      certs.Reassignment
		code   string
		status int
	}{
		{"unknown certification", with(func(r *certs.Reassignment) { r.CertificationID = unknownID }), certs.ENOTFOUND, 404},
		{"unknown target", with(func(r *certs.Reassignment) { r.To = unknownID }), certs.EINVALID, 400},
		{"the certification's own reviewer", with(func(r *certs.Reassignment) { r.To = m.cert.Reviewer.ID }), certs.EINVALID, 400},
		{"the item's own subject", with(func(r *certs.Reassignment) { r.To = it.IdentitySummary.IdentityID }), certs.EINVALID, 400},
		{"an item not in the certification", with(func(r *certs.Reassignment) { r.Refs = []certs.Ref{{ID: unknownID, Type: certs.RefItem}} }), certs.EINVALID, 400},
		{"an identity summary not in the certification", with(func(r *certs.Reassignment) {
			r.Refs = []certs.Ref{{ID: unknownID, Type: certs.RefIdentitySummary}}
		}), certs.EINVALID, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name+", sync", func(t *testing.T) {
			_, err := tn.Reassign(ctx, tt.r)
			requireRefused(t, tt.code, tt.status, err)
		})
		t.Run(tt.name+", async", func(t *testing.T) {
			_, err := tn.ReassignAsync(ctx, tt.r)
			requireRefused(t, tt.code, tt.status, err)
		})
	}
	f.FinishTasks()
	still := allItems(t, tn, m.cert.ID, certs.ReviewItemFilter{IDs: []string{it.ID}})
	assert.Equal(t, []string{it.ID}, ItemIDs(still), "nothing was applied")
	pending, err := tn.ListPendingTasks(ctx, m.cert.ID)
	require.NoError(t, err)
	assert.Empty(t, pending, "no task was made")
}

func testTasks(t *testing.T, f Fixture) {
	ctx := context.Background()
	tn := f.Tenant
	_, err := tn.GetTask(ctx, unknownID)
	requireRefused(t, certs.ENOTFOUND, 404, err)
	assert.Contains(t, certs.ErrorMessage(err), unknownID)

	none, err := tn.ListPendingTasks(ctx, unknownID)
	require.NoError(t, err, "tasks are filtered by target id: an unknown certification has none")
	assert.Empty(t, none)
}
