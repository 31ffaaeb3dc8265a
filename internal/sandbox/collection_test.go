package sandbox_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestPagination(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 30})
	all := tn.certs("")
	require.Len(t, all, 30)

	page := tn.certs("limit=7&offset=5")
	assert.Equal(t, all[5:12], page)
	assert.Empty(t, tn.certs("offset=30"))
	assert.Empty(t, tn.certs("limit=0"))

	res := tn.admin("GET", "/v3/certifications?limit=2&offset=3&count=true", nil)
	assert.Equal(t, "30", res.Header.Get("X-Total-Count"), "total ignores limit and offset")
	res = tn.admin("GET", "/v3/certifications?limit=2", nil)
	assert.Empty(t, res.Header.Get("X-Total-Count"), "no count unless asked")

	var ids []string
	for offset := 0; ; offset += 250 {
		page := tn.certs("limit=250&offset=" + strconv.Itoa(offset))
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		if len(page) < 250 {
			break
		}
	}
	assert.Len(t, ids, 30)

	for _, bad := range []string{"limit=251", "limit=-1", "limit=abc", "offset=-1", "offset=x", "count=maybe"} {
		t.Run(bad, func(t *testing.T) {
			for _, path := range []string{"/v3/certifications", "/beta/certifications", "/certifications/v1",
				"/v3/public-identities", "/v3/certification-tasks", "/v3/certifications/" + all[0].ID + "/access-review-items",
				"/v3/certifications/" + all[0].ID + "/reviewers"} {
				res := tn.admin("GET", path+"?"+bad, nil)
				require.Equal(t, http.StatusBadRequest, res.Status, "%s?%s", path, bad)
				name, _, _ := strings.Cut(bad, "=")
				assert.Contains(t, res.errorText(t), name)
			}
		})
	}
}

// The filters and sorters each operation accepts, good and bad.
func TestFiltersAndSorters(t *testing.T) {
	tn := start(t, sandbox.Config{})
	all := tn.certs("")
	cert := all[0]
	items := tn.items(cert.ID, "")
	require.NotEmpty(t, items)

	good := []struct {
		name, path string
		want       int // -1: any, just 200
	}{
		{"cert id eq", "/v3/certifications?filters=" + q(`id eq "`+cert.ID+`"`), 1},
		{"cert id in", "/v3/certifications?filters=" + q(`id in ("`+cert.ID+`","`+all[1].ID+`")`), 2},
		{"cert campaign.id", "/v3/certifications?filters=" + q(`campaign.id eq "`+cert.Campaign.ID+`"`), -1},
		{"cert phase and completed", "/v3/certifications?filters=" + q(`phase eq "SIGNED" and completed eq true`), 1},
		{"beta completed ne", "/beta/certifications?filters=" + q(`completed ne true`), -1},
		{"beta campaignRef.campaignType in", "/beta/certifications?filters=" + q(`campaignRef.campaignType in ("MANAGER","SEARCH")`), -1},
		{"items access.type", "/v3/certifications/" + cert.ID + "/access-review-items?filters=" + q(`access.type eq "ROLE"`), -1},
		{"items identitySummary.name sw", "/v3/certifications/" + cert.ID + "/access-review-items?filters=" + q(`identitySummary.name sw "`+items[0].IdentitySummary.Name[:3]+`"`), -1},
		{"items completed ne", "/v3/certifications/" + cert.ID + "/access-review-items?filters=" + q(`completed ne true`), -1},
		{"reviewers name sw", "/v3/certifications/" + cert.ID + "/reviewers?filters=" + q(`name sw "`+cert.Reviewer.Name[:2]+`"`), 1},
		{"tasks targetId", "/v3/certification-tasks?filters=" + q(`targetId eq "`+cert.ID+`"`), 0},
		{"identities email sw", "/v3/public-identities?filters=" + q(`email sw "`+cert.Reviewer.Email[:4]+`"`), -1},
		{"cert sorters", "/v3/certifications?sorters=-due,name", -1},
		{"items sorters", "/v3/certifications/" + cert.ID + "/access-review-items?sorters=access.type,-identitySummary.name", -1},
		{"reviewer sorters", "/v3/certifications/" + cert.ID + "/reviewers?sorters=-email", -1},
		{"identity sorters", "/v3/public-identities?sorters=-name", -1},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			res := tn.admin("GET", tt.path, nil)
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			var list []any
			res.decode(t, &list)
			if tt.want >= 0 {
				assert.Len(t, list, tt.want)
			} else {
				assert.NotEmpty(t, list)
			}
		})
	}

	bad := []struct {
		name, path, mention string
	}{
		{"unknown cert field", "/v3/certifications?filters=" + q(`name eq "x"`), "name"},
		{"beta field on v3", "/v3/certifications?filters=" + q(`campaignRef.id eq "x"`), "campaignRef.id"},
		{"v3 field on beta", "/beta/certifications?filters=" + q(`campaign.id eq "x"`), "campaign.id"},
		{"completed ne on v3", "/v3/certifications?filters=" + q(`completed ne true`), "ne"},
		{"phase in", "/v3/certifications?filters=" + q(`phase in ("ACTIVE")`), "in"},
		{"upper-case operator", "/v3/certifications?filters=" + q(`phase EQ "ACTIVE"`), "EQ"},
		{"unterminated string", "/v3/certifications?filters=" + q(`id eq "abc`), "position"},
		{"items unknown field", "/v3/certifications/" + cert.ID + "/access-review-items?filters=" + q(`decision eq "APPROVE"`), "decision"},
		{"items sw on id", "/v3/certifications/" + cert.ID + "/access-review-items?filters=" + q(`id sw "a"`), "sw"},
		{"reviewers co", "/v3/certifications/" + cert.ID + "/reviewers?filters=" + q(`name co "a"`), "co"},
		{"identities name (no such filter)", "/v3/public-identities?filters=" + q(`name eq "Bob"`), "name"},
		{"tasks status", "/v3/certification-tasks?filters=" + q(`status eq "QUEUED"`), "status"},
		{"cert sorter", "/v3/certifications?sorters=created", "created"},
		{"cert sorter descending", "/v3/certifications?sorters=name,-phase", "phase"},
		{"items sorter", "/v3/certifications/" + cert.ID + "/access-review-items?sorters=id", "id"},
		{"reviewer sorter", "/v3/certifications/" + cert.ID + "/reviewers?sorters=id", "id"},
		{"identity sorter", "/v3/public-identities?sorters=email", "email"},
		{"two access params", "/v3/certifications/" + cert.ID + "/access-review-items?entitlements=a&roles=b", "roles"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res := tn.admin("GET", tt.path, nil)
			require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
			var e errorBody
			res.decode(t, &e)
			assert.Equal(t, "400.1 Bad Request Content", e.DetailCode)
			assert.Contains(t, res.errorText(t), tt.mention)
		})
	}
}

func TestCertificationFilterResults(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 40})
	all := tn.certs("")
	for _, c := range tn.certs("filters=" + q(`phase eq "SIGNED"`)) {
		assert.Equal(t, "SIGNED", c.Phase)
		assert.True(t, c.Completed)
		assert.NotNil(t, c.Signed)
	}
	campaign := all[3].Campaign.ID
	got := tn.certs("filters=" + q(`campaign.id eq "`+campaign+`" and phase eq "ACTIVE"`) + "&count=true")
	require.NotEmpty(t, got)
	for _, c := range got {
		assert.Equal(t, campaign, c.Campaign.ID)
		assert.Equal(t, "ACTIVE", c.Phase)
	}
	open := tn.certs("filters=" + q(`completed eq false`))
	for _, c := range open {
		assert.False(t, c.Completed)
	}

	byName := tn.certs("sorters=name")
	assert.True(t, slices.IsSortedFunc(byName, func(a, b certDto) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	}))
	byDueDesc := tn.certs("sorters=-due")
	for i := 1; i < len(byDueDesc); i++ {
		assert.GreaterOrEqual(t, *byDueDesc[i-1].Due, *byDueDesc[i].Due)
	}
	// Signed ones first when sorting by signed; unsigned (null) last.
	bySigned := tn.certs("sorters=signed")
	seenNull := false
	for _, c := range bySigned {
		if c.Signed == nil {
			seenNull = true
		} else {
			assert.False(t, seenNull, "a signed certification after an unsigned one")
		}
	}
}
