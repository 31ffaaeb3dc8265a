package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/slackbot/slackfake"
	"github.com/certops/certops/internal/testkit"
)

// The console end to end: the bot wired as `slackbot --console` wires it
// (the emulated tenant, SQLite, the worker and the notifier), driven by
// what a person types, line by line, checked against what they read and
// against what the sandbox saw.

type consoleSession struct {
	t   *testing.T
	a   *app.App
	in  *io.PipeWriter
	out *testkit.Buffer
	log *testkit.Buffer
	pos int // what expect has read of out
}

func startConsole(t *testing.T, o consoleOptions) *consoleSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(ctx, app.Config{SQLitePath: filepath.Join(t.TempDir(), "certops.db")}, app.Options{Sandbox: true, Logger: logger})
	require.NoError(t, err)
	pr, pw := io.Pipe()
	s := &consoleSession{t: t, a: a, in: pw, out: &testkit.Buffer{}, log: logs}
	done := make(chan error, 1)
	go func() { done <- runConsole(ctx, a, o, pr, s.out, logger) }()
	t.Cleanup(func() {
		_ = pw.Close() // the end of input ends the console
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the console did not end at the end of its input")
		}
		cancel()
		_ = a.Close()
		if t.Failed() {
			t.Logf("console:\n%s\nlogs:\n%s", s.out.String(), logs.String())
		}
	})
	return s
}

// typeLine types a line, as a person presses Enter.
func (s *consoleSession) typeLine(line string) {
	s.t.Helper()
	_, err := fmt.Fprintln(s.in, line)
	require.NoError(s.t, err)
}

// expect waits until the console has written sub after what was read so
// far, and returns what it wrote up to and including it. The deadline is
// a safety net: the bot answers in well under a second.
func (s *consoleSession) expect(sub string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := s.out.String()
		if i := strings.Index(out[s.pos:], sub); i >= 0 {
			got := out[s.pos : s.pos+i+len(sub)]
			s.pos += i + len(sub)
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the console never wrote %q; after what was read it wrote:\n%s", sub, out[s.pos:])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectEach waits until the console has written every one of subs after
// what was read so far, in any order (the bot's answer to a click and the
// notifier's post race each other), and returns, for each, the message
// drawing that holds it.
func (s *consoleSession) expectEach(subs ...string) []string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := s.out.String()
		rest, end, found := out[s.pos:], s.pos, make([]string, len(subs))
		all := true
		for k, sub := range subs {
			i := strings.Index(rest, sub)
			if i < 0 {
				all = false
				break
			}
			start := strings.LastIndex(rest[:i], "\n── ") + 1
			stop := strings.Index(rest[i:], "\n── ")
			if stop < 0 {
				stop = len(rest) - i
			}
			found[k] = rest[start : i+stop]
			end = max(end, s.pos+i+len(sub))
		}
		if all {
			s.pos = end
			return found
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the console never wrote all of %q; after what was read it wrote:\n%s", subs, rest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drawing is the last drawing of a message whose first line is first, up
// to the next one.
func (s *consoleSession) drawing(first string) string {
	s.t.Helper()
	chunks := strings.Split(s.out.String()[:s.pos], "\n── ")
	for i := len(chunks) - 1; i >= 0; i-- {
		lines := strings.SplitN(chunks[i], "\n", 3)
		if len(lines) >= 2 && lines[1] == first {
			return chunks[i]
		}
	}
	s.t.Fatalf("no message drawn starting with %q", first)
	return ""
}

// last is the last message drawn, up to what was read.
func (s *consoleSession) last() string {
	out := s.out.String()[:s.pos]
	return out[strings.LastIndex(out, "\n── "):]
}

// button is the number of the first button labelled label in text.
func button(t *testing.T, text, label string) string {
	t.Helper()
	m := regexp.MustCompile(`\[(\d+) ` + regexp.QuoteMeta(label) + `\]`).FindStringSubmatch(text)
	require.NotNil(t, m, "no [N %s] button in:\n%s", label, text)
	return m[1]
}

// firstOpenItem is the Approve and Revoke buttons of the first undecided
// item in a person's drawing.
func firstOpenItem(t *testing.T, text string) (approve, revoke string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  \[(\d+) Approve\]  \[(\d+) Revoke\]$`).FindStringSubmatch(text)
	require.NotNil(t, m, "no open item in:\n%s", text)
	return m[1], m[2]
}

func TestConsoleReassignmentRequestedConfirmedAndApprovedByTheApprover(t *testing.T) {
	t.Parallel()
	s := startConsole(t, consoleOptions{})
	ctx := context.Background()
	s.expect("› ")

	// Whom the console plays: the first open certification's reviewer.
	you, err := firstReviewer(ctx, s.a)
	require.NoError(t, err)
	open := false
	page, err := s.a.Tenant.ListCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: you, Completed: &open, Page: certs.PageOptions{Limit: 50}})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	cert := page.Items[0]
	items, err := s.a.Tenant.ListReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	i := slices.IndexFunc(items.Items, func(it certs.ReviewItem) bool { return it.Decision == "" })
	require.GreaterOrEqual(t, i, 0)
	item := items.Items[i]
	target := s.a.Sandbox.Clients()[2] // another reviewer of the sandbox
	require.NotEqual(t, you, target.IdentityID)

	// The reviewer asks; @mentions name sandbox people.
	s.typeLine(fmt.Sprintf("/certs reassign %s %s to @%s because %s took over this team", cert.ID, item.ID, target.Email, target.Name))
	plan := s.expect("nothing changes in SailPoint until an approver approves.")
	assert.Contains(t, plan, "Reassignment plan: please check it")
	assert.Contains(t, plan, "only "+cert.Reviewer.Name+" sees this")
	assert.Contains(t, plan, "To: "+target.Name+" ("+target.Email+")")
	assert.Contains(t, plan, "Why\n>"+target.Name+" took over this team")

	s.typeLine("press " + button(t, plan, "Ask for approval"))
	// The plan replaced by where the request went, and the request in the
	// approvals channel with its buttons, in whichever order they come.
	both := s.expectEach("is waiting for approval in #certops-approvals", "· filed ")
	filed, req := both[0], both[1]
	assert.Contains(t, filed, "· updated ──", "the plan is replaced by where the request went")

	assert.Contains(t, req, "#certops-approvals ──")
	assert.Contains(t, req, "Status: ⏳ waiting for approval")
	approve := button(t, req, "Approve")
	assert.NotEmpty(t, button(t, req, "Deny"))

	// The reviewer may not approve their own request: the bot says so to
	// them alone, and nothing moves.
	s.typeLine("press " + approve)
	s.expect("Approve this reassignment?")
	s.typeLine("yes")
	s.expect("(pressed Approve)")
	s.expect("only " + cert.Reviewer.Name + " sees this ──\n")
	refusal := s.expect("\n")
	t.Logf("the requester pressing Approve reads: %s", refusal)
	assert.Zero(t, s.a.Sandbox.Stats().ReassignmentsApplied)

	// The approver approves, after the dialog.
	s.typeLine("as sandbox.admin@acme.example")
	s.expect("You are now Sandbox Admin (sandbox.admin@acme.example, the approver).")
	s.typeLine(approve)
	dialog := s.expect("yes: Approve · no: Back")
	assert.Contains(t, dialog, "Approve this reassignment?")
	s.typeLine("yes")
	s.expect("(pressed Approve)")
	done := s.expect("Status: ✅ done")
	assert.Contains(t, done, "#certops-approvals · updated ──")
	s.expect("Approved by @Sandbox Admin")
	dm := s.expect("is done: 1 item moved.")
	assert.Contains(t, dm, "DM from certops to "+cert.Reviewer.Name)

	st := s.a.Sandbox.Stats()
	assert.Equal(t, 1, st.ReassignmentsApplied)
	assert.Equal(t, 1, st.ItemsMoved)
}

func TestConsoleReviewApproveRevokeWithACommentApproveTheRestAndSignOff(t *testing.T) {
	t.Parallel()
	s := startConsole(t, consoleOptions{})
	ctx := context.Background()
	s.expect("› ")

	you, err := firstReviewer(ctx, s.a)
	require.NoError(t, err)
	open := false
	page, err := s.a.Tenant.ListCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: you, Completed: &open, Page: certs.PageOptions{Limit: 50}})
	require.NoError(t, err)
	i := slices.IndexFunc(page.Items, func(c certs.Certification) bool {
		return c.Phase == certs.PhaseActive && c.Campaign.MandatoryCommentRequirement == certs.CommentsOnRevoke
	})
	require.GreaterOrEqual(t, i, 0, "the first reviewer has a certification whose campaign asks a comment on revokes")
	cert := page.Items[i]
	items, err := s.a.Tenant.ListReviewItems(ctx, cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	openOf := map[string]int{} // open items per person
	var people []string        // in the order of the review's messages
	for _, it := range items.Items {
		if it.Decision == "" {
			name := it.IdentitySummary.Name
			if openOf[name] == 0 {
				people = append(people, name)
			}
			openOf[name]++
		}
	}
	require.GreaterOrEqual(t, len(people), 2)
	slices.SortStableFunc(people, func(a, b string) int { return openOf[b] - openOf[a] }) // the first has 2 or more
	require.GreaterOrEqual(t, openOf[people[0]], 2)

	s.typeLine("/certs review " + cert.ID)
	s.expect("is open in your DM with certops")
	first := s.drawing(people[0])
	assert.Contains(t, first, "DM from certops to "+cert.Reviewer.Name)

	// Approve: the click decides, and the message is redrawn.
	approve, _ := firstOpenItem(t, first)
	s.typeLine("press " + approve)
	s.expect("(pressed Approve)")
	s.expect("· updated ──\n" + people[0] + "\n")
	after := s.expect("Refresh]")
	assert.Contains(t, after, "✅")
	assert.Contains(t, after, "Approved by "+cert.Reviewer.Name)
	assert.Contains(t, after, "Revoke instead")

	// Revoke: a form asks the comment the campaign requires, and a date.
	_, revoke := firstOpenItem(t, s.drawing(people[0]))
	s.typeLine(revoke)
	form := s.expect("cancel closes it.")
	assert.Contains(t, form, "── form · Revoke access · for "+cert.Reviewer.Name+" ──")
	assert.Contains(t, form, "> Comment\n  This campaign requires a comment on every revoke.")
	assert.Contains(t, form, "> Remove the access on (optional) [a date, YYYY-MM-DD]")
	s.expect("› Comment: ")
	s.typeLine("") // required
	s.expect("This one is required")
	s.typeLine("Left the payroll team in October.")
	s.expect("› Remove the access on (optional, Enter to skip): ")
	s.typeLine("")
	s.expect(`(submitted "Revoke access")`)
	s.expect("· updated ──\n" + people[0] + "\n")
	revoked := s.expect("Refresh]")
	assert.Contains(t, revoked, "❌")
	assert.Contains(t, revoked, "Revoked by "+cert.Reviewer.Name)
	assert.Contains(t, revoked, "“Left the payroll team in October.”")

	// Approve the rest of everyone's items: the plan first, to confirm.
	for _, name := range people {
		d := s.drawing(name)
		if !strings.Contains(d, "Approve the rest of ") {
			continue
		}
		s.typeLine("press " + button(t, d, "Approve the rest of "+name+"'s items"))
		s.expect("nothing is sent to SailPoint until you confirm.")
		confirm := s.last()
		assert.Contains(t, confirm, "only "+cert.Reviewer.Name+" sees this")
		n := openOf[name]
		if name == people[0] {
			n -= 2
		}
		label := fmt.Sprintf("Approve %d items", n)
		if n == 1 {
			label = "Approve 1 item"
		}
		assert.Contains(t, confirm, "• "+name+" → ")
		s.typeLine("press " + button(t, confirm, label))
		s.expect("· updated ──\n" + name + "\n")
	}

	// Every item decided: the head offers Sign off, with Slack's dialog.
	s.expect("Every item is decided.")
	head := s.expect("for pending tasks and requests")
	s.typeLine("press " + button(t, head, "Sign off"))
	s.expect("Sign off this certification?")
	s.typeLine("yes")
	s.expect("(pressed Sign off)")
	signed := s.expect("Status: SIGNED")
	assert.Contains(t, signed, "· updated ──\nReview: "+cert.Name)
	s.expect("Signed off: its decisions are final.")
	s.expect("is signed off. SailPoint carries out the revocations.")

	st := s.a.Sandbox.Stats()
	assert.Equal(t, 1, st.Operations["signOffIdentityCertification"].Calls)
	var revokes []string
	for _, d := range s.a.Sandbox.Decisions(cert.ID) {
		if d.Decision == string(certs.DecisionRevoke) {
			revokes = append(revokes, d.Comments)
		}
	}
	assert.Contains(t, revokes, "Left the payroll team in October.")
	got, err := s.a.Tenant.ListCertifications(ctx, certs.CertificationFilter{IDs: []string{cert.ID}})
	require.NoError(t, err)
	require.Len(t, got.Items, 1)
	assert.NotNil(t, got.Items[0].Signed, "signed off in the sandbox")
}

// In a real workspace with --sandbox, every Slack user stands for a sandbox
// person: their own email is no emulated identity's.
func TestRunSandboxMapsEverySlackUserToASandboxPerson(t *testing.T) {
	fake := slackfake.New(t)
	fake.PutUser("UJANE0001", slackfake.User{Email: "jane@corp.example", RealName: "Jane"})
	fake.SetUser("UDAVE0004", "dave@corp.example") // setEnv's SLACK_APPROVERS: start-up checks Slack knows it
	hooks := &testkit.Buffer{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(hooks, r.Body)
	}))
	defer hook.Close()
	setEnv(t, fake.GetAPIURL())
	logs := &testkit.Buffer{}
	base, stop := startRunLogging(t, logs, "--sandbox", "--as", "mateo.brown@acme.example")
	defer func() { assert.NoError(t, stop()) }()

	body := url.Values{"command": {"/certs"}, "text": {"list"}, "user_id": {"UJANE0001"}, "user_name": {"jane"}, "channel_id": {"C1"},
		"trigger_id": {"t1"}, "response_url": {hook.URL + "/commands/1"}}.Encode()
	req, err := slackfake.SignedRequest(context.Background(), base+"/slack/commands", testSigningSecret, body, time.Now())
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The answer, through response_url or, when the bot posts only to
	// Slack's own, chat.postEphemeral.
	answer := func() string {
		s := hooks.String()
		for _, c := range fake.Calls("chat.postEphemeral") {
			s += c.Form.Get("text") + c.Form.Get("blocks")
		}
		return s
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(answer(), "Manager Access Review for Mateo Brown") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Contains(t, answer(), "Manager Access Review for Mateo Brown", "Jane lists Mateo Brown's certifications")
	assert.NotContains(t, answer(), "no SailPoint identity has your email")
	assert.Contains(t, logs.String(), "sandbox: every Slack user acts as Mateo Brown, the approvers (SLACK_APPROVERS) as Sandbox Admin")
}
