package sandbox_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

type ref struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type reassignBody struct {
	Reassign   []ref  `json:"reassign"`
	ReassignTo string `json:"reassignTo"`
	Reason     string `json:"reason"`
}

func itemRefs(items []itemDto) []ref {
	out := make([]ref, len(items))
	for i, it := range items {
		out[i] = ref{ID: it.ID, Type: "ITEM"}
	}
	return out
}

// newReviewer picks an active identity that is neither the certification's
// reviewer nor certified in it.
func newReviewer(t *testing.T, tn *tenant, cert certDto, items []itemDto) identityDto {
	t.Helper()
	var ids []identityDto
	tn.admin("GET", "/v3/public-identities?add-core-filters=true", nil).decode(t, &ids)
	subjects := map[string]bool{cert.Reviewer.ID: true}
	for _, it := range items {
		subjects[it.IdentitySummary.IdentityID] = true
	}
	for _, i := range ids {
		if !subjects[i.ID] && i.IdentityState == "ACTIVE" && i.Alias != "sandbox.admin" {
			return i
		}
	}
	t.Fatal("no identity to reassign to")
	return identityDto{}
}

func TestReassignSync(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)

	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		items = tn.items(cert.ID, "")
		res := tn.admin("POST", prefix+cert.ID+"/reassign", reassignBody{Reassign: itemRefs(items[:1]), ReassignTo: to.ID, Reason: "Moved to the team lead"})
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var after certDto
		res.decode(t, &after)
		assert.Equal(t, cert.ID, after.ID, "the source certification comes back")
		assert.Equal(t, len(items)-1, after.DecisionsTotal)
	}

	// The moved items live in the new reviewer's certification of the same
	// campaign, which says where they came from.
	theirs := tn.certs("reviewer-identity=" + to.ID)
	require.Len(t, theirs, 1)
	moved := theirs[0]
	assert.Equal(t, cert.Campaign.ID, moved.Campaign.ID)
	assert.Equal(t, 2, moved.DecisionsTotal, "the second call reused the certification")
	require.NotNil(t, moved.Reassignment)
	assert.Equal(t, cert.ID, moved.Reassignment.From.ID)
	assert.Equal(t, "Moved to the team lead", moved.Reassignment.Comment)
	assert.Equal(t, *cert.Due, *moved.Due)
	assert.Len(t, tn.items(moved.ID, ""), 2)

	// The source's reviewers now include the new reviewer.
	var rs []reviewerDto
	tn.admin("GET", "/v3/certifications/"+cert.ID+"/reviewers", nil).decode(t, &rs)
	require.Len(t, rs, 2)
	assert.Equal(t, to.ID, rs[1].ID)

	st := tn.sb.Stats()
	assert.Equal(t, 2, st.ReassignmentsApplied)
	assert.Equal(t, 2, st.ItemsMoved)
	assert.Equal(t, 2, st.Calls("reassignIdentityCertifications"))
}

// "Move Bob's items to his new manager": an IDENTITY_SUMMARY reference
// moves all of one identity's items.
func TestReassignIdentitySummaryToManager(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[1]
	items := tn.items(cert.ID, "")
	bob := items[0].IdentitySummary
	var bobs []identityDto
	tn.admin("GET", "/v3/public-identities?filters="+q(`id eq "`+bob.IdentityID+`"`), nil).decode(t, &bobs)
	require.Len(t, bobs, 1)
	// His new manager: the manager of his current manager's peers is as
	// good as any active identity not involved.
	to := newReviewer(t, tn, cert, items)
	n := len(tn.items(cert.ID, "filters="+q(`identitySummary.id eq "`+bob.ID+`"`)))
	require.Positive(t, n)

	res := tn.admin("POST", "/v3/certifications/"+cert.ID+"/reassign", reassignBody{
		Reassign: []ref{{ID: bob.ID, Type: "IDENTITY_SUMMARY"}}, ReassignTo: to.ID, Reason: "Bob has a new manager",
	})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var after certDto
	res.decode(t, &after)
	assert.Equal(t, cert.DecisionsTotal-n, after.DecisionsTotal)
	assert.Equal(t, cert.IdentitiesTotal-1, after.IdentitiesTotal)
	assert.Empty(t, tn.items(cert.ID, "filters="+q(`identitySummary.name eq `+lit(bob.Name))))

	theirs := tn.certs("reviewer-identity=" + to.ID)
	require.Len(t, theirs, 1)
	moved := tn.items(theirs[0].ID, "")
	require.Len(t, moved, n)
	for _, it := range moved {
		assert.Equal(t, bob.IdentityID, it.IdentitySummary.IdentityID)
	}
	assert.Equal(t, 1, theirs[0].IdentitiesTotal)

	// TARGET_SUMMARY names an access reviewed in the certification.
	rest := tn.items(cert.ID, "")
	res = tn.admin("POST", "/v3/certifications/"+cert.ID+"/reassign", reassignBody{
		Reassign: []ref{{ID: rest[0].AccessSummary.Access.ID, Type: "TARGET_SUMMARY"}}, ReassignTo: to.ID, Reason: "Owner of this access",
	})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
}

func TestReassignLimits(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 3, ItemsPerCertification: 560})
	cert := tn.certs("")[0]
	items := tn.items(cert.ID, "limit=250")
	items = append(items, tn.items(cert.ID, "limit=250&offset=250")...)
	items = append(items, tn.items(cert.ID, "limit=250&offset=500")...)
	require.Len(t, items, 560)
	to := newReviewer(t, tn, cert, items)
	reassign := func(path string, n int) *response {
		return tn.admin("POST", "/v3/certifications/"+cert.ID+path, reassignBody{Reassign: itemRefs(items[:n]), ReassignTo: to.ID, Reason: "limits"})
	}
	tests := []struct {
		path   string
		n      int
		status int
	}{
		{"/reassign", 51, http.StatusBadRequest},
		{"/reassign-async", 501, http.StatusBadRequest},
		{"/reassign", 50, http.StatusOK},
		{"/reassign-async", 500, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.path, tt.n), func(t *testing.T) {
			res := reassign(tt.path, tt.n)
			require.Equal(t, tt.status, res.Status, "body: %s", res.Body)
			if tt.status == http.StatusBadRequest {
				assert.Contains(t, res.errorText(t), fmt.Sprint(tt.n-1))
			}
			// Skip the items the sync call moved for the async one.
			if tt.status == http.StatusOK {
				items = items[tt.n:]
			}
		})
	}
}

func TestReassignRejects(t *testing.T) {
	tn := start(t, sandbox.Config{})
	certs := tn.certs("filters=" + q(`phase eq "ACTIVE"`))
	cert, other := certs[0], certs[1]
	items := tn.items(cert.ID, "")
	otherItems := tn.items(other.ID, "")
	to := newReviewer(t, tn, cert, items)
	var inactive []identityDto
	tn.admin("GET", "/v3/public-identities", nil).decode(t, &inactive)
	var gone identityDto
	for _, i := range inactive {
		if i.IdentityState != "ACTIVE" {
			gone = i
		}
	}
	require.NotEmpty(t, gone.ID)
	signed := tn.certs("filters=" + q(`phase eq "SIGNED"`))[0]

	tests := []struct {
		name    string
		certID  string
		body    any
		status  int
		mention string
	}{
		{"item of another certification", cert.ID, reassignBody{itemRefs(otherItems[:1]), to.ID, "r"}, 400, otherItems[0].ID},
		{"item id as identity summary", cert.ID, reassignBody{[]ref{{items[0].ID, "IDENTITY_SUMMARY"}}, to.ID, "r"}, 400, "IDENTITY_SUMMARY"},
		{"identity summary as item", cert.ID, reassignBody{[]ref{{items[0].IdentitySummary.ID, "ITEM"}}, to.ID, "r"}, 400, items[0].IdentitySummary.ID},
		{"unknown target", cert.ID, reassignBody{itemRefs(items[:1]), "0123456789abcdef0123456789abcdef", "r"}, 400, "reassignTo"},
		{"inactive target", cert.ID, reassignBody{itemRefs(items[:1]), gone.ID, "r"}, 400, "not active"},
		{"current reviewer", cert.ID, reassignBody{itemRefs(items[:1]), cert.Reviewer.ID, "r"}, 400, "already reviews"},
		{"own access", cert.ID, reassignBody{itemRefs(items[:1]), items[0].IdentitySummary.IdentityID, "r"}, 400, "own access"},
		{"empty reason", cert.ID, reassignBody{itemRefs(items[:1]), to.ID, "  "}, 400, "reason"},
		{"no references", cert.ID, reassignBody{[]ref{}, to.ID, "r"}, 400, "at least one"},
		{"unknown type", cert.ID, map[string]any{"reassign": []ref{{items[0].ID, "ACCOUNT"}}, "reassignTo": to.ID, "reason": "r"}, 400, "ACCOUNT"},
		{"missing reassignTo", cert.ID, map[string]any{"reassign": itemRefs(items[:1]), "reason": "r"}, 400, "reassignTo"},
		{"missing reassign", cert.ID, map[string]any{"reassignTo": to.ID, "reason": "r"}, 400, "reassign"},
		{"missing ref type", cert.ID, map[string]any{"reassign": []map[string]string{{"id": items[0].ID}}, "reassignTo": to.ID, "reason": "r"}, 400, "type"},
		{"reason not a string", cert.ID, map[string]any{"reassign": itemRefs(items[:1]), "reassignTo": to.ID, "reason": 5}, 400, "reason"},
		{"signed certification", signed.ID, reassignBody{[]ref{{"x", "ITEM"}}, to.ID, "r"}, 400, "signed"},
		{"unknown certification", "0123456789abcdef0123456789abcdef", reassignBody{itemRefs(items[:1]), to.ID, "r"}, 404, ""},
	}
	for _, tt := range tests {
		for _, path := range []string{"/reassign", "/reassign-async"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				res := tn.admin("POST", "/v3/certifications/"+tt.certID+path, tt.body)
				require.Equal(t, tt.status, res.Status, "body: %s", res.Body)
				assert.Contains(t, res.errorText(t), tt.mention)
			})
		}
	}
	assert.Equal(t, 0, tn.sb.Stats().ItemsMoved, "nothing moved")
	assert.Equal(t, cert, tn.cert(cert.ID))
}

func TestReassignAsyncLifecycle(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	rev := tn.cred("sandbox-reviewer-1")
	var mine []certDto
	tn.as(rev.ClientID, "GET", "/v3/certifications?filters="+q(`phase eq "ACTIVE"`), nil).decode(t, &mine)
	cert := mine[0]
	items := tn.items(cert.ID, "filters="+q(`completed eq false`))
	require.GreaterOrEqual(t, len(items), 3)
	to := newReviewer(t, tn, cert, items)

	res := tn.as(rev.ClientID, "POST", "/v3/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:3]), to.ID, "On leave"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var task taskDto
	res.decode(t, &task)
	assert.Equal(t, "QUEUED", task.Status)
	assert.Equal(t, "REASSIGN", task.Type, "a reviewer's reassignment")
	assert.Equal(t, cert.ID, task.TargetID)
	require.Len(t, task.Trail, 1)
	assert.Equal(t, cert.Reviewer.ID, task.Trail[0].PreviousOwner)
	assert.Equal(t, to.ID, task.Trail[0].NewOwner)

	getTask := func() taskDto {
		var tk taskDto
		r := tn.as(rev.ClientID, "GET", "/v3/certification-tasks/"+task.ID, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		r.decode(t, &tk)
		return tk
	}
	pending := func() []taskDto {
		var ts []taskDto
		tn.as(rev.ClientID, "GET", "/v3/certification-tasks?filters="+q(`targetId eq "`+cert.ID+`"`), nil).decode(t, &ts)
		return ts
	}
	betaPending := func() []map[string]any {
		var ts []map[string]any
		r := tn.admin("GET", "/beta/certifications/"+cert.ID+"/tasks-pending", nil)
		require.Equal(t, http.StatusOK, r.Status)
		r.decode(t, &ts)
		return ts
	}
	require.Len(t, pending(), 1)
	assert.Len(t, betaPending(), 1)
	assert.Equal(t, cert.DecisionsTotal, tn.cert(cert.ID).DecisionsTotal, "nothing moved while queued")

	clk.Advance(200 * time.Millisecond)
	assert.Equal(t, "IN_PROGRESS", getTask().Status)
	require.Len(t, pending(), 1)
	assert.Equal(t, "IN_PROGRESS", pending()[0].Status)

	clk.Advance(300 * time.Millisecond)
	done := getTask()
	assert.Equal(t, "SUCCESS", done.Status)
	assert.Empty(t, done.Errors)
	assert.Empty(t, pending())
	assert.Empty(t, betaPending())

	var betaTask map[string]any
	r := tn.admin("GET", "/beta/certifications/"+cert.ID+"/tasks/"+task.ID, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.decode(t, &betaTask)
	assert.Equal(t, "SUCCESS", betaTask["status"])
	assert.Equal(t, cert.ID, betaTask["certificationId"])

	after := tn.cert(cert.ID)
	assert.Equal(t, cert.DecisionsTotal-3, after.DecisionsTotal)
	theirs := tn.certs("reviewer-identity=" + to.ID)
	require.Len(t, theirs, 1)
	assert.Equal(t, 3, theirs[0].DecisionsTotal)
	assert.Equal(t, cert.ID, theirs[0].Reassignment.From.ID)
	// The new reviewer's certification is not the old reviewer's to see.
	assert.Equal(t, http.StatusForbidden, tn.as(rev.ClientID, "GET", "/v3/certifications/"+theirs[0].ID, nil).Status)

	st := tn.sb.Stats()
	assert.Equal(t, 1, st.ReassignmentsApplied)
	assert.Equal(t, 3, st.ItemsMoved)
}

// A task whose items were moved by another task first ends in ERROR.
func TestReassignAsyncConflict(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)
	var first, second taskDto
	res := tn.admin("POST", "/v3/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:2]), to.ID, "first"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &first)
	assert.Equal(t, "ADMIN_REASSIGN", first.Type)
	res = tn.admin("POST", "/certifications/v1/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[1:3]), to.ID, "second"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &second)

	clk.Advance(time.Second)
	var a, b taskDto
	tn.admin("GET", "/v3/certification-tasks/"+first.ID, nil).decode(t, &a)
	tn.admin("GET", "/certification-tasks/v1/"+second.ID, nil).decode(t, &b)
	assert.Equal(t, "SUCCESS", a.Status)
	assert.Equal(t, "ERROR", b.Status)
	require.NotEmpty(t, b.Errors)
	assert.Contains(t, b.Errors[0].Text, items[1].ID)
	assert.Equal(t, cert.DecisionsTotal-2, tn.cert(cert.ID).DecisionsTotal)
	assert.Equal(t, 1, tn.sb.Stats().TasksFailed)
}

func TestReassignAsyncBeta(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)
	res := tn.admin("POST", "/beta/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:1]), to.ID, "beta"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	assert.Equal(t, "true", res.Header.Get("X-Deprecated"))
	var task map[string]any
	res.decode(t, &task)
	assert.Equal(t, "REASSIGN", task["type"], "beta's enum has only REASSIGN")
	assert.Equal(t, "QUEUED", task["status"])
	assert.Equal(t, cert.ID, task["certificationId"])

	assert.Equal(t, http.StatusNotFound, tn.admin("GET", "/beta/certifications/"+cert.ID+"/tasks/0123456789abcdef0123456789abcdef", nil).Status)
	assert.Equal(t, http.StatusNotFound, tn.admin("GET", "/v3/certification-tasks/0123456789abcdef0123456789abcdef", nil).Status)
}

// A queued task whose target leaves before it runs ends in ERROR, and
// nothing moves; a certification with a pending task cannot be signed.
func TestReassignAsyncTargetInvalid(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)
	var task taskDto
	res := tn.admin("POST", "/v3/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:1]), to.ID, "leaving soon"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &task)

	res = tn.admin("POST", "/v3/certifications/"+cert.ID+"/sign-off", nil)
	assert.Equal(t, http.StatusBadRequest, res.Status)

	require.True(t, tn.sb.SetIdentityActive(to.ID, false))
	clk.Advance(time.Second)
	tn.admin("GET", "/v3/certification-tasks/"+task.ID, nil).decode(t, &task)
	assert.Equal(t, "ERROR", task.Status)
	require.NotEmpty(t, task.Errors)
	assert.Contains(t, task.Errors[0].Text, "not active")
	assert.Equal(t, cert.DecisionsTotal, tn.cert(cert.ID).DecisionsTotal)
	assert.Zero(t, tn.sb.Stats().ItemsMoved)
}
