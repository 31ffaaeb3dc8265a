package sandbox_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestListCertificationsAllVersions(t *testing.T) {
	tn := start(t, sandbox.Config{})
	for _, path := range []string{"/v3/certifications", "/certifications/v1"} {
		t.Run(path, func(t *testing.T) {
			res := tn.admin("GET", path+"?count=true", nil)
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			var certs []certDto
			res.decode(t, &certs)
			assert.Len(t, certs, sandbox.SmallCertifications)
			assert.Equal(t, strconv.Itoa(sandbox.SmallCertifications), res.Header.Get("X-Total-Count"))
			assert.Empty(t, res.Header.Get("X-Deprecated"))
			phases := map[string]int{}
			types := map[string]bool{}
			for _, c := range certs {
				assert.Regexp(t, "^[0-9a-f]{32}$", c.ID)
				assert.NotEmpty(t, c.Name)
				assert.NotEmpty(t, c.Reviewer.Email)
				require.NotNil(t, c.Due)
				phases[c.Phase]++
				types[c.Campaign.CampaignType] = true
			}
			assert.Positive(t, phases["ACTIVE"])
			assert.Positive(t, phases["SIGNED"])
			assert.Positive(t, phases["STAGED"])
			assert.Len(t, types, 5, "a campaign of every type")
		})
	}
}

func TestListCertificationsBeta(t *testing.T) {
	tn := start(t, sandbox.Config{})
	res := tn.admin("GET", "/beta/certifications?limit=3", nil)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	assert.Equal(t, "true", res.Header.Get("X-Deprecated"))
	var certs []map[string]any
	res.decode(t, &certs)
	require.Len(t, certs, 3)
	for _, c := range certs {
		assert.Contains(t, c, "campaignRef")
		assert.Contains(t, c, "campaignOwner")
		assert.Contains(t, c, "entitiesTotal")
		assert.NotContains(t, c, "campaign")
	}

	// The beta spelling reviewer-identitiy is the only one on beta.
	rev := tn.cred("sandbox-reviewer-1")
	res = tn.admin("GET", "/beta/certifications?reviewer-identitiy="+rev.IdentityID, nil)
	require.Equal(t, http.StatusOK, res.Status)
	res.decode(t, &certs)
	require.NotEmpty(t, certs)
	for _, c := range certs {
		assert.Equal(t, rev.IdentityID, c["reviewer"].(map[string]any)["id"])
	}
	res = tn.admin("GET", "/beta/certifications?reviewer-identity="+rev.IdentityID, nil)
	res.decode(t, &certs)
	assert.Len(t, certs, sandbox.SmallCertifications, "v3 spelling is ignored on beta")
}

func TestGetCertification(t *testing.T) {
	tn := start(t, sandbox.Config{})
	all := tn.certs("")
	for _, prefix := range []string{"/v3/certifications/", "/certifications/v1/"} {
		res := tn.admin("GET", prefix+all[0].ID, nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var c certDto
		res.decode(t, &c)
		assert.Equal(t, all[0], c)

		res = tn.admin("GET", prefix+"0123456789abcdef0123456789abcdef", nil)
		assert.Equal(t, http.StatusNotFound, res.Status)
		var e errorBody
		res.decode(t, &e)
		assert.Equal(t, "404 Not found", e.DetailCode)
		assert.Regexp(t, "^[0-9a-f]{32}$", e.TrackingID)
	}
}
