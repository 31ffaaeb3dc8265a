package sandbox_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// Bad input never gets a 500: ids with path tricks are unknown (404), bad
// bodies are 400, always in ISC's ErrorResponseDto shape.
func TestBadInput(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	good := `{"reassign":[{"id":"` + items[0].ID + `","type":"ITEM"}],"reassignTo":"` + cert.Reviewer.ID + `","reason":"r"}`
	long := strings.Repeat("a", 5000)

	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"id with encoded slash", "GET", "/v3/certifications/" + cert.ID + "%2Fx", "", 404},
		{"id with slash", "GET", "/v3/certifications/" + cert.ID + "/x", "", 404},
		{"dot-dot segment", "GET", "/v3/certifications/..", "", 404},
		{"dot-dot after id", "GET", "/v3/certifications/" + cert.ID + "/../" + cert.ID, "", 404},
		{"encoded dot-dot", "GET", "/v3/certifications/%2E%2E", "", 404},
		{"dot segment", "GET", "/v3/certifications/./" + cert.ID, "", 404},
		{"double slash", "GET", "/v3//certifications", "", 404},
		{"quotes in id", "GET", "/v3/certifications/%22" + cert.ID + "%22", "", 404},
		{"filter injection in id", "GET", "/v3/certifications/" + q(`x" or id pr "`), "", 404},
		{"very long id", "GET", "/v3/certifications/" + long, "", 404},
		{"non-UTF-8 id", "GET", "/v3/certifications/%ff%fe", "", 404},
		{"NUL in id", "GET", "/v3/certifications/a%00b/access-review-items", "", 404},
		{"unknown item of a real certification", "GET", "/v3/certifications/" + cert.ID + "/access-review-items/%2E%2E%2Fx/permissions", "", 404},
		{"encoded slash in task id", "GET", "/v3/certification-tasks/a%2Fb", "", 404},
		{"unknown path", "GET", "/v3/certifications/" + cert.ID + "/nope", "", 404},
		{"trailing slash", "GET", "/v3/certifications/", "", 404},
		{"wrong method", "DELETE", "/v3/certifications/" + cert.ID, "", 404},
		{"filter too long", "GET", "/v3/certifications?filters=" + q(`id eq "`+strings.Repeat(long, 4)+`"`), "", 400},
		{"filter not UTF-8", "GET", "/v3/certifications?filters=id%20eq%20%22%ff%22", "", 400},
		{"bad JSON", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign": [`, 400},
		{"empty body", "POST", "/v3/certifications/" + cert.ID + "/reassign", ``, 400},
		{"null body", "POST", "/v3/certifications/" + cert.ID + "/reassign", `null`, 400},
		{"array body", "POST", "/v3/certifications/" + cert.ID + "/reassign-async", `[]`, 400},
		{"two JSON values", "POST", "/v3/certifications/" + cert.ID + "/reassign", good + good, 400},
		{"reassign not a list", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign":"x","reassignTo":"y","reason":"r"}`, 400},
		{"reassignTo a number", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign":[],"reassignTo":5,"reason":"r"}`, 400},
		{"ref type lower-case", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign":[{"id":"` + items[0].ID + `","type":"item"}],"reassignTo":"x","reason":"r"}`, 400},
		{"ref id null", "POST", "/beta/certifications/" + cert.ID + "/reassign-async", `{"reassign":[{"id":null,"type":"ITEM"}],"reassignTo":"x","reason":"r"}`, 400},
		{"body too large", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reason":"` + strings.Repeat("x", 2<<20) + `"}`, 400},
		{"decide with a string", "POST", "/v3/certifications/" + cert.ID + "/decide", `"APPROVE"`, 400},
		{"decide bulk as string", "POST", "/v3/certifications/" + cert.ID + "/decide", `[{"id":"` + items[0].ID + `","decision":"APPROVE","bulk":"yes"}]`, 400},
		{"reassign to a quoted id", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign":[{"id":"` + items[0].ID + `","type":"ITEM"}],"reassignTo":"\"x\" or 1","reason":"r"}`, 400},
		{"reassign an item id with a slash", "POST", "/v3/certifications/" + cert.ID + "/reassign", `{"reassign":[{"id":"../` + items[0].ID + `","type":"ITEM"}],"reassignTo":"x","reason":"r"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = tt.body
			}
			res := tn.admin(tt.method, tt.path, body)
			require.Equal(t, tt.status, res.Status, "body: %s", res.Body)
			var e errorBody
			res.decode(t, &e)
			assert.NotEmpty(t, e.DetailCode)
			assert.Regexp(t, "^[0-9a-f]{32}$", e.TrackingID)
			assert.NotEmpty(t, e.Messages)
		})
	}
	assert.Equal(t, cert, tn.cert(cert.ID), "nothing changed")
	assert.Zero(t, tn.sb.Stats().ItemsMoved)
}
