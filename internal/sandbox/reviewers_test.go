package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

type reviewerDto struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func TestListReviewers(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("")[0]
	for _, prefix := range []string{"/beta/certifications/", "/v3/certifications/", "/certifications/v1/"} {
		res := tn.admin("GET", prefix+cert.ID+"/reviewers?count=true", nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var rs []reviewerDto
		res.decode(t, &rs)
		require.Len(t, rs, 1)
		assert.Equal(t, reviewerDto{Type: "IDENTITY", ID: cert.Reviewer.ID, Name: cert.Reviewer.Name, Email: cert.Reviewer.Email}, rs[0])
		assert.Equal(t, "1", res.Header.Get("X-Total-Count"))
		if prefix == "/beta/certifications/" {
			assert.Equal(t, "true", res.Header.Get("X-Deprecated"))
		}
	}
	// The reviewer may list its own certification's reviewers.
	rev := tn.cred("sandbox-reviewer-1")
	require.Equal(t, rev.IdentityID, cert.Reviewer.ID)
	assert.Equal(t, http.StatusOK, tn.as(rev.ClientID, "GET", "/v3/certifications/"+cert.ID+"/reviewers", nil).Status)
	assert.Equal(t, http.StatusNotFound, tn.admin("GET", "/v3/certifications/0123456789abcdef0123456789abcdef/reviewers", nil).Status)
}
