package sandbox_test

import (
	"net/http"
	"testing"

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
