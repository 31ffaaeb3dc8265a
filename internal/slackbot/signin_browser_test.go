package slackbot

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds a Chromium binary (Debian's chromium package), or skips
// the test with a reason; with CERTOPS_TEST_BROWSER=1 (set by .ci/run
// when it installed chromium) a missing browser fails it instead.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CERTOPS_TEST_BROWSER") == "1" {
		t.Fatal("CERTOPS_TEST_BROWSER=1 but no chromium binary on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium binary on PATH: the browser test is skipped (apt-get install chromium; CERTOPS_TEST_BROWSER=1 makes this a failure)")
	return ""
}

// TestSlackSignInInABrowser clicks through the whole sign-in in headless
// Chromium: the Sign in with SailPoint button's link, the sandbox's login
// page (typing the person's username and password, pressing Sign in) and
// certops's success page; then an approval in Slack made as that person.
// Timeouts are generous and nothing is timed: a slow machine only waits.
func TestSlackSignInInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test starts Chromium")
	}
	exe := chromium(t)
	w := newSignInWorld(t)
	p, cert := w.reviewer(t)
	link := signInLink(t, w.command(t, alice, "review "+cert.ID))

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		_, err := chromedp.Run(ctx, a)
		require.NoError(t, err, what)
	}
	str := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		require.NoError(t, err, what)
		return v
	}
	outcomeOf := func() string {
		t.Helper()
		run("certops's page", chromedp.WaitVisible(`#result`))
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(`#result`, "data-outcome"))
		require.NoError(t, err)
		return v.Value
	}

	run("open the button's link", chromedp.Navigate(link))
	run("the sandbox's login page", chromedp.WaitVisible(`input[name="username"]`))
	loginURL := str("location", chromedp.Location())
	run("type the username", chromedp.SendKeys(`input[name="username"]`, p.Username))
	run("type the password", chromedp.SendKeys(`input[name="password"]`, p.Password))
	run("press Sign in", chromedp.Click(`button[value="sign-in"]`))
	outcome := outcomeOf()
	title := str("title", chromedp.Title())
	text := str("text", chromedp.Text(`#result`))
	t.Logf("login page %s; certops's page %q: %s", strings.Split(loginURL, "?")[0], title, text)
	assert.True(t, strings.HasPrefix(loginURL, w.tn.url+"/oauth/authorize"), loginURL)
	assert.Equal(t, outcomeSuccess, outcome)
	assert.Contains(t, title, "certops")
	assert.Contains(t, text, "You are signed in")

	l, err := w.store.GetLink(t.Context(), "slack:T012AB3C4/"+alice)
	require.NoError(t, err)
	assert.Equal(t, p.IdentityID, l.IdentityID)

	// The same link again, in the same browser: expired.
	run("open the link again", chromedp.Navigate(link))
	assert.Equal(t, outcomeExpired, outcomeOf())

	reviewAsPerson(t, w, alice, cert, p.IdentityID)
	_, err = w.store.GetGrant(t.Context(), p.IdentityID)
	require.NoError(t, err)
	checkSignInLogs(t, w.logs.String(), link)
}
