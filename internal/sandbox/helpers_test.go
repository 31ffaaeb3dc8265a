package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/filter"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// tenant is a sandbox behind the contract check and a real HTTP server.
type tenant struct {
	t      testing.TB
	sb     *sandbox.Sandbox
	url    string
	tokens map[string]string
}

func start(t testing.TB, cfg sandbox.Config) *tenant {
	t.Helper()
	sb, base := sandboxtest.Start(t, cfg)
	return &tenant{t: t, sb: sb, url: base, tokens: map[string]string{}}
}

// response is an answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// errorBody is ISC's ErrorResponseDto.
type errorBody struct {
	DetailCode string `json:"detailCode"`
	TrackingID string `json:"trackingId"`
	Messages   []struct {
		Locale, LocaleOrigin, Text string
	} `json:"messages"`
	Causes []struct{ Text string } `json:"causes"`
}

func (r *response) errorText(t testing.TB) string {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	require.NotEmpty(t, e.Messages, "body: %s", r.Body)
	text := e.Messages[0].Text
	for _, c := range e.Causes {
		text += " " + c.Text
	}
	return text
}

// clientSecret returns a client's secret.
func (tn *tenant) cred(clientID string) sandbox.Credential {
	for _, c := range tn.sb.Clients() {
		if c.ClientID == clientID {
			return c
		}
	}
	tn.t.Fatalf("no client %s", clientID)
	return sandbox.Credential{}
}

// token returns a (cached) access token of a client.
func (tn *tenant) token(clientID string) string {
	tn.t.Helper()
	if tok, ok := tn.tokens[clientID]; ok {
		return tok
	}
	c := tn.cred(clientID)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	res, err := http.PostForm(tn.url+"/oauth/token", form)
	require.NoError(tn.t, err)
	defer res.Body.Close()
	require.Equal(tn.t, http.StatusOK, res.StatusCode)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(tn.t, json.NewDecoder(res.Body).Decode(&body))
	tn.tokens[clientID] = body.AccessToken
	return body.AccessToken
}

// do sends a request with a bearer token ("" for none); body is JSON
// (a string or []byte is sent as is).
func (tn *tenant) do(tok, method, path string, body any) *response {
	tn.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(tn.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, tn.url+path, rd)
	require.NoError(tn.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(tn.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(tn.t, err)
	return &response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// admin and reviewer send as the admin client or a reviewer client.
func (tn *tenant) admin(method, path string, body any) *response {
	tn.t.Helper()
	return tn.do(tn.token(sandbox.AdminClientID), method, path, body)
}

func (tn *tenant) as(clientID, method, path string, body any) *response {
	tn.t.Helper()
	return tn.do(tn.token(clientID), method, path, body)
}

// Wire shapes the tests read.

type certDto struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Campaign struct {
		ID                          string `json:"id"`
		Name                        string `json:"name"`
		CampaignType                string `json:"campaignType"`
		MandatoryCommentRequirement string `json:"mandatoryCommentRequirement"`
	} `json:"campaign"`
	Completed           bool    `json:"completed"`
	IdentitiesCompleted int     `json:"identitiesCompleted"`
	IdentitiesTotal     int     `json:"identitiesTotal"`
	DecisionsMade       int     `json:"decisionsMade"`
	DecisionsTotal      int     `json:"decisionsTotal"`
	Due                 *string `json:"due"`
	Signed              *string `json:"signed"`
	Phase               string  `json:"phase"`
	Modified            string  `json:"modified"`
	Reviewer            struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"reviewer"`
	Reassignment *struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		Comment string `json:"comment"`
	} `json:"reassignment"`
}

type itemDto struct {
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
		Entitlement *struct {
			SourceName     string `json:"sourceName"`
			HasPermissions bool   `json:"hasPermissions"`
		} `json:"entitlement"`
	} `json:"accessSummary"`
	IdentitySummary struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		IdentityID string `json:"identityId"`
		Completed  bool   `json:"completed"`
	} `json:"identitySummary"`
}

type taskDto struct {
	ID       string                  `json:"id"`
	Type     string                  `json:"type"`
	TargetID string                  `json:"targetId"`
	Status   string                  `json:"status"`
	Errors   []struct{ Text string } `json:"errors"`
	Trail    []struct {
		PreviousOwner, NewOwner string
	} `json:"reassignmentTrailDTOs"`
}

type identityDto struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Alias   string `json:"alias"`
	Email   string `json:"email"`
	Manager *struct {
		ID string `json:"id"`
	} `json:"manager"`
	IdentityState string `json:"identityState"`
}

// certs lists certifications (admin, v3) with extra query.
func (tn *tenant) certs(query string) []certDto {
	tn.t.Helper()
	res := tn.admin("GET", "/v3/certifications?"+query, nil)
	require.Equal(tn.t, http.StatusOK, res.Status, "body: %s", res.Body)
	var out []certDto
	res.decode(tn.t, &out)
	return out
}

func (tn *tenant) cert(id string) certDto {
	tn.t.Helper()
	res := tn.admin("GET", "/v3/certifications/"+id, nil)
	require.Equal(tn.t, http.StatusOK, res.Status, "body: %s", res.Body)
	var out certDto
	res.decode(tn.t, &out)
	return out
}

func (tn *tenant) items(certID, query string) []itemDto {
	tn.t.Helper()
	res := tn.admin("GET", "/v3/certifications/"+certID+"/access-review-items?"+query, nil)
	require.Equal(tn.t, http.StatusOK, res.Status, "body: %s", res.Body)
	var out []itemDto
	res.decode(tn.t, &out)
	return out
}

func q(s string) string { return url.QueryEscape(s) }

// lit quotes a filter string literal.
func lit(s string) string {
	var b strings.Builder
	filter.Quote(&b, s)
	return b.String()
}
