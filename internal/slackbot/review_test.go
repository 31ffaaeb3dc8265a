package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// The review in Slack against the real certs.Service over certstest's
// tenant and store: what the messages show, each click, the rules told.

// addSmallReview adds cert-r "Alice's access review" (campaign camp-r with
// the comment rule), reviewed by Alice, with no task pending: item-r1 and
// item-r2 about Bob (item-r1 privileged and new), item-r3 about Dan.
func addSmallReview(b *bundle, rule string) {
	due := t0.Add(72 * time.Hour)
	p := people[alice]
	b.tenant.AddCertification(certs.Certification{ID: "cert-r", Name: "Alice's access review", Phase: certs.PhaseActive, Due: &due,
		Campaign: certs.Campaign{ID: "camp-r", Name: "Q4 access", CampaignType: certs.CampaignManager, MandatoryCommentRequirement: rule},
		Reviewer: certs.Reviewer{ID: p.ID, Name: p.Name, Email: p.Email, Type: certs.ReviewerIdentity}})
	bob := certs.IdentitySummary{ID: "sum-rbob", Name: "Bob Worker", IdentityID: "id-bob"}
	dan := certs.IdentitySummary{ID: "sum-rdan", Name: "Dan Temp", IdentityID: "id-dan"}
	b.tenant.AddItems("cert-r",
		certs.ReviewItem{ID: "item-r1", NewAccess: true, IdentitySummary: bob, Access: certs.Access{Type: certs.AccessEntitlement, ID: "acc-admin", Name: "payroll_admin", SourceName: "Payroll", Privileged: true}},
		certs.ReviewItem{ID: "item-r2", IdentitySummary: bob, Access: certs.Access{Type: certs.AccessEntitlement, ID: "acc-view", Name: "payroll_viewer", SourceName: "Payroll"}},
		certs.ReviewItem{ID: "item-r3", IdentitySummary: dan, Access: certs.Access{Type: certs.AccessEntitlement, ID: "acc-view", Name: "payroll_viewer", SourceName: "Payroll"}},
	)
}

// openReview runs `/certs review <args>` as user and waits for its answer;
// it returns the answer and the review's messages in the user's DM.
func (b *bundle) openReview(t *testing.T, user, args string) (hookPost, []slackMsg) {
	t.Helper()
	n := len(b.hooks.Posts())
	before := len(messagesIn(b.slack, user))
	_, ack := b.command(t, user, "review "+args)
	require.Contains(t, ack.Text, "Working on")
	reply := b.reply(t, n+1)
	return reply, messagesIn(b.slack, user)[before:]
}

// decided is the decision the tenant holds on an item.
func (b *bundle) decided(t *testing.T, certID, itemID string) certs.ReviewItem {
	t.Helper()
	for _, it := range b.tenant.Items(certID) {
		if it.ID == itemID {
			return it
		}
	}
	t.Fatalf("no item %s in %s", itemID, certID)
	return certs.ReviewItem{}
}

func TestReviewFinishACertification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsOnRevoke)

	reply, msgs := b.openReview(t, alice, "cert-r")
	assert.Contains(t, reply.Raw, "Your review of *Alice's access review* is open")
	require.Len(t, msgs, 3, "the head, Bob and Dan")
	head := msgs[0]
	assert.Contains(t, head.Text, "Review of Alice's access review")
	_, hasSignOff := findButton(head.Blocks, "", actionReviewSignOff)
	assert.False(t, hasSignOff, "nothing decided yet")
	bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
	assert.Contains(t, bobMsg.Blocks, "privileged and new since the last review")
	assert.Contains(t, bobMsg.Blocks, "access.privileged is true; newAccess is true", "a remark names its facts")
	assert.Contains(t, bobMsg.Blocks, "1 other here holds it")
	assert.Zero(t, b.tenant.Calls("Decide"), "opening decides nothing")

	// Approve one item: the click is the confirmation.
	b.press(t, alice, bobMsg, "act:item-r1", actionReviewApprove)
	waitFor(t, "item-r1 approved", func() bool { return b.decided(t, "cert-r", "item-r1").Decision == certs.DecisionApprove })
	waitFor(t, "Bob's message redrawn", func() bool {
		return strings.Contains(personMessage(t, b.slack, alice, "Bob Worker").Blocks, "*Approved* by Egon Spengler") // users.info's real_name
	})
	bobMsg = personMessage(t, b.slack, alice, "Bob Worker")
	_, ok := findButton(bobMsg.Blocks, "act:item-r1", actionReviewApprove)
	assert.False(t, ok, "a decided item offers the other decision only")
	mustButton(t, bobMsg.Blocks, "act:item-r1", actionReviewRevoke)

	// Revoke asks for the comment the campaign requires, in a modal.
	b.press(t, alice, bobMsg, "act:item-r2", actionReviewRevoke)
	view := openedView(t, b.slack, 1)
	assert.Equal(t, callbackReviewDecide, view.CallbackID)
	code, answer := b.submitReview(t, alice, view, "  ", "")
	require.Equal(t, 200, code)
	assert.Equal(t, "errors", answer.ResponseAction)
	assert.Contains(t, answer.Errors[reviewCommentBlock], "requires a comment")
	_, answer = b.submitReview(t, alice, view, "Moved to sales", t0.Add(10*24*time.Hour).Format(time.DateOnly))
	assert.Empty(t, answer.ResponseAction, "an empty 200 closes the modal")
	waitFor(t, "item-r2 revoked", func() bool { return b.decided(t, "cert-r", "item-r2").Decision == certs.DecisionRevoke })
	assert.Equal(t, "Moved to sales", b.decided(t, "cert-r", "item-r2").Comments)
	ds := b.tenant.Decisions()
	require.NotNil(t, ds[len(ds)-1].ProposedEndDate)
	assert.Equal(t, "2026-12-03", ds[len(ds)-1].ProposedEndDate.Format(time.DateOnly))

	// Approve the rest of Dan's items: the plan first, then the decision.
	danMsg := personMessage(t, b.slack, alice, "Dan Temp")
	n := len(b.hooks.Posts())
	b.press(t, alice, danMsg, "person", actionReviewRest)
	prompt := b.reply(t, n+1)
	assert.Contains(t, prompt.Raw, "Approve 1 item?")
	assert.Contains(t, prompt.Raw, "payroll_viewer")
	assert.Equal(t, certs.ReviewItem{}.Decision, b.decided(t, "cert-r", "item-r3").Decision, "nothing sent before the confirmation")
	confirm := buttonValue(t, prompt.Raw, actionReviewConfirm)
	b.pressValue(t, alice, slackMsg{Channel: alice}, actionReviewConfirm, confirm)
	done := b.reply(t, n+2)
	assert.True(t, done.Body.ReplaceOriginal, "the prompt is replaced by its outcome")
	assert.Contains(t, done.Raw, "Done")
	assert.Equal(t, certs.DecisionApprove, b.decided(t, "cert-r", "item-r3").Decision)

	// Every item is decided: Sign off appears, with a confirmation.
	waitFor(t, "Sign off offered", func() bool {
		_, ok := findButton(messageAt(t, b.slack, alice, head.TS).Blocks, "signoff", actionReviewSignOff)
		return ok
	})
	head = messageAt(t, b.slack, alice, head.TS)
	assert.Contains(t, head.Blocks, `"confirm":{`)
	assert.Contains(t, head.Blocks, "3/3 decisions")

	// Twenty clicks at once on Sign off: one SailPoint call.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); b.press(t, alice, head, "signoff", actionReviewSignOff) }()
	}
	wg.Wait()
	waitFor(t, "signed off", func() bool {
		return strings.Contains(messageAt(t, b.slack, alice, head.TS).Blocks, "Signed off")
	})
	waitFor(t, "every click answered", func() bool { return b.bot.pool.idle() })
	assert.Equal(t, 1, b.tenant.Calls("SignOff"))
	_, ok = findButton(messageAt(t, b.slack, alice, head.TS).Blocks, "", actionReviewSignOff)
	assert.False(t, ok)
	assert.Equal(t, 3, len(b.tenant.Decisions()))
	assert.Equal(t, 3, b.tenant.Calls("Decide"))

	// A click on a message drawn before the sign-off is told so, and the
	// message loses its buttons.
	stale := personMessage(t, b.slack, alice, "Bob Worker")
	b.press(t, alice, stale, "act:item-r1", actionReviewRevoke)
	view = openedView(t, b.slack, 2)
	_, _ = b.submitReview(t, alice, view, "too late", "")
	// A form has no response_url: the answer is an ephemeral message.
	waitFor(t, "told it is signed off", func() bool {
		for _, c := range b.slack.Calls("chat.postEphemeral") {
			if c.Form.Get("user") == alice && strings.Contains(c.Form.Get("text"), "signed off") {
				return true
			}
		}
		return false
	})
	waitFor(t, "Bob's message without buttons", func() bool {
		_, ok := findButton(messageAt(t, b.slack, alice, stale.TS).Blocks, "", actionReviewRevoke)
		return !ok
	})
	assert.Contains(t, messageAt(t, b.slack, alice, stale.TS).Blocks, "Signed off: its decisions are final")
	assert.Equal(t, 3, b.tenant.Calls("Decide"))
}

func TestReviewTwentyClicksOnOneItemDecideOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsNever)
	_, _ = b.openReview(t, alice, "cert-r")
	bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); b.press(t, alice, bobMsg, "act:item-r2", actionReviewApprove) }()
	}
	wg.Wait()
	waitFor(t, "approved", func() bool { return b.decided(t, "cert-r", "item-r2").Decision == certs.DecisionApprove })
	waitFor(t, "every click handled", func() bool { return b.bot.pool.idle() })
	assert.Equal(t, 1, b.tenant.Calls("Decide"), "twenty clicks, one SailPoint call")
	for _, p := range b.hooks.Posts() {
		assert.NotContains(t, p.Raw, ":boom:")
	}
}

func TestReviewWhoMayDecide(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsNever)

	t.Run("an admin without a reason looks, and is told why not", func(t *testing.T) {
		_, msgs := b.openReview(t, admin, "cert-r")
		require.Len(t, msgs, 3)
		for _, m := range msgs {
			_, ok := findButton(m.Blocks, "", actionReviewApprove)
			assert.False(t, ok, "no button that acts")
		}
		assert.Contains(t, msgs[0].Blocks, "You can look, not decide")
		assert.Contains(t, msgs[0].Blocks, "must give a reason", "the Service's own words")
		assert.Contains(t, msgs[0].Blocks, "review cert-r because")
	})

	t.Run("a reviewer of other certifications may not open it", func(t *testing.T) {
		reply, msgs := b.openReview(t, mallory, "cert-r")
		assert.Empty(t, msgs)
		assert.Contains(t, reply.Raw, ":no_entry:")
		assert.Contains(t, reply.Raw, ":no_entry: You do not review certification")
	})

	t.Run("a forged click of someone else is refused with the reason", func(t *testing.T) {
		_, _ = b.openReview(t, alice, "cert-r")
		bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
		n := len(b.hooks.Posts())
		v := mustButton(t, bobMsg.Blocks, "act:item-r1", actionReviewApprove)
		b.pressValue(t, erin, slackMsg{Channel: erin}, actionReviewApprove, v)
		assert.Contains(t, b.reply(t, n+1).Raw, ":no_entry: You do not review certification")
		assert.Zero(t, b.tenant.Calls("Decide"))
	})

	t.Run("the reviewer may not give an admin's reason", func(t *testing.T) {
		reply, msgs := b.openReview(t, alice, "cert-r because I want to")
		assert.Empty(t, msgs)
		assert.Contains(t, reply.Raw, "reason for deciding on the reviewer's behalf is only for admins")
	})

	t.Run("an admin with a reason decides; the reason is kept", func(t *testing.T) {
		reply, msgs := b.openReview(t, admin, "cert-r because Alice is on leave")
		require.Len(t, msgs, 3, reply.Raw)
		assert.Contains(t, msgs[0].Blocks, "on Alice's behalf")
		bobMsg := personMessage(t, b.slack, admin, "Bob Worker")
		b.press(t, admin, bobMsg, "act:item-r1", actionReviewApprove)
		waitFor(t, "approved", func() bool { return b.decided(t, "cert-r", "item-r1").Decision == certs.DecisionApprove })
		reqs, err := b.store.ListRequests(context.Background(), certs.RequestFilter{CertificationID: "cert-r"})
		require.NoError(t, err)
		require.Len(t, reqs, 1)
		assert.Equal(t, "Alice is on leave", reqs[0].Plan.OnBehalf)
		assert.Equal(t, admin, reqs[0].Requester.ID)
	})
}

func TestReviewNobodyDecidesOnTheirOwnAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsNever)
	// The admin's own access is in the certification.
	b.tenant.AddItems("cert-r", certs.ReviewItem{ID: "item-own", IdentitySummary: certs.IdentitySummary{ID: "sum-admin", Name: "Admin", IdentityID: "id-admin"},
		Access: certs.Access{Type: certs.AccessRole, ID: "role-admin", Name: "Tenant admin"}})
	_, _ = b.openReview(t, admin, "cert-r because Alice is on leave")
	own := personMessage(t, b.slack, admin, "Admin")
	_, ok := findButton(own.Blocks, "", actionReviewApprove)
	assert.False(t, ok, "no buttons on one's own access")
	assert.Contains(t, own.Blocks, "your own access")
	_, ok = findButton(own.Blocks, "", actionReviewRest)
	assert.False(t, ok)

	// A forged click is refused by the Service, naming the rule.
	bobMsg := personMessage(t, b.slack, admin, "Bob Worker")
	v := mustButton(t, bobMsg.Blocks, "act:item-r1", actionReviewApprove)
	ref, ok := parseReviewRef(v)
	require.True(t, ok)
	ref.Item, ref.Summary, ref.Identity = "item-own", "sum-admin", "id-admin"
	n := len(b.hooks.Posts())
	b.pressValue(t, admin, bobMsg, actionReviewApprove, ref.String())
	assert.Contains(t, b.reply(t, n+1).Raw, ":no_entry: Nobody decides on their own access")
	assert.Zero(t, b.tenant.Calls("Decide"))
}

func TestReviewPagesPeopleAndItems(t *testing.T) {
	t.Parallel()
	b := setup(t)
	due := t0.Add(72 * time.Hour)
	p := people[alice]
	b.tenant.AddCertification(certs.Certification{ID: "cert-big", Name: "Alice's big review", Phase: certs.PhaseActive, Due: &due,
		Campaign: certs.Campaign{ID: "camp-1", Name: "Q4 2026"}, Reviewer: certs.Reviewer{ID: p.ID, Name: p.Name, Email: p.Email, Type: certs.ReviewerIdentity}})
	for i := range 12 {
		sum := certs.IdentitySummary{ID: fmt.Sprintf("sum-%02d", i), Name: fmt.Sprintf("Person %02d", i), IdentityID: fmt.Sprintf("id-p%02d", i)}
		n := 1
		if i == 0 {
			n = 25
		}
		for j := range n {
			b.tenant.AddItems("cert-big", certs.ReviewItem{ID: fmt.Sprintf("it-%02d-%02d", i, j), IdentitySummary: sum,
				Access: certs.Access{Type: certs.AccessEntitlement, ID: fmt.Sprintf("acc-%02d", j), Name: fmt.Sprintf("app_%02d", j)}})
		}
	}
	_, msgs := b.openReview(t, alice, "cert-big")
	require.Len(t, msgs, 1+reviewPeoplePerPage+1, "the head, ten people, the footer")
	footer := msgs[len(msgs)-1]
	assert.Contains(t, footer.Text, "People 1–10 of 12")

	first := personMessage(t, b.slack, alice, "Person 00")
	assert.Contains(t, first.Blocks, "Items 1–20 of 25")
	assert.Contains(t, first.Text, "25 of 25 items open")
	b.press(t, alice, first, "person", actionReviewPage)
	waitFor(t, "second page of Person 00's items", func() bool {
		return strings.Contains(messageAt(t, b.slack, alice, first.TS).Blocks, "Items 21–25 of 25")
	})
	assert.Contains(t, messageAt(t, b.slack, alice, first.TS).Blocks, "it-00-24")

	b.press(t, alice, footer, "more", actionReviewMore)
	waitFor(t, "the last two people", func() bool { return len(messagesIn(b.slack, alice)) == len(msgs)+2 })
	personMessage(t, b.slack, alice, "Person 11")
	assert.Contains(t, messageAt(t, b.slack, alice, footer.TS).Text, "are above")
}

func TestReviewLostAnswerIsToldLater(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsNever)
	// SailPoint applies the decision but its answer is lost.
	b.tenant.AfterDecide = func(n int, _ string, _ []certs.ItemDecision) error {
		if n == 0 {
			return &certs.Error{Code: certs.EUNKNOWN, Message: "connection reset after the request was sent"}
		}
		return nil
	}
	_, _ = b.openReview(t, alice, "cert-r")
	bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
	n := len(b.hooks.Posts())
	b.press(t, alice, bobMsg, "act:item-r2", actionReviewApprove)
	assert.Contains(t, b.reply(t, n+1).Raw, ":question:")

	// The worker settles it by reading SailPoint; the notifier tells.
	b.clock.Advance(time.Minute)
	b.work(t)
	notifier := b.notifier()
	waitFor(t, "told", func() bool {
		_, _ = notifier.Once(context.Background())
		for _, m := range messagesIn(b.slack, alice) {
			if strings.Contains(m.Text, "went through after all") {
				return true
			}
		}
		return false
	})
	assert.Equal(t, 1, b.tenant.Calls("Decide"), "never sent again")
	assert.Contains(t, personMessage(t, b.slack, alice, "Bob Worker").Blocks, "*Approved*")
	for _, c := range b.slack.Calls("chat.postMessage") {
		assert.NotEqual(t, approvals, c.Form.Get("channel"), "a reviewer's decisions are nothing for the approvers")
	}
}

func TestReviewAckNeverWaitsOnSailPoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	addSmallReview(b, certs.CommentsNever)
	_, _ = b.openReview(t, alice, "cert-r")
	bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
	release := make(chan struct{})
	b.tenant.BeforeDecide = func(int, string, []certs.ItemDecision) error { <-release; return nil }
	start := time.Now()
	b.press(t, alice, bobMsg, "act:item-r2", actionReviewApprove)
	elapsed := time.Since(start)
	close(release)
	assert.Less(t, elapsed, 3*time.Second, "acknowledged while SailPoint still holds the decision")
	waitFor(t, "approved", func() bool { return b.decided(t, "cert-r", "item-r2").Decision == certs.DecisionApprove })
}

func TestReviewIsInHelp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ack := b.command(t, alice, "help")
	raw, err := json.Marshal(ack.Blocks)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "`/certs review \\u0026lt;cert\\u0026gt; [because \\u0026lt;reason\\u0026gt;]`")
}

// Drawing a review asks the Service whether the person may decide
// (MayDecide, which saves nothing); a sign-off plan is made only for a head
// that shows Sign off, never to draw a person's message.
func TestReviewDrawingSavesNoPlanItDoesNotShow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	due := t0.Add(72 * time.Hour)
	p := people[alice]
	b.tenant.AddCertification(certs.Certification{ID: "cert-d", Name: "Alice's decided review", Phase: certs.PhaseActive, Due: &due,
		Campaign: certs.Campaign{ID: "camp-r", Name: "Q4 access", CampaignType: certs.CampaignManager},
		Reviewer: certs.Reviewer{ID: p.ID, Name: p.Name, Email: p.Email, Type: certs.ReviewerIdentity}})
	bob := certs.IdentitySummary{ID: "sum-dbob", Name: "Bob Worker", IdentityID: "id-bob"}
	for i := range reviewItemsPerMessage + 1 { // two pages of Bob's items, all decided
		b.tenant.AddItems("cert-d", certs.ReviewItem{ID: fmt.Sprintf("item-d%02d", i), IdentitySummary: bob, Completed: true, Decision: certs.DecisionApprove,
			Access: certs.Access{Type: certs.AccessEntitlement, ID: fmt.Sprintf("acc-d%02d", i), Name: fmt.Sprintf("app_%02d", i), SourceName: "AD"}})
	}
	plans := func() int {
		n := 0
		for _, e := range b.store.Events() {
			if e.Action == certs.ActionPlanCreated {
				n++
			}
		}
		return n
	}

	_, msgs := b.openReview(t, alice, "cert-d")
	require.Len(t, msgs, 2, "the head and Bob")
	_, ok := findButton(msgs[0].Blocks, "signoff", actionReviewSignOff)
	require.True(t, ok, "every item is decided: Sign off is offered")
	assert.Equal(t, 1, plans(), "the sign-off plan the button carries")

	// Paging Bob's items redraws his message only.
	updates := len(b.slack.Calls("chat.update"))
	bobMsg := personMessage(t, b.slack, alice, "Bob Worker")
	b.press(t, alice, bobMsg, "", actionReviewPage)
	waitFor(t, "Bob's second page", func() bool { return len(b.slack.Calls("chat.update")) > updates })
	waitFor(t, "the click handled", func() bool { return b.bot.pool.idle() })
	assert.Equal(t, 1, plans(), "drawing a person's message plans nothing")

	// Refresh redraws the head too: one new plan, for its Sign off.
	b.press(t, alice, personMessage(t, b.slack, alice, "Bob Worker"), "", actionReviewRefresh)
	waitFor(t, "the head redrawn", func() bool { return len(b.slack.Calls("chat.update")) >= updates+3 })
	waitFor(t, "the click handled", func() bool { return b.bot.pool.idle() })
	assert.Equal(t, 2, plans())

	// Someone who may not decide is shown the review without a plan made.
	before := plans()
	b.slack.users[admin] = people[admin].Email
	reply, msgs := b.openReview(t, admin, "cert-d")
	assert.Contains(t, reply.Raw, "Alice's decided review")
	require.NotEmpty(t, msgs)
	assert.Contains(t, msgs[0].Blocks, "You can look, not decide")
	assert.Equal(t, before, plans())
}
