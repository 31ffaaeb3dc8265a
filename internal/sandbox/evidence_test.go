package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// What a reviewer's evidence reads from an AccessReviewItem: every field the
// spec's ReviewableEntitlement, ReviewableAccessProfile and ReviewableRole
// define that the seed fills.

type reviewable struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Description        *string `json:"description"`
	Privileged         bool    `json:"privileged"`
	CloudGoverned      bool    `json:"cloudGoverned"`
	HasPermissions     bool    `json:"hasPermissions"`
	Revocable          bool    `json:"revocable"`
	SourceName         string  `json:"sourceName"`
	SourceType         string  `json:"sourceType"`
	SourceID           string  `json:"sourceId"`
	ContainsDataAccess bool    `json:"containsDataAccess"`
	DataAccess         *struct {
		Policies []struct {
			Value string `json:"value"`
		} `json:"policies"`
		Categories []struct {
			Value      string `json:"value"`
			MatchCount int    `json:"matchCount"`
		} `json:"categories"`
		ImpactScore struct {
			Value string `json:"value"`
		} `json:"impactScore"`
	} `json:"dataAccess"`
	Owner *struct {
		ID string `json:"id"`
	} `json:"owner"`
	EndDate *string `json:"endDate"`
	Account *struct {
		NativeIdentity   string `json:"nativeIdentity"`
		Disabled         bool   `json:"disabled"`
		ID               string `json:"id"`
		ActivityInsights struct {
			AccountID      string `json:"accountID"`
			UsageDays      int    `json:"usageDays"`
			UsageDaysState string `json:"usageDaysState"`
		} `json:"activityInsights"`
	} `json:"account"`
	Entitlements   []reviewable `json:"entitlements"`
	AccessProfiles []reviewable `json:"accessProfiles"`
}

type evidenceItem struct {
	ID            string  `json:"id"`
	Completed     bool    `json:"completed"`
	NewAccess     bool    `json:"newAccess"`
	Decision      string  `json:"decision"`
	Comments      *string `json:"comments"`
	AccessSummary struct {
		Access struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"access"`
		Entitlement   *reviewable `json:"entitlement"`
		AccessProfile *reviewable `json:"accessProfile"`
		Role          *reviewable `json:"role"`
	} `json:"accessSummary"`
	IdentitySummary struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		IdentityID string `json:"identityId"`
		Completed  bool   `json:"completed"`
	} `json:"identitySummary"`
}

// detail is the reviewable object of the item's type.
func (it evidenceItem) detail() *reviewable {
	switch it.AccessSummary.Access.Type {
	case "ENTITLEMENT":
		return it.AccessSummary.Entitlement
	case "ACCESS_PROFILE":
		return it.AccessSummary.AccessProfile
	}
	return it.AccessSummary.Role
}

func (it evidenceItem) privileged() bool { return it.detail().Privileged }

// evidenceItems reads a certification's items, v3 or v1 prefix.
func (tn *tenant) evidenceItems(prefix, certID string) []evidenceItem {
	tn.t.Helper()
	res := tn.admin("GET", prefix+certID+"/access-review-items", nil)
	require.Equal(tn.t, http.StatusOK, res.Status, "body: %s", res.Body)
	var out []evidenceItem
	res.decode(tn.t, &out)
	return out
}

// allEvidence reads every item of every certification, by certification.
func (tn *tenant) allEvidence() map[string][]evidenceItem {
	tn.t.Helper()
	out := map[string][]evidenceItem{}
	for _, c := range tn.certs("") {
		out[c.ID] = tn.evidenceItems("/v3/certifications/", c.ID)
	}
	return out
}

func names(rs []reviewable) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestReviewItemEvidence(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, RateLimit: -1})
	byAccess := map[string]evidenceItem{}
	var withEnd, withoutEnd, fresh, old int
	accounts := map[string]int{}
	for certID, items := range tn.allEvidence() {
		assert.Equal(t, items, tn.evidenceItems("/certifications/v1/", certID), "v1 answers the same items")
		for _, it := range items {
			d := it.detail()
			require.NotNil(t, d, "item %s has its %s", it.ID, it.AccessSummary.Access.Type)
			assert.Equal(t, it.AccessSummary.Access.ID, d.ID)
			assert.Equal(t, it.AccessSummary.Access.Name, d.Name)
			assert.NotNil(t, d.Owner, "every access has an owner")
			byAccess[d.Name] = it
			if it.NewAccess {
				fresh++
			} else {
				old++
			}
			if it.AccessSummary.Access.Type == "ENTITLEMENT" {
				require.NotNil(t, d.Account, "an entitlement sits on an account")
				assert.NotEmpty(t, d.Account.NativeIdentity)
				usage := d.Account.ActivityInsights
				assert.Equal(t, d.Account.ID, usage.AccountID)
				assert.GreaterOrEqual(t, usage.UsageDays, 0)
				assert.LessOrEqual(t, usage.UsageDays, 90)
				switch {
				case usage.UsageDaysState == "UNKNOWN":
					assert.Zero(t, usage.UsageDays)
					accounts["unknown use"]++
				case usage.UsageDays == 0:
					accounts["unused"]++
				default:
					assert.Equal(t, "COMPLETE", usage.UsageDaysState)
					accounts["used"]++
				}
				if d.Account.Disabled {
					accounts["disabled"]++
				}
				assert.Nil(t, d.EndDate, "ReviewableEntitlement has no endDate")
				// hasPermissions says whether the permissions operation
				// lists any.
				var perms []struct{ Target string }
				res := tn.admin("GET", "/v3/certifications/"+certID+"/access-review-items/"+it.ID+"/permissions", nil)
				require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
				res.decode(t, &perms)
				assert.Equal(t, d.HasPermissions, len(perms) > 0, "%s: hasPermissions and its permissions agree", d.Name)
				continue
			}
			if d.EndDate == nil {
				withoutEnd++
				continue
			}
			withEnd++
			end, err := time.Parse(time.RFC3339, *d.EndDate)
			require.NoError(t, err)
			assert.True(t, end.After(clk.Now()), "a temporary assignment ends in the future: %s", *d.EndDate)
		}
	}
	for _, kind := range []string{"used", "unused", "unknown use", "disabled"} {
		assert.Positive(t, accounts[kind], "some accounts are %s", kind)
	}
	assert.Less(t, accounts["disabled"], accounts["used"], "most accounts are enabled")
	assert.Positive(t, withEnd, "some access profile or role assignments end on a date")
	assert.Positive(t, withoutEnd, "most do not")
	assert.Positive(t, fresh, "some access is new since the last review")
	assert.Positive(t, old, "most is not")

	ent := func(name string) *reviewable {
		t.Helper()
		for n, it := range byAccess {
			if n == name || strings.HasPrefix(n, "CN="+name+",") {
				require.Equal(t, "ENTITLEMENT", it.AccessSummary.Access.Type)
				return it.detail()
			}
		}
		require.Failf(t, "not seeded", "no item reviews entitlement %s", name)
		return nil
	}
	other := func(name, typ string) *reviewable {
		t.Helper()
		it, ok := byAccess[name]
		require.True(t, ok, "an item reviews %s", name)
		require.Equal(t, typ, it.AccessSummary.Access.Type)
		return it.detail()
	}

	// An entitlement with a description, permissions and classified data.
	hr := ent("HR-Confidential")
	require.NotNil(t, hr.Description)
	assert.Equal(t, `Read and write access to confidential HR records (\\fs01\hr).`, *hr.Description)
	assert.Equal(t, "Active Directory", hr.SourceName)
	assert.Equal(t, "Active Directory - Direct", hr.SourceType)
	assert.Regexp(t, "^[0-9a-f]{32}$", hr.SourceID)
	assert.False(t, hr.Privileged)
	assert.False(t, hr.CloudGoverned)
	assert.True(t, hr.HasPermissions)
	assert.True(t, hr.Revocable)
	assert.True(t, hr.ContainsDataAccess)
	require.NotNil(t, hr.DataAccess)
	require.Len(t, hr.DataAccess.Policies, 1)
	assert.Equal(t, "GDPR", hr.DataAccess.Policies[0].Value)
	require.Len(t, hr.DataAccess.Categories, 2)
	assert.Equal(t, "personal-data", hr.DataAccess.Categories[0].Value)
	assert.Equal(t, 1240, hr.DataAccess.Categories[0].MatchCount)
	assert.Equal(t, "High", hr.DataAccess.ImpactScore.Value)

	// Privileged; cloud governed (a cloud source's).
	admin := ent("AdministratorAccess")
	assert.True(t, admin.Privileged)
	assert.True(t, admin.CloudGoverned)
	assert.Equal(t, "AWS Production", admin.SourceName)
	assert.False(t, admin.ContainsDataAccess)
	assert.Nil(t, admin.DataAccess)

	// No description: null, as ISC sends for undocumented entitlements.
	assert.Nil(t, ent("maintainers").Description)
	// No permissions.
	assert.False(t, ent("Standard User").HasPermissions)

	// An access profile is privileged or cloud governed when one of its
	// entitlements is; its entitlements carry their sources.
	payroll := other("Payroll Processing", "ACCESS_PROFILE")
	assert.True(t, payroll.Privileged)
	assert.False(t, payroll.CloudGoverned)
	require.NotNil(t, payroll.Description)
	assert.Equal(t, "Run payroll and change any worker's pay and bank details.", *payroll.Description)
	assert.Equal(t, []string{"Payroll Administrator", "Employee Self Service"}, names(payroll.Entitlements))
	for _, e := range payroll.Entitlements {
		assert.Equal(t, "Workday", e.SourceName)
		assert.Nil(t, e.Account, "an access profile's entitlements name no account")
	}
	assert.True(t, payroll.Entitlements[0].Privileged)
	lake := other("Data Lake Contributor", "ACCESS_PROFILE")
	assert.False(t, lake.Privileged)
	assert.True(t, lake.CloudGoverned)

	// A role: access profiles and entitlements of its own.
	itAdmin := other("IT Administrator", "ROLE")
	assert.True(t, itAdmin.Privileged)
	assert.True(t, itAdmin.Revocable)
	assert.Equal(t, []string{"Help Desk Tools"}, names(itAdmin.AccessProfiles))
	assert.Equal(t, []string{"CN=Domain Admins,OU=Groups,DC=acme,DC=example", "AdministratorAccess"}, names(itAdmin.Entitlements))
	for _, e := range itAdmin.Entitlements {
		assert.True(t, e.Privileged, e.Name)
	}
	assert.False(t, other("Sales Representative", "ROLE").Privileged)
	assert.Empty(t, other("Sales Representative", "ROLE").Entitlements)
}
