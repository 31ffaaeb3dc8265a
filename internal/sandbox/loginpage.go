package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// The login page and the authorization server's error page: small
// server-rendered HTML, no script at all, one inline style allowed by its
// hash, and a Content-Security-Policy that allows nothing else. The form
// may post only to the sandbox and, since the answer to it is a redirect
// that browsers check against form-action, to the origin of the redirect
// URI the request named.

// pageCSS is the pages' one style; its hash is in the CSP, so it must be
// emitted byte for byte as written here.
const pageCSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2433}` +
	`main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}` +
	`h1{font-size:1.4rem;margin:0 0 .25rem}.sub{color:#5b6478;margin:0 0 1.5rem;font-size:.9rem}` +
	`label{display:block;margin:.75rem 0 .25rem;font-weight:600}` +
	`input{box-sizing:border-box;width:100%;padding:.5rem;border:1px solid #b8bfcc;border-radius:4px;font:inherit}` +
	`.actions{display:flex;gap:.5rem;margin-top:1.25rem}` +
	`button{padding:.5rem 1rem;border:0;border-radius:4px;font:inherit;cursor:pointer;background:#0b5cad;color:#fff}` +
	`button.secondary{background:#e3e6eb;color:#1d2433}` +
	`.error{background:#fdecea;color:#8a1c12;padding:.5rem .75rem;border-radius:4px}` +
	`.note{color:#5b6478;font-size:.85rem;margin-top:1.5rem}`

var pageCSSHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

const pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · certops sandbox</title>
<style>` + pageCSS + `</style>
</head>
<body>
<main>
`

var loginTemplate = template.Must(template.New("login").Parse(pageHead + `<h1>Sign in</h1>
<p class="sub">certops sandbox · an emulated SailPoint Identity Security Cloud tenant ({{.Tenant}})</p>
<p><strong>{{.Client}}</strong> asks to act in this tenant as you.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="login">
<input type="hidden" name="login" value="{{.LoginID}}">
<label for="username">Username</label>
<input id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit" name="action" value="sign-in">Sign in</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>
<p class="note">A sandbox person's username is their alias or email; the passwords are printed when the sandbox starts.</p>
</main>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(pageHead + `<h1>{{.Title}}</h1>
<p class="sub">certops sandbox · an emulated SailPoint Identity Security Cloud tenant</p>
<p class="error" role="alert">{{.Message}}</p>
</main>
</body>
</html>
`))

type loginView struct {
	Title, Tenant, Client, LoginID, Username, Error string
}

// pageHeaders are every page's headers; formAction is the CSP form-action
// sources beyond 'self' ("" for none).
func pageHeaders(w http.ResponseWriter, formAction string) {
	h := w.Header()
	fa := "'none'"
	if formAction != "" {
		fa = "'self' " + formAction
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+pageCSSHash+"; form-action "+fa+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// origin is the CSP source of a redirect URI's origin.
func origin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Sandbox) loginPage(w http.ResponseWriter, status int, v loginView, redirectURI string) {
	v.Title, v.Tenant = "Sign in", tenantName
	s.render(w, status, loginTemplate, v, origin(redirectURI))
}

func (s *Sandbox) errorPage(w http.ResponseWriter, status int, title, message string) {
	s.render(w, status, errorTemplate, struct{ Title, Message string }{title, message}, "")
}

func (s *Sandbox) render(w http.ResponseWriter, status int, t *template.Template, data any, formAction string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("rendering a page", "page", t.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	pageHeaders(w, formAction)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
