package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

type decision struct {
	ID              string `json:"id"`
	Decision        string `json:"decision"`
	Bulk            bool   `json:"bulk"`
	Comments        string `json:"comments,omitempty"`
	ProposedEndDate string `json:"proposedEndDate,omitempty"`
}

func TestDecideAndSignOff(t *testing.T) {
	tn := start(t, sandbox.Config{})
	rev := tn.cred("sandbox-reviewer-1")
	var mine []certDto
	tn.as(rev.ClientID, "GET", "/v3/certifications?filters="+q(`completed eq false`), nil).decode(t, &mine)
	require.NotEmpty(t, mine)
	cert := mine[0]
	items := tn.items(cert.ID, "filters="+q(`completed eq false`))
	require.Greater(t, len(items), 1)

	// Signing before every decision is made is refused.
	res := tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/sign-off", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
	assert.Contains(t, res.errorText(t), "decisions remain")

	var ds []decision
	for i, it := range items {
		d := decision{ID: it.ID, Decision: "APPROVE", Bulk: true, Comments: "still needed"}
		if i == 0 {
			d = decision{ID: it.ID, Decision: "REVOKE", Bulk: false, Comments: "left the team", ProposedEndDate: "2030-01-01T00:00:00Z"}
		}
		ds = append(ds, d)
	}
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/decide", ds[:1])
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var after certDto
	res.decode(t, &after)
	assert.Equal(t, cert.DecisionsMade+1, after.DecisionsMade)
	got := tn.items(cert.ID, "filters="+q(`id eq "`+items[0].ID+`"`))
	require.Len(t, got, 1)
	assert.True(t, got[0].Completed)
	assert.Equal(t, "REVOKE", got[0].Decision)

	res = tn.as(rev.ClientID, "POST", "/certifications/v1/"+cert.ID+"/decide", ds[1:])
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &after)
	assert.True(t, after.Completed)
	assert.Equal(t, after.DecisionsTotal, after.DecisionsMade)
	assert.Equal(t, after.IdentitiesTotal, after.IdentitiesCompleted)

	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/sign-off", nil)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &after)
	assert.Equal(t, "SIGNED", after.Phase)
	require.NotNil(t, after.Signed)

	// Signed is final.
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/decide", ds[:1])
	assert.Equal(t, http.StatusBadRequest, res.Status)
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/sign-off", nil)
	assert.Equal(t, http.StatusBadRequest, res.Status)
}

func TestDecideRejects(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 20})
	var cert, commented certDto
	for _, c := range tn.certs("filters=" + q(`phase eq "ACTIVE"`)) {
		var raw map[string]any
		tn.admin("GET", "/v3/certifications/"+c.ID, nil).decode(t, &raw)
		switch raw["campaign"].(map[string]any)["mandatoryCommentRequirement"] {
		case "NO_DECISIONS":
			cert = c
		case "ALL_DECISIONS":
			commented = c
		}
	}
	require.NotEmpty(t, cert.ID)
	require.NotEmpty(t, commented.ID)
	items := tn.items(cert.ID, "")
	other := tn.items(commented.ID, "")
	many := make([]decision, 251)
	for i := range many {
		many[i] = decision{ID: items[0].ID, Decision: "APPROVE", Bulk: true}
	}
	tests := []struct {
		name    string
		certID  string
		body    any
		mention string
	}{
		{"empty list", cert.ID, []decision{}, "At least one"},
		{"251 decisions", cert.ID, many, "251"},
		{"unknown decision", cert.ID, []map[string]any{{"id": items[0].ID, "decision": "MAYBE", "bulk": true}}, "MAYBE"},
		{"missing bulk", cert.ID, []map[string]any{{"id": items[0].ID, "decision": "APPROVE"}}, "bulk"},
		{"missing id", cert.ID, []map[string]any{{"decision": "APPROVE", "bulk": true}}, "id"},
		{"item of another certification", cert.ID, []decision{{ID: other[0].ID, Decision: "APPROVE", Bulk: true}}, other[0].ID},
		{"end date on approve", cert.ID, []decision{{ID: items[0].ID, Decision: "APPROVE", Bulk: true, ProposedEndDate: "2030-01-01T00:00:00Z"}}, "proposedEndDate"},
		{"comment required", commented.ID, []decision{{ID: other[0].ID, Decision: "APPROVE", Bulk: true}}, "comment"},
		{"not a list", cert.ID, map[string]any{"id": items[0].ID}, "array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tn.admin("POST", "/v3/certifications/"+tt.certID+"/decide", tt.body)
			require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
			assert.Contains(t, res.errorText(t), tt.mention)
		})
	}
	assert.Equal(t, cert, tn.cert(cert.ID), "nothing decided")
}

// isoMillis is how ISC writes a date-time.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// requireISCError checks a refusal has SailPoint's ErrorResponseDto and
// returns its text.
func requireISCError(t *testing.T, res *response, status int, detailCode string) string {
	t.Helper()
	require.Equal(t, status, res.Status, "body: %s", res.Body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var e errorBody
	res.decode(t, &e)
	assert.Equal(t, detailCode, e.DetailCode)
	assert.Regexp(t, "^[0-9a-f]{32}$", e.TrackingID)
	require.Len(t, e.Messages, 1, "body: %s", res.Body)
	assert.Equal(t, "en-US", e.Messages[0].Locale)
	assert.Equal(t, "DEFAULT", e.Messages[0].LocaleOrigin)
	return e.Messages[0].Text
}

// itemsByID reads a certification's items by id.
func (tn *tenant) itemsByID(certID string) map[string]itemDto {
	tn.t.Helper()
	out := map[string]itemDto{}
	for _, it := range tn.items(certID, "") {
		out[it.ID] = it
	}
	return out
}

// Decisions show on the items, move the certification's counts, and can
// be changed until sign-off, in v3 and v1 alike; the sandbox keeps their
// history outside the API.
func TestDecisionsShowAndChange(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	rev := tn.cred("sandbox-reviewer-1")
	cert := tn.certs("")[0]
	require.Equal(t, rev.IdentityID, cert.Reviewer.ID)
	require.Equal(t, "NO_DECISIONS", cert.Campaign.MandatoryCommentRequirement)

	// The identity with the most open items (at least two).
	before := tn.itemsByID(cert.ID)
	open := map[string][]itemDto{} // identity summary id → open items
	decided := map[string]bool{}
	for _, it := range tn.items(cert.ID, "") {
		if it.Completed {
			decided[it.IdentitySummary.ID] = true
		} else {
			open[it.IdentitySummary.ID] = append(open[it.IdentitySummary.ID], it)
		}
	}
	var who string
	for id, its := range open {
		if len(its) >= 2 && (who == "" || len(its) > len(open[who])) {
			who = id
		}
	}
	require.NotEmpty(t, who, "an identity with two open items")
	mine := open[who]

	// Revoke one with a comment and an end date, approve the rest bare.
	clk.Advance(time.Minute)
	ds := []decision{{ID: mine[0].ID, Decision: "REVOKE", Bulk: false, Comments: "Left the finance team.", ProposedEndDate: "2026-04-01T00:00:00Z"}}
	for _, it := range mine[1:] {
		ds = append(ds, decision{ID: it.ID, Decision: "APPROVE", Bulk: true})
	}
	res := tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/decide", ds)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var after certDto
	res.decode(t, &after)
	assert.Equal(t, cert.DecisionsMade+len(mine), after.DecisionsMade)
	assert.Equal(t, cert.DecisionsTotal, after.DecisionsTotal)
	assert.Equal(t, cert.IdentitiesCompleted+1, after.IdentitiesCompleted, "the identity's items are all decided")
	assert.Equal(t, isoMillis(clk.Now()), after.Modified)
	assert.Equal(t, "ACTIVE", after.Phase)
	assert.Nil(t, after.Signed)
	assert.Equal(t, after, tn.cert(cert.ID), "the certification reads back as answered")

	got := tn.itemsByID(cert.ID)
	assert.True(t, got[mine[0].ID].Completed)
	assert.Equal(t, "REVOKE", got[mine[0].ID].Decision)
	require.NotNil(t, got[mine[0].ID].Comments)
	assert.Equal(t, "Left the finance team.", *got[mine[0].ID].Comments)
	for _, it := range mine[1:] {
		assert.True(t, got[it.ID].Completed)
		assert.Equal(t, "APPROVE", got[it.ID].Decision)
		assert.Nil(t, got[it.ID].Comments, "no comment given: null")
	}
	for id, it := range got {
		if it.IdentitySummary.ID == who {
			assert.True(t, it.IdentitySummary.Completed, "item %s: its identity is completed", id)
			continue
		}
		assert.Equal(t, before[id], it, "other identities' items are untouched")
	}

	// Changed, through v1: the new decision and comment replace the old;
	// the counts stay.
	clk.Advance(time.Minute)
	res = tn.as(rev.ClientID, "POST", "/certifications/v1/"+cert.ID+"/decide", []decision{{ID: mine[0].ID, Decision: "APPROVE", Bulk: false, Comments: "Moved back; still needed."}})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var changed certDto
	res.decode(t, &changed)
	assert.Equal(t, after.DecisionsMade, changed.DecisionsMade)
	assert.Equal(t, after.IdentitiesCompleted, changed.IdentitiesCompleted)
	assert.Equal(t, isoMillis(clk.Now()), changed.Modified)
	it := tn.itemsByID(cert.ID)[mine[0].ID]
	assert.Equal(t, "APPROVE", it.Decision)
	require.NotNil(t, it.Comments)
	assert.Equal(t, "Moved back; still needed.", *it.Comments)

	// And again, without a comment: the old comment goes.
	res = tn.admin("POST", "/v3/certifications/"+cert.ID+"/decide", []decision{{ID: mine[0].ID, Decision: "REVOKE", Bulk: false}})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	it = tn.itemsByID(cert.ID)[mine[0].ID]
	assert.Equal(t, "REVOKE", it.Decision)
	assert.Nil(t, it.Comments)

	// Stats count the calls per operation and client, v3 and v1 as one.
	st := tn.sb.Stats()
	decide := st.Operations["makeIdentityDecision"]
	assert.Equal(t, 3, decide.Calls)
	assert.Equal(t, 2, decide.ByClient[rev.ClientID].Calls)
	assert.Equal(t, 1, decide.ByClient[sandbox.AdminClientID].Calls)

	// The history: every decision applied, who sent it and when.
	hist := tn.sb.Decisions(cert.ID)
	require.Len(t, hist, len(mine)+2)
	first := hist[0]
	assert.Equal(t, 1, first.Call)
	assert.Equal(t, mine[0].ID, first.ItemID)
	assert.Equal(t, "REVOKE", first.Decision)
	assert.Equal(t, "Left the finance team.", first.Comments)
	require.NotNil(t, first.ProposedEndDate)
	assert.Equal(t, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), *first.ProposedEndDate)
	assert.Equal(t, rev.ClientID, first.ClientID)
	assert.Equal(t, rev.IdentityID, first.IdentityID)
	assert.Equal(t, clk.Now().Add(-time.Minute), first.At)
	for _, h := range hist[1:len(mine)] {
		assert.Equal(t, 1, h.Call, "one call")
		assert.Equal(t, "APPROVE", h.Decision)
		assert.True(t, h.Bulk)
		assert.Nil(t, h.ProposedEndDate)
	}
	last := hist[len(hist)-1]
	assert.Equal(t, 3, last.Call)
	assert.Equal(t, sandbox.AdminClientID, last.ClientID, "an admin deciding is recorded as itself")
	assert.Empty(t, tn.sb.Decisions(tn.certs("")[1].ID), "seeded decisions have no history")

	hres, err := http.Get(tn.url + "/_sandbox/decisions?certification=" + cert.ID)
	require.NoError(t, err)
	defer hres.Body.Close()
	var served []sandbox.DecisionRecord
	require.NoError(t, json.NewDecoder(hres.Body).Decode(&served))
	assert.Equal(t, hist, served)
}

// Each mandatory-comment rule, enforced per decision; a call with one
// decision the rule refuses changes nothing.
func TestDecideCommentRules(t *testing.T) {
	tn := start(t, sandbox.Config{RateLimit: -1})
	certOf := map[string]certDto{}
	for _, c := range tn.certs("filters=" + q(`phase eq "ACTIVE" and completed eq false`)) {
		rule := c.Campaign.MandatoryCommentRequirement
		if _, ok := certOf[rule]; !ok && len(tn.items(c.ID, "filters="+q(`completed eq false`))) >= 4 {
			certOf[rule] = c
		}
	}
	// Refused cases decide nothing, so each certification's open items
	// suffice for its accepted case and all its refused ones.
	tests := []struct {
		name      string
		rule      string
		decisions []decision
		refused   string // "" when accepted
	}{
		{"none required", "NO_DECISIONS", []decision{{Decision: "APPROVE"}, {Decision: "REVOKE"}}, ""},
		{"revoke without", "REVOKE_ONLY_DECISIONS", []decision{{Decision: "APPROVE"}, {Decision: "REVOKE"}}, "A comment is required for REVOKE decisions in campaign %s (REVOKE_ONLY_DECISIONS)."},
		{"revoke with blanks", "REVOKE_ONLY_DECISIONS", []decision{{Decision: "REVOKE", Comments: " \t"}}, "A comment is required for REVOKE decisions in campaign %s (REVOKE_ONLY_DECISIONS)."},
		{"approve bare, revoke with", "REVOKE_ONLY_DECISIONS", []decision{{Decision: "APPROVE"}, {Decision: "REVOKE", Comments: "Not used."}}, ""},
		{"approve without", "ALL_DECISIONS", []decision{{Decision: "REVOKE", Comments: "Not needed."}, {Decision: "APPROVE"}}, "A comment is required for APPROVE decisions in campaign %s (ALL_DECISIONS)."},
		{"revoke without", "ALL_DECISIONS", []decision{{Decision: "REVOKE"}}, "A comment is required for REVOKE decisions in campaign %s (ALL_DECISIONS)."},
		{"both with", "ALL_DECISIONS", []decision{{Decision: "APPROVE", Comments: "Needed."}, {Decision: "REVOKE", Comments: "Not needed."}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.name, func(t *testing.T) {
			cert, ok := certOf[tt.rule]
			require.True(t, ok, "an active certification under %s with open items", tt.rule)
			cert = tn.cert(cert.ID)
			open := tn.items(cert.ID, "filters="+q(`completed eq false`))
			require.GreaterOrEqual(t, len(open), len(tt.decisions))
			ds := slices.Clone(tt.decisions)
			for i := range ds {
				ds[i].ID, ds[i].Bulk = open[i].ID, true
			}
			res := tn.admin("POST", "/v3/certifications/"+cert.ID+"/decide", ds)
			if tt.refused == "" {
				require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
				var after certDto
				res.decode(t, &after)
				assert.Equal(t, cert.DecisionsMade+len(ds), after.DecisionsMade)
				return
			}
			text := requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content")
			assert.Equal(t, fmt.Sprintf(tt.refused, cert.Campaign.Name), text)
			assert.Equal(t, cert, tn.cert(cert.ID), "nothing decided")
			for _, it := range tn.items(cert.ID, "filters="+q(`completed eq false`)) {
				assert.Empty(t, it.Decision)
			}
			assert.Len(t, tn.items(cert.ID, "filters="+q(`completed eq false`)), len(open))
		})
	}
}

// Sign-off: refused with SailPoint's error body while items are open or a
// task is pending, then SIGNED with its date; after it, nothing changes.
func TestSignOffRules(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, TaskQueuedFor: time.Minute, TaskRunningFor: time.Minute})
	rev := tn.cred("sandbox-reviewer-1")
	cert := tn.certs("")[0]
	require.Equal(t, rev.IdentityID, cert.Reviewer.ID)
	open := tn.items(cert.ID, "filters="+q(`completed eq false`))
	require.NotEmpty(t, open)

	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		res := tn.as(rev.ClientID, "POST", prefix+cert.ID+"/sign-off", nil)
		text := requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content")
		assert.Equal(t, fmt.Sprintf("Certification %s cannot be signed: %d of %d decisions remain.", cert.ID, len(open), cert.DecisionsTotal), text)
	}

	// Decide everything but one, then sign: still refused, one remains.
	var ds []decision
	for _, it := range open {
		ds = append(ds, decision{ID: it.ID, Decision: "APPROVE", Bulk: true})
	}
	res := tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/decide", ds[1:])
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/sign-off", nil)
	assert.Contains(t, requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content"), "1 of")
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/decide", ds[:1])
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var done certDto
	res.decode(t, &done)
	assert.True(t, done.Completed)
	assert.Equal(t, done.DecisionsTotal, done.DecisionsMade)
	assert.Equal(t, done.IdentitiesTotal, done.IdentitiesCompleted)

	// A pending reassignment holds the sign-off back.
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)
	res = tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:1]), to.ID, "Moved teams"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		res = tn.as(rev.ClientID, "POST", prefix+cert.ID+"/sign-off", nil)
		text := requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content")
		assert.Equal(t, fmt.Sprintf("Certification %s cannot be signed while a reassignment task is pending.", cert.ID), text)
	}
	assert.Equal(t, "ACTIVE", tn.cert(cert.ID).Phase)

	// Once it has run, the certification can be signed.
	clk.Advance(3 * time.Minute)
	res = tn.as(rev.ClientID, "POST", "/certifications/v1/"+cert.ID+"/sign-off", nil)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var signed certDto
	res.decode(t, &signed)
	assert.Equal(t, "SIGNED", signed.Phase)
	require.NotNil(t, signed.Signed)
	assert.Equal(t, isoMillis(clk.Now()), *signed.Signed)
	assert.Equal(t, isoMillis(clk.Now()), signed.Modified)
	assert.True(t, signed.Completed)
	assert.Equal(t, len(items)-1, signed.DecisionsTotal, "the moved item left")
	assert.Equal(t, signed, tn.cert(cert.ID))
	signedItems := tn.itemsByID(cert.ID)

	// Signed is final: no decision, no second sign-off, in v3 or v1.
	clk.Advance(time.Minute)
	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		res = tn.as(rev.ClientID, "POST", prefix+cert.ID+"/decide", []decision{{ID: items[1].ID, Decision: "REVOKE", Bulk: false}})
		assert.Equal(t, fmt.Sprintf("Certification %s is SIGNED; decisions can only be made while it is ACTIVE.", cert.ID),
			requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content"))
		res = tn.as(rev.ClientID, "POST", prefix+cert.ID+"/sign-off", nil)
		assert.Equal(t, fmt.Sprintf("Certification %s is already signed.", cert.ID),
			requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content"))
	}
	assert.Equal(t, signed, tn.cert(cert.ID))
	assert.Equal(t, signedItems, tn.itemsByID(cert.ID))

	// A staged certification cannot be signed (nor seen by its reviewer).
	staged := tn.certs("filters=" + q(`phase eq "STAGED"`))
	require.NotEmpty(t, staged)
	res = tn.admin("POST", "/v3/certifications/"+staged[0].ID+"/sign-off", nil)
	assert.Equal(t, fmt.Sprintf("Certification %s is STAGED; only an ACTIVE certification can be signed.", staged[0].ID),
		requireISCError(t, res, http.StatusBadRequest, "400.1 Bad Request Content"))

	// Another reviewer is refused with 403.
	res = tn.as("sandbox-reviewer-2", "POST", "/v3/certifications/"+tn.certs("")[2].ID+"/sign-off", nil)
	requireISCError(t, res, http.StatusForbidden, "403 Forbidden")

	st := tn.sb.Stats().Operations["signOffIdentityCertification"]
	assert.Equal(t, 10, st.Calls, "every sign-off call counts, refused or not, v3 and v1 as one operation")
	assert.Equal(t, 8, st.ByClient[rev.ClientID].Calls)
	assert.Equal(t, 1, st.ByClient[sandbox.AdminClientID].Calls)
	assert.Equal(t, 1, st.ByClient["sandbox-reviewer-2"].Calls)
}
