package sandboxtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

func adminToken(t *testing.T, base string) string {
	t.Helper()
	res, err := http.PostForm(base+"/oauth/token", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {sandbox.AdminClientID},
		"client_secret": {sandbox.AdminClientSecret},
	})
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	require.NotEmpty(t, body.AccessToken)
	return body.AccessToken
}

func call(t *testing.T, base, token, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, data
}

func TestStart(t *testing.T) {
	sb, base := sandboxtest.Start(t, sandbox.Config{})
	require.NotNil(t, sb)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	token := adminToken(t, base)

	for _, path := range []string{"/v3/certifications", "/certifications/v1", "/beta/certifications"} {
		status, body := call(t, base, token, "GET", path+"?limit=5", "")
		require.Equal(t, http.StatusOK, status, "%s: %s", path, body)
		var list []json.RawMessage
		require.NoError(t, json.Unmarshal(body, &list))
		assert.NotEmpty(t, list, path)
	}
}

// TestStartSweep calls every spec operation on a seeded sandbox with real
// ids, so Contract checks a success (or a declared refusal) of each one, not
// only their 401s.
func TestStartSweep(t *testing.T) {
	_, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	token := adminToken(t, base)

	ids := func(path string) []string {
		status, body := call(t, base, token, "GET", path, "")
		require.Equal(t, http.StatusOK, status, "%s: %s", path, body)
		var list []struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &list))
		var out []string
		for _, x := range list {
			out = append(out, x.ID)
		}
		require.NotEmpty(t, out, path)
		return out
	}
	certs := ids("/v3/certifications?filters=" + url.QueryEscape(`phase eq "ACTIVE"`))
	cert := certs[0]
	items := ids("/v3/certifications/" + url.PathEscape(cert) + "/access-review-items")
	require.GreaterOrEqual(t, len(items), 2)
	// item is moved and decided by the mutations; readItem stays put.
	item, readItem := items[0], items[len(items)-1]
	identity := ids("/v3/public-identities?limit=5")[1]

	// Make a task so the task operations have something to find.
	status, body := call(t, base, token, "POST", "/v3/certifications/"+url.PathEscape(cert)+"/reassign-async",
		`{"reassign":[{"id":"`+item+`","type":"ITEM"}],"reassignTo":"`+identity+`","reason":"contract sweep"}`)
	require.Less(t, status, 500, "%s", body)
	task := "missing-task"
	if status == http.StatusOK {
		var tk struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &tk))
		task = tk.ID
	}

	bodies := map[string]string{
		"makeIdentityDecision":           `[{"id":"` + item + `","decision":"APPROVE","bulk":false}]`,
		"reassignIdentityCertifications": `{"reassign":[{"id":"` + item + `","type":"ITEM"}],"reassignTo":"` + identity + `","reason":"contract sweep"}`,
		"submitReassignCertsAsync":       `{"reassign":[{"id":"` + item + `","type":"ITEM"}],"reassignTo":"` + identity + `","reason":"contract sweep"}`,
	}
	fill := strings.NewReplacer("{id}", url.PathEscape(cert), "{certificationId}", url.PathEscape(cert), "{itemId}", url.PathEscape(readItem), "{taskId}", url.PathEscape(task))
	for _, op := range sandboxtest.SpecOperations(t) {
		path := fill.Replace(op.Path)
		if strings.HasPrefix(op.Path, "/v3/certification-tasks/") || strings.HasPrefix(op.Path, "/certification-tasks/v1/") {
			path = strings.Replace(path, url.PathEscape(cert), url.PathEscape(task), 1)
		}
		body := bodies[strings.TrimSuffix(op.OperationID, "V1")]
		t.Run(op.Spec+" "+op.OperationID, func(t *testing.T) {
			status, resp := call(t, base, token, op.Method, path, body)
			t.Logf("%s %s -> %d", op.Method, path, status)
			assert.Less(t, status, 500, "%s %s: %s", op.Method, path, resp)
			if op.Method == "GET" {
				assert.Equal(t, http.StatusOK, status, "%s %s: %s", op.Method, path, resp)
			}
		})
	}
}
