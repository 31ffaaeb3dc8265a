package filter

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v3 listIdentityCertifications (api/sailpoint/README.md).
var listCertifications = Fields{
	"id":          {"eq", "in"},
	"campaign.id": {"eq", "in"},
	"phase":       {"eq"},
	"completed":   {"eq"},
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		err    string // "" = allowed
	}{
		{"allowed eq", `phase eq "ACTIVE"`, ""},
		{"allowed in", `campaign.id in ("c1","c2")`, ""},
		{"composites are allowed", `not (id eq "a" or id eq "b") and completed eq false`, ""},
		{"unknown field", `name eq "x"`, "filters: field 'name' is not supported here; supported: campaign.id, completed, id, phase"},
		{"unknown field on the right", `phase eq "ACTIVE" and campaignRef.id eq "x"`, "field 'campaignRef.id' is not supported here"},
		{"operator not allowed", `completed ne true`, "filters: operator 'ne' is not supported for field 'completed'; supported: eq"},
		{"pr not allowed", `pr id`, "operator 'pr' is not supported for field 'id'; supported: eq, in"},
		{"first problem reported", `not name co "x" or phase sw "A"`, "field 'name' is not supported here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.filter)
			require.NoError(t, err)
			err = Check(e, listCertifications)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var ferr *Error
			require.True(t, errors.As(err, &ferr))
			assert.Equal(t, -1, ferr.Pos)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestCheckNoFields(t *testing.T) {
	e, err := Parse(`id eq "a"`)
	require.NoError(t, err)
	assert.EqualError(t, Check(e, nil), "filters: field 'id' is not supported here; supported: none")
}
