package sailpoint

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestAPIErrorMapping(t *testing.T) {
	errorResponse := `{"detailCode":"%s","trackingId":"trk-1","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"msg one"}],"causes":[{"locale":null,"localeOrigin":null,"text":"cause one"}]}`
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantCode   string
		wantDetail string
		wantTrack  string
		wantMsgs   []string
		wantCauses []string
		wantRetry  time.Duration
	}{
		{"400 ErrorResponseDto", 400, nil, strings.Replace(errorResponse, "%s", "400.1 Bad Request Content", 1), certs.EINVALID, "400.1 Bad Request Content", "trk-1", []string{"msg one"}, []string{"cause one"}, 0},
		{"401 error body", 401, nil, `{"error":"JWT validation failed: JWT is expired"}`, certs.EFORBIDDEN, "", "", []string{"JWT validation failed: JWT is expired"}, nil, 0},
		{"403", 403, nil, strings.Replace(errorResponse, "%s", "403 Forbidden", 1), certs.EFORBIDDEN, "403 Forbidden", "trk-1", []string{"msg one"}, []string{"cause one"}, 0},
		{"404", 404, nil, strings.Replace(errorResponse, "%s", "404 Not found", 1), certs.ENOTFOUND, "404 Not found", "trk-1", []string{"msg one"}, []string{"cause one"}, 0},
		{"409", 409, nil, `{}`, certs.ECONFLICT, "", "", nil, nil, 0},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"message":" Rate Limit Exceeded "}`, certs.ERATELIMITED, "", "", []string{"Rate Limit Exceeded"}, nil, 7 * time.Second},
		{"429 without Retry-After", 429, nil, `{"message":" Rate Limit Exceeded "}`, certs.ERATELIMITED, "", "", []string{"Rate Limit Exceeded"}, nil, 0},
		{"429 with bad Retry-After", 429, http.Header{"Retry-After": {"soon"}}, ``, certs.ERATELIMITED, "", "", nil, nil, 0},
		{"500", 500, nil, strings.Replace(errorResponse, "%s", "500.0 Internal Fault", 1), certs.EUNAVAILABLE, "500.0 Internal Fault", "trk-1", []string{"msg one"}, []string{"cause one"}, 0},
		{"502 html from a proxy", 502, nil, "<html>\n<body>Bad   Gateway</body></html>", certs.EUNAVAILABLE, "", "", []string{"<html> <body>Bad Gateway</body></html>"}, nil, 0},
		{"503 empty body", 503, nil, ``, certs.EUNAVAILABLE, "", "", nil, nil, 0},
		{"binary body", 500, nil, "\xff\xfe\x00", certs.EUNAVAILABLE, "", "", []string{"(3 bytes of non-text body)"}, nil, 0},
		{"418 other 4xx", 418, nil, `not json`, certs.EINVALID, "", "", []string{"not json"}, nil, 0},
		// Upstream text ends up in the audit trail, which cannot hold a NUL.
		{"control characters in messages", 400, nil, `{"messages":[{"text":"bad\u0000 value\u0007"}],"trackingId":"t\u0000k"}`, certs.EINVALID, "", "t k", []string{"bad value"}, nil, 0},
		{"control characters in a non-JSON body", 502, nil, "Bad\x00\x1bGateway", certs.EUNAVAILABLE, "", "", []string{"Bad Gateway"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			apiErr := parseAPIError("listIdentityCertifications", "GET", "/v3/certifications", tt.status, header, []byte(tt.body), time.Now())
			assert.Equal(t, tt.wantDetail, apiErr.DetailCode)
			assert.Equal(t, tt.wantTrack, apiErr.TrackingID)
			assert.Equal(t, tt.wantMsgs, apiErr.Messages)
			assert.Equal(t, tt.wantCauses, apiErr.Causes)
			assert.Equal(t, tt.wantRetry, apiErr.RetryAfter)

			err := error(toCertsError(apiErr, ""))
			assert.Equal(t, tt.wantCode, certs.ErrorCode(err))
			up := certs.UpstreamOf(err)
			require.NotNil(t, up)
			assert.Equal(t, tt.status, up.Status)
			assert.Equal(t, "listIdentityCertifications", up.Operation)
			assert.Equal(t, tt.wantTrack, up.TrackingID)
			assert.Equal(t, tt.wantDetail, up.DetailCode)

			var got *APIError
			require.True(t, errors.As(err, &got), "errors.As finds the APIError")
			assert.Same(t, apiErr, got)
			if tt.wantTrack != "" {
				assert.Contains(t, certs.ErrorMessage(err), "tracking id "+tt.wantTrack)
			}
		})
	}
}

func TestNotFoundMessage(t *testing.T) {
	apiErr := parseAPIError("getIdentityCertification", "GET", "/v3/certifications/x", 404, http.Header{}, []byte(`{"trackingId":"t9"}`), time.Now())
	err := toCertsError(apiErr, "certification x not found")
	assert.Equal(t, "certification x not found (SailPoint 404, tracking id t9)", certs.ErrorMessage(err))
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 30*time.Second, parseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-3", now))
}

func TestBodySnippetCutsLongBodies(t *testing.T) {
	s := bodySnippet([]byte(strings.Repeat("é", 500)))
	assert.LessOrEqual(t, len(s), 204)
	assert.True(t, strings.HasSuffix(s, "…"))
}
