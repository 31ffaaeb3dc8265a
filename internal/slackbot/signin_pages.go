package slackbot

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
)

// The pages a person's browser sees at the end of a sign-in with
// SailPoint from Slack: small server-rendered HTML, no script at all, one
// inline style allowed by its hash, and a Content-Security-Policy that
// allows nothing else (no form, no frame, no base). Referrer-Policy
// no-referrer: the callback's URL holds ISC's code and state, which must
// not leave in a Referer header.

// signInCSS is the pages' one style; its hash is in the CSP, so it is
// emitted byte for byte as written here.
const signInCSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6f8;color:#1d2430;margin:0}
main{max-width:30rem;margin:12vh auto;background:#fff;border-radius:8px;padding:2rem 2.25rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin:0 0 .75rem}
p{line-height:1.5;margin:.5rem 0}
.brand{font-size:.85rem;color:#5a6472;margin:0 0 1.25rem;letter-spacing:.02em}
.ok h1{color:#1a7f37}
.bad h1{color:#b42318}`

var signInCSSHash = func() string {
	sum := sha256.Sum256([]byte(signInCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// signInCSP is the pages' Content-Security-Policy.
var signInCSP = "default-src 'none'; style-src " + signInCSSHash + "; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

var signInPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · certops</title>
<style>` + signInCSS + `</style>
</head>
<body>
<main class="{{.Class}}" id="result" data-outcome="{{.Outcome}}">
<p class="brand">certops · Sign in with SailPoint for Slack</p>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}</main>
</body>
</html>
`))

// pageData is one result page.
type pageData struct {
	Outcome string // success, denied, expired, error: for tests and people
	Class   string
	Title   string
	Lines   []string
}

// The four outcomes.
const (
	outcomeSuccess = "success"
	outcomeDenied  = "denied"
	outcomeExpired = "expired"
	outcomeError   = "error"
)

func successPage(name, command string) pageData {
	who := "You are"
	if name != "" {
		who = "You are signed in as " + name + ", and"
	}
	return pageData{Outcome: outcomeSuccess, Class: "ok", Title: "You are signed in",
		Lines: []string{who + " linked to your Slack account: what you approve and decide in Slack now reaches SailPoint as you.",
			"You can close this tab and go back to Slack. " + command + " whoami shows who certops knows you as; " + command + " logout signs you out."}}
}

func deniedPage(command string) pageData {
	return pageData{Outcome: outcomeDenied, Class: "bad", Title: "Sign-in cancelled",
		Lines: []string{"SailPoint did not sign you in (you cancelled, or SailPoint refused), so nothing was linked.",
			"To try again, type " + command + " login in Slack and use the new button."}}
}

func expiredPage(command string) pageData {
	return pageData{Outcome: outcomeExpired, Class: "bad", Title: "This sign-in link has expired",
		Lines: []string{"Sign-in links work once, for a few minutes, in the browser that opened them.",
			"Type " + command + " login in Slack for a new one."}}
}

func errorPage(command string) pageData {
	return pageData{Outcome: outcomeError, Class: "bad", Title: "Sign-in failed",
		Lines: []string{"certops could not complete your sign-in with SailPoint; nothing was linked. The details are in certops's logs.",
			"Try again in a moment with " + command + " login in Slack."}}
}

// writePage answers with a result page and its security headers.
func writePage(w http.ResponseWriter, status int, p pageData) {
	h := w.Header()
	h.Set("Content-Security-Policy", signInCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = signInPage.Execute(w, p)
}
