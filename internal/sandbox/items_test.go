package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestAccessReviewItems(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("")[0]
	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		res := tn.admin("GET", prefix+cert.ID+"/access-review-items?count=true", nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var items []itemDto
		res.decode(t, &items)
		assert.Len(t, items, cert.DecisionsTotal)
		assert.Equal(t, "8", res.Header.Get("X-Total-Count"))
		types := map[string]bool{}
		decided := 0
		for _, it := range items {
			types[it.AccessSummary.Access.Type] = true
			if it.Completed {
				decided++
				assert.Contains(t, []string{"APPROVE", "REVOKE"}, it.Decision)
			}
			assert.NotEmpty(t, it.IdentitySummary.ID)
			assert.NotEqual(t, cert.Reviewer.ID, it.IdentitySummary.IdentityID, "nobody reviews their own access")
		}
		assert.Len(t, types, 3, "entitlements, access profiles and roles")
		assert.Equal(t, cert.DecisionsMade, decided)
	}

	items := tn.items(cert.ID, "")
	var ent itemDto
	for _, it := range items {
		if it.AccessSummary.Access.Type == "ENTITLEMENT" {
			ent = it
			break
		}
	}
	require.NotEmpty(t, ent.ID)
	// entitlements= selects items of those entitlements only.
	got := tn.items(cert.ID, "entitlements="+ent.AccessSummary.Access.ID+",nope")
	require.NotEmpty(t, got)
	for _, it := range got {
		assert.Equal(t, ent.AccessSummary.Access.ID, it.AccessSummary.Access.ID)
	}
	assert.Empty(t, tn.items(cert.ID, "roles="+ent.AccessSummary.Access.ID))

	// Filters select what they say.
	for _, it := range tn.items(cert.ID, "filters="+q(`identitySummary.id eq "`+ent.IdentitySummary.ID+`"`)) {
		assert.Equal(t, ent.IdentitySummary.ID, it.IdentitySummary.ID)
	}
	for _, it := range tn.items(cert.ID, "filters="+q(`completed eq false and access.type eq "ROLE"`)) {
		assert.False(t, it.Completed)
		assert.Equal(t, "ROLE", it.AccessSummary.Access.Type)
	}
	sorted := tn.items(cert.ID, "sorters=-access.name")
	for i := 1; i < len(sorted); i++ {
		assert.GreaterOrEqual(t, strings.ToLower(sorted[i-1].AccessSummary.Access.Name), strings.ToLower(sorted[i].AccessSummary.Access.Name))
	}

	res := tn.admin("GET", "/v3/certifications/0123456789abcdef0123456789abcdef/access-review-items", nil)
	assert.Equal(t, http.StatusNotFound, res.Status)
}

func TestItemPermissions(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("")[0]
	var ent, role itemDto
	for _, it := range tn.items(cert.ID, "") {
		switch {
		case it.AccessSummary.Entitlement != nil && it.AccessSummary.Entitlement.HasPermissions && ent.ID == "":
			ent = it
		case it.AccessSummary.Access.Type == "ROLE":
			role = it
		}
	}
	require.NotEmpty(t, ent.ID, "an entitlement item with permissions")
	type perm struct {
		Rights []string `json:"rights"`
		Target string   `json:"target"`
	}
	list := func(prefix, itemID, query string) (*response, []perm) {
		res := tn.admin("GET", prefix+cert.ID+"/access-review-items/"+itemID+"/permissions?"+query, nil)
		var ps []perm
		if res.Status == http.StatusOK {
			res.decode(t, &ps)
		}
		return res, ps
	}
	for _, prefix := range []string{"/beta/certifications/", "/v3/certifications/", "/certifications/v1/"} {
		res, all := list(prefix, ent.ID, "count=true")
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		require.NotEmpty(t, all)
		assert.NotEmpty(t, all[0].Rights)
		assert.NotEmpty(t, res.Header.Get("X-Total-Count"))

		// Values compare case-insensitively.
		target := all[0].Target
		_, got := list(prefix, ent.ID, "filters="+q(`target eq `+lit(strings.ToUpper(target))))
		require.Len(t, got, 1, prefix)
		assert.Equal(t, target, got[0].Target)
		right := all[0].Rights[0]
		_, got = list(prefix, ent.ID, "filters="+q(`rights ca (`+lit(strings.ToLower(right))+`) and target sw `+lit(target[:3])))
		assert.NotEmpty(t, got)

		_, got = list(prefix, role.ID, "")
		assert.Empty(t, got, "a role has no permissions")
	}
	for name, f := range map[string]string{
		"two ands":               `target eq "a" and rights ca ("x") and target sw "b"`,
		"and between two rights": `rights ca ("CREATE") and rights ca ("SELECT")`,
		"not":                    `not target eq "a"`,
		"unsupported operator":   `target co "a"`,
		"unsupported field":      `name eq "a"`,
	} {
		t.Run(name, func(t *testing.T) {
			res, _ := list("/v3/certifications/", ent.ID, "filters="+q(f))
			assert.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
		})
	}
	res, _ := list("/v3/certifications/", "0123456789abcdef0123456789abcdef", "")
	assert.Equal(t, http.StatusNotFound, res.Status)
}
