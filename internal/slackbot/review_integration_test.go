package slackbot

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store/storetest"
)

// A reviewer finishes a certification from Slack alone: the bot with the
// real Service over the ISC client talking HTTP to the sandbox, each store,
// and every click sent as Slack sends it (signed block_actions and
// view_submission payloads carrying the message that was clicked).

// reviewCast is the sandbox's people the review tests play.
type reviewCast struct {
	cert     certs.Certification
	reviewer certs.Identity // Alice in Slack
	subject  certs.Identity // someone whose access is reviewed: an admin in Slack
	other    certs.Identity // a reviewer of another certification: Mallory in Slack
	open     []certs.ReviewItem
}

// findReviewCast finds an ACTIVE certification of a person with an email,
// under the campaign rule REVOKE_ONLY_DECISIONS, with open items about at
// least two people (one with an email), none about the reviewer, and no
// task pending.
func findReviewCast(t *testing.T, tn tenant) reviewCast {
	t.Helper()
	ctx := context.Background()
	open := false
	page, err := tn.client.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	for _, c := range page.Items {
		if c.Phase != certs.PhaseActive || c.Reviewer.Type == certs.ReviewerGovernanceGroup || c.Campaign.MandatoryCommentRequirement != certs.CommentsOnRevoke {
			continue
		}
		rev, err := tn.client.GetIdentity(ctx, c.Reviewer.ID)
		if err != nil || !rev.Active() || rev.Email == "" {
			continue
		}
		if tasks, err := tn.client.ListPendingTasks(ctx, c.ID); err != nil || len(tasks) > 0 {
			continue
		}
		items, err := tn.client.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 250}})
		require.NoError(t, err)
		cast := reviewCast{cert: c, reviewer: *rev}
		subjects := map[string]bool{}
		mine := false
		for _, it := range items.Items {
			mine = mine || it.IdentitySummary.IdentityID == rev.ID
			if it.Decision == "" {
				cast.open = append(cast.open, it)
				subjects[it.IdentitySummary.IdentityID] = true
			}
		}
		if mine || len(subjects) < 2 || len(cast.open) < 3 {
			continue
		}
		for _, it := range items.Items {
			if p, err := tn.client.GetIdentity(ctx, it.IdentitySummary.IdentityID); err == nil && p.Email != "" && p.Email != rev.Email && subjects[p.ID] {
				cast.subject = *p
				break
			}
		}
		for _, o := range page.Items {
			if p, err := tn.client.GetIdentity(ctx, o.Reviewer.ID); err == nil && o.Reviewer.ID != rev.ID && p.Email != "" && p.Email != cast.subject.Email {
				cast.other = *p
				break
			}
		}
		if cast.subject.ID != "" && cast.other.ID != "" {
			return cast
		}
	}
	t.Fatal("the sandbox has no certification to review")
	return reviewCast{}
}

// newReviewBot is one bot process against the sandbox: Alice reviews, the
// subject of some items is an admin in Slack, Mallory reviews elsewhere.
func newReviewBot(t *testing.T, st certs.Store, tn tenant) (*bundle, reviewCast) {
	t.Helper()
	cast := findReviewCast(t, tn)
	b := &bundle{slack: newFakeSlack(t), hooks: newHooks(t)}
	b.slack.users[alice] = cast.reviewer.Email
	b.slack.users[admin] = cast.subject.Email
	b.slack.users[mallory] = cast.other.Email
	svc := newService(tn, st, "replica-1")
	b.bot = New(Config{ApprovalsChannel: approvals, Approvers: []string{dave}, Admins: []string{admin}, Workers: 16, QueueSize: 128, Logger: quiet(),
		AnyResponseURL: true}, svc, b.slack.api())
	b.bot.Start(context.Background())
	t.Cleanup(func() { _ = b.bot.Shutdown(context.Background()) })
	b.server = httptest.NewServer(b.bot.Handler(testSecret))
	t.Cleanup(b.server.Close)
	return b, cast
}

func decideCalls(sb *sandbox.Sandbox) int { return sb.Stats().Operations["makeIdentityDecision"].Calls }

func signOffCalls(sb *sandbox.Sandbox) int {
	return sb.Stats().Operations["signOffIdentityCertification"].Calls
}

// item reads an item back from the sandbox.
func sandboxItem(t *testing.T, tn tenant, certID, itemID string) certs.ReviewItem {
	t.Helper()
	page, err := tn.client.ListReviewItems(context.Background(), certID, certs.ReviewItemFilter{IDs: []string{itemID}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	return page.Items[0]
}

func TestIntegrationReviewFinishACertificationFromSlack(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			var st certs.Store
			if engine == "sqlite" {
				st = openSQLite(t)
			} else {
				st = openPostgres(t, storetest.SchemaURL(t))
			}
			tn := startTenant(t, sandbox.Config{})
			b, cast := newReviewBot(t, st, tn)
			certID := cast.cert.ID

			// Open the review: the head, then one message per person.
			reply, msgs := b.openReview(t, alice, certID)
			t.Logf("/certs review %s → %s", certID, reply.Body.Text)
			require.Contains(t, reply.Raw, "is open in", reply.Raw)
			require.GreaterOrEqual(t, len(msgs), 3)
			head := msgs[0]
			t.Logf("head: %s", head.Text)
			for _, m := range msgs[1:] {
				t.Logf("person: %s", m.Text)
			}
			assert.Zero(t, decideCalls(tn.sb))

			first := cast.open[0]
			who := first.IdentitySummary.Name
			person := personMessage(t, b.slack, alice, who)

			// Twenty clicks at once on Approve of one item: one ISC call.
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() { defer wg.Done(); b.press(t, alice, person, "act:"+first.ID, actionReviewApprove) }()
			}
			wg.Wait()
			waitFor(t, "approved", func() bool { return sandboxItem(t, tn, certID, first.ID).Decision == certs.DecisionApprove })
			waitFor(t, "every click handled", func() bool { return b.bot.pool.idle() })
			assert.Equal(t, 1, decideCalls(tn.sb), "twenty clicks, one makeIdentityDecision")
			person = personMessage(t, b.slack, alice, who)
			assert.Contains(t, person.Blocks, "*Approved* by")
			t.Logf("after Approve: %s", itemLine(blocksOf(t, person), first.ID))

			// Revoke with the comment the campaign requires, in the modal.
			second := cast.open[1]
			person2 := personMessage(t, b.slack, alice, second.IdentitySummary.Name)
			b.press(t, alice, person2, "act:"+second.ID, actionReviewRevoke)
			view := openedView(t, b.slack, 1)
			_, answer := b.submitReview(t, alice, view, "", "")
			assert.Equal(t, "errors", answer.ResponseAction, "the comment is required: said in the modal")
			assert.Equal(t, 1, decideCalls(tn.sb))
			_, answer = b.submitReview(t, alice, view, "No longer in payroll", "")
			assert.Empty(t, answer.ResponseAction)
			waitFor(t, "revoked", func() bool { return sandboxItem(t, tn, certID, second.ID).Decision == certs.DecisionRevoke })
			assert.Equal(t, "No longer in payroll", sandboxItem(t, tn, certID, second.ID).Comments)
			waitFor(t, "redrawn", func() bool {
				return strings.Contains(personMessage(t, b.slack, alice, second.IdentitySummary.Name).Blocks, "No longer in payroll")
			})
			t.Logf("after Revoke: %s", itemLine(blocksOf(t, personMessage(t, b.slack, alice, second.IdentitySummary.Name)), second.ID))

			// Nobody decides on their own access: the admin whose access this
			// is, even with a reason.
			_, adminMsgs := b.openReview(t, admin, certID)
			assert.Contains(t, adminMsgs[0].Blocks, "must give a reason", "an admin without a reason looks, and is told why not")
			for _, m := range adminMsgs {
				_, ok := findButton(m.Blocks, "", actionReviewApprove)
				assert.False(t, ok)
			}
			_, adminMsgs = b.openReview(t, admin, certID+" because Alice is on leave")
			own := personMessage(t, b.slack, admin, cast.subject.Name)
			assert.Contains(t, own.Blocks, "your own access")
			var ownItem certs.ReviewItem
			for _, it := range cast.open {
				if it.IdentitySummary.IdentityID == cast.subject.ID && it.ID != first.ID && it.ID != second.ID {
					ownItem = it
				}
			}
			if ownItem.ID != "" {
				n := len(b.hooks.Posts())
				ref := reviewRef{Cert: certID, Summary: ownItem.IdentitySummary.ID, Identity: ownItem.IdentitySummary.IdentityID, Item: ownItem.ID, Rule: certs.CommentsOnRevoke}
				b.pressValue(t, admin, own, actionReviewApprove, ref.String())
				refusal := b.reply(t, n+1)
				assert.Contains(t, refusal.Raw, ":no_entry: Nobody decides on their own access")
				t.Logf("admin approves their own item → %s", refusal.Body.Text)
			}

			// A reviewer of another certification is told why not.
			refused, none := b.openReview(t, mallory, certID)
			assert.Empty(t, none)
			assert.Contains(t, refused.Raw, ":no_entry: You do not review certification")
			t.Logf("mallory: /certs review %s → %s", certID, refused.Body.Text)
			assert.Equal(t, 2, decideCalls(tn.sb))

			// Approve the rest of each person's items, each confirmed first.
			for {
				d, err := tn.client.GetCertification(context.Background(), certID)
				require.NoError(t, err)
				if d.DecisionsMade == d.DecisionsTotal {
					break
				}
				var target slackMsg
				for _, m := range messagesIn(b.slack, alice) {
					if _, ok := findButton(m.Blocks, "person", actionReviewRest); ok && strings.HasPrefix(m.Text, "Review of ") {
						target = m
						break
					}
				}
				require.NotEmpty(t, target.TS, "someone still has open items")
				n := len(b.hooks.Posts())
				calls := decideCalls(tn.sb)
				b.press(t, alice, target, "person", actionReviewRest)
				prompt := b.reply(t, n+1)
				require.Contains(t, prompt.Raw, actionReviewConfirm, prompt.Raw)
				assert.Equal(t, calls, decideCalls(tn.sb), "nothing sent before the confirmation")
				t.Logf("Approve the rest → %s", prompt.Body.Text)
				b.pressValue(t, alice, slackMsg{Channel: alice}, actionReviewConfirm, buttonValue(t, prompt.Raw, actionReviewConfirm))
				done := b.reply(t, n+2)
				t.Logf("Confirm → %s", done.Body.Text)
				require.Contains(t, done.Raw, "Done", done.Raw)
				waitFor(t, "the person redrawn", func() bool {
					_, ok := findButton(messageAt(t, b.slack, alice, target.TS).Blocks, "person", actionReviewRest)
					return !ok
				})
			}

			// Sign off appears; twenty clicks on it sign off once.
			waitFor(t, "Sign off offered", func() bool {
				_, ok := findButton(messageAt(t, b.slack, alice, head.TS).Blocks, "signoff", actionReviewSignOff)
				return ok
			})
			head = messageAt(t, b.slack, alice, head.TS)
			t.Logf("head: %s (Sign off offered)", head.Text)
			n := len(b.hooks.Posts())
			for range 20 {
				wg.Add(1)
				go func() { defer wg.Done(); b.press(t, alice, head, "signoff", actionReviewSignOff) }()
			}
			wg.Wait()
			waitFor(t, "every click answered", func() bool { return len(b.hooks.Posts()) >= n+20 })
			assert.Equal(t, 1, signOffCalls(tn.sb), "twenty clicks, one signOffIdentityCertification")
			c, err := tn.client.GetCertification(context.Background(), certID)
			require.NoError(t, err)
			assert.Equal(t, certs.PhaseSigned, c.Phase)
			signed, already := 0, 0
			for _, p := range b.hooks.Posts()[n:] {
				switch {
				case strings.Contains(p.Raw, "is signed off"):
					signed++
					t.Logf("Sign off → %s", p.Body.Text)
				case strings.Contains(p.Raw, "already confirmed"):
					already++
				}
			}
			assert.Equal(t, 1, signed)
			assert.Equal(t, 19, already)
			waitFor(t, "head redrawn", func() bool { return strings.Contains(messageAt(t, b.slack, alice, head.TS).Blocks, "Signed off") })
			t.Logf("head: %s", messageAt(t, b.slack, alice, head.TS).Text)
		})
	}
}
