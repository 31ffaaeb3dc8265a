package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestPublicIdentities(t *testing.T) {
	tn := start(t, sandbox.Config{})
	list := func(path string) []identityDto {
		t.Helper()
		res := tn.admin("GET", path, nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var out []identityDto
		res.decode(t, &out)
		return out
	}
	all := list("/v3/public-identities?count=true")
	require.Greater(t, len(all), 40)
	for i := 1; i < len(all); i++ {
		assert.LessOrEqual(t, all[i-1].Name, all[i].Name, "sorted by name")
	}
	byID := map[string]identityDto{}
	managed, inactive := 0, 0
	for _, i := range all {
		byID[i.ID] = i
		if i.Email != "" {
			assert.True(t, strings.HasSuffix(i.Email, "@acme.example"), i.Email)
		}
		if i.Manager != nil {
			managed++
		}
		if i.IdentityState != "ACTIVE" {
			inactive++
		}
	}
	assert.Greater(t, managed, 30, "people have managers")
	assert.Positive(t, inactive, "some people have left")
	for _, i := range all {
		if i.Manager != nil {
			assert.Contains(t, byID, i.Manager.ID, "managers are identities too")
		}
	}

	bob := all[5]
	assert.Equal(t, []identityDto{bob}, list("/v3/public-identities?filters="+q(`email eq "`+strings.ToUpper(bob.Email)+`"`)))
	assert.Equal(t, []identityDto{bob}, list("/public-identities/v1?filters="+q(`id eq "`+bob.ID+`"`)))
	assert.Equal(t, []identityDto{bob}, list("/v3/public-identities?filters="+q(`alias eq "`+bob.Alias+`"`)))
	first, _, _ := strings.Cut(bob.Name, " ")
	for _, i := range list("/v3/public-identities?filters=" + q(`firstname eq "`+first+`"`)) {
		assert.True(t, strings.HasPrefix(i.Name, first+" "))
	}

	// add-core-filters leaves out service accounts without email.
	core := list("/v3/public-identities?add-core-filters=true")
	assert.Less(t, len(core), len(all))
	for _, i := range core {
		assert.NotEmpty(t, i.Email)
	}
	assert.Equal(t, http.StatusBadRequest, tn.admin("GET", "/v3/public-identities?add-core-filters=perhaps", nil).Status)
	// Every client may list identities.
	assert.Equal(t, http.StatusOK, tn.as("sandbox-reviewer-2", "GET", "/v3/public-identities?limit=1", nil).Status)
}
