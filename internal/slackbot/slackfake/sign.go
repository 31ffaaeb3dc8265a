package slackfake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature computes Slack's v0 request signature as Slack documents it
// ("Verifying requests from Slack"):
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
// slack-go only verifies signatures; signing is the sender's side, which
// only a fake Slack needs, hence hand-written here.
func Signature(secret, timestamp, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", timestamp, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Sign returns the headers Slack sends with body at now: the request
// timestamp and its signature with secret.
func Sign(secret, body string, now time.Time) http.Header {
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", Signature(secret, ts, body))
	return h
}

// SignedRequest builds the form-encoded POST Slack sends to url (a slash
// command, or an interaction's payload=…), signed with secret at now.
func SignedRequest(ctx context.Context, url, secret, body string, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("slackfake: signed request: %w", err)
	}
	req.Header = Sign(secret, body, now)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
