package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// buttonValue finds the value of the button with actionID in a Block Kit
// JSON document.
func buttonValue(t *testing.T, raw, actionID string) string {
	t.Helper()
	var doc struct {
		Blocks slack.Blocks `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &doc))
	for _, bl := range doc.Blocks.BlockSet {
		if ab, ok := bl.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
					return btn.Value
				}
			}
		}
	}
	t.Fatalf("no %s button in %s", actionID, raw)
	return ""
}

func (b *bundle) notifier() *Notifier {
	return b.bot.NewNotifier(b.svc, NotifierConfig{Owner: "test", MaxAttempts: 2})
}

func countCalls(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// fileRequest runs reassign → plan → Confirm → notifier, and returns the
// request id and the approval message's ts.
func fileRequest(t *testing.T, b *bundle) (reqID, ts string) {
	t.Helper()
	_, _ = b.command(t, alice, "reassign cert-1 item-1 to <@"+carol+"|carol> because Carol owns payroll")
	plan := b.reply(t, 1)
	assert.Contains(t, plan.Raw, "Carol owns payroll")
	confirm := buttonValue(t, plan.Raw, actionConfirm)

	require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, confirm))
	filed := b.reply(t, 2)
	assert.True(t, filed.Body.ReplaceOriginal, "the plan's buttons are replaced")
	assert.Contains(t, filed.Raw, "waiting for approval in <#"+approvals+">")
	assert.Contains(t, b.svc.Calls(), "RequestApproval(plan-1,digest-1,[slack:UDAVE0004 slack:UERIN0005])")
	require.Len(t, b.slack.Calls("usergroups.users.list"), 1)
	assert.Equal(t, "S0APPROVERS", b.slack.Calls("usergroups.users.list")[0].Form.Get("usergroup"))

	n, err := b.notifier().Once(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	posts := b.slack.Calls("chat.postMessage")
	require.Len(t, posts, 1)
	assert.Equal(t, approvals, posts[0].Form.Get("channel"))
	blocks := posts[0].Form.Get("blocks")
	assert.Contains(t, blocks, actionApprove)
	assert.Contains(t, blocks, actionDeny)
	assert.Contains(t, blocks, "Carol owns payroll")
	r, err := b.svc.GetRequest(context.Background(), notifierActor, "req-plan-1")
	require.NoError(t, err)
	require.NotEmpty(t, r.FrontendRefs[refTS])
	assert.Equal(t, approvals, r.FrontendRefs[refChannel])
	return r.ID, r.FrontendRefs[refTS]
}

func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, ts := fileRequest(t, b)
	ctx := context.Background()

	t.Run("a second Confirm files nothing", func(t *testing.T) {
		plan := b.hooks.Posts()[0]
		require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, plan.Raw, actionConfirm)))
		again := b.reply(t, 3)
		assert.Contains(t, again.Raw, "already filed as request `req-plan-1`")
		assert.Equal(t, 1, countCalls(b.svc.Calls(), "RequestApproval("))
	})

	t.Run("a non-approver is refused", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, mallory, approvals, actionApprove, reqID))
		refusal := b.reply(t, 4)
		assert.Equal(t, "ephemeral", refusal.Body.ResponseType)
		assert.False(t, refusal.Body.ReplaceOriginal, "the shared message stays")
		assert.Contains(t, refusal.Raw, "not an approver")
	})

	t.Run("the requester is refused", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, alice, approvals, actionApprove, reqID))
		refusal := b.reply(t, 5)
		assert.Contains(t, refusal.Raw, "someone else must decide")
		r, err := b.svc.GetRequest(ctx, notifierActor, reqID)
		require.NoError(t, err)
		assert.Equal(t, certs.StatePending, r.State)
		n, err := b.notifier().Once(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "refusals write no events")
		assert.Empty(t, b.slack.Calls("chat.update"))
	})

	t.Run("an approver approves; the message and the requester are told", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
		waitFor(t, "Approve", func() bool { return countCalls(b.svc.Calls(), "Approve(UDAVE0004") == 1 })
		waitFor(t, "approved", func() bool {
			r, _ := b.svc.GetRequest(ctx, notifierActor, reqID)
			return r.State == certs.StateApproved
		})
		_, err := b.notifier().Once(ctx)
		require.NoError(t, err)
		updates := b.slack.Calls("chat.update")
		require.Len(t, updates, 1)
		assert.Equal(t, approvals, updates[0].Form.Get("channel"))
		assert.Equal(t, ts, updates[0].Form.Get("ts"))
		assert.Contains(t, updates[0].Form.Get("blocks"), "Approved by \\u003c@UDAVE0004\\u003e")
		assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove, "no buttons once decided")
		dms := b.slack.Calls("chat.postMessage")
		require.Len(t, dms, 2)
		assert.Equal(t, alice, dms[1].Form.Get("channel"))
		assert.Contains(t, dms[1].Form.Get("text"), "was approved by <@UDAVE0004>")
		assert.Contains(t, dms[1].Form.Get("blocks"), "https://example.slack.com/archives/"+approvals+"/p", "the DM links to the approval message")
	})

	t.Run("the task runs and completes", func(t *testing.T) {
		b.svc.setState(reqID, certs.StateSubmitted, certs.ActionSubmitted, []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskInProgress}}, "")
		_, err := b.notifier().Once(ctx)
		require.NoError(t, err)
		b.svc.setState(reqID, certs.StateCompleted, certs.ActionCompleted, []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskSuccess}}, "")
		_, err = b.notifier().Once(ctx)
		require.NoError(t, err)
		updates := b.slack.Calls("chat.update")
		require.Len(t, updates, 3)
		assert.Contains(t, updates[1].Form.Get("blocks"), "1 running")
		assert.Contains(t, updates[2].Form.Get("blocks"), ":white_check_mark: done")
		dms := b.slack.Calls("chat.postMessage")
		require.Len(t, dms, 3)
		assert.Contains(t, dms[2].Form.Get("text"), "is done")
	})

	t.Run("a late click changes nothing", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, erin, approvals, actionApprove, reqID))
		refusal := b.reply(t, 6)
		assert.Contains(t, refusal.Raw, "already completed")
	})
}

func TestSameActionPayloadTwiceActsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "block-actions.json")), &p))
	p["user"].(map[string]any)["id"] = dave
	p["response_url"] = b.hooks.URL + "/actions/dup"
	act := p["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"] = actionApprove, reqID
	raw, _ := json.Marshal(p)
	body := url.Values{"payload": {string(raw)}}.Encode()
	for range 2 {
		code, _ := b.post(t, "/slack/interactions", body)
		require.Equal(t, http.StatusOK, code)
	}
	require.NoError(t, b.bot.Shutdown(context.Background())) // the pool has done all it was given
	assert.Equal(t, 1, countCalls(b.svc.Calls(), "Approve("))
}

func TestFailedRequestIsShownWithItsReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	require.Equal(t, http.StatusOK, b.click(t, erin, approvals, actionApprove, reqID)) // erin: via the user group
	waitFor(t, "Approve", func() bool { return countCalls(b.svc.Calls(), "Approve(UERIN0005") == 1 })
	b.svc.setState(reqID, certs.StateFailed, certs.ActionFailed, []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskError, Errors: []string{"reviewer is inactive"}}}, "SailPoint task task-1 ended in ERROR")
	_, err := b.notifier().Once(context.Background())
	require.NoError(t, err)
	updates := b.slack.Calls("chat.update")
	require.NotEmpty(t, updates)
	last := updates[len(updates)-1].Form.Get("blocks")
	assert.Contains(t, last, ":x: failed")
	assert.Contains(t, last, "reviewer is inactive")
	dms := b.slack.Calls("chat.postMessage")
	assert.Contains(t, dms[len(dms)-1].Form.Get("text"), "failed: SailPoint task task-1 ended in ERROR")
}

// viewSubmission builds the deny modal's submission from the documented
// view_submission example.
func viewSubmission(t *testing.T, user, metadata, reason string) string {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "view-submission.json")), &p))
	p["user"].(map[string]any)["id"] = user
	v := p["view"].(map[string]any)
	v["callback_id"], v["private_metadata"] = callbackDeny, metadata
	v["state"] = map[string]any{"values": map[string]any{denyBlock: map[string]any{denyAction: map[string]any{"type": "plain_text_input", "value": reason}}}}
	raw, _ := json.Marshal(p)
	return url.Values{"payload": {string(raw)}}.Encode()
}

func TestDenyWithReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionDeny, reqID))
	waitFor(t, "views.open", func() bool { return len(b.slack.Calls("views.open")) == 1 })
	opens := b.slack.Calls("views.open")
	var open struct {
		TriggerID string                 `json:"trigger_id"`
		View      slack.ModalViewRequest `json:"view"`
	}
	require.NoError(t, json.Unmarshal(opens[0].JSON, &open))
	assert.NotEmpty(t, open.TriggerID)
	assert.Equal(t, callbackDeny, open.View.CallbackID)

	code, a := b.post(t, "/slack/interactions", viewSubmission(t, dave, open.View.PrivateMetadata, "Carol is on leave until March"))
	require.Equal(t, http.StatusOK, code)
	assert.Empty(t, a.Text, "an empty 200 closes the modal")
	waitFor(t, "Deny", func() bool {
		return countCalls(b.svc.Calls(), "Deny(UDAVE0004,"+reqID+",Carol is on leave until March)") == 1
	})

	_, err := b.notifier().Once(context.Background())
	require.NoError(t, err)
	updates := b.slack.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Form.Get("blocks"), "Denied by \\u003c@UDAVE0004\\u003e: “Carol is on leave until March”")
	dms := b.slack.Calls("chat.postMessage")
	require.Len(t, dms, 2)
	assert.Equal(t, alice, dms[1].Form.Get("channel"))
	assert.Contains(t, dms[1].Form.Get("text"), "Reason: “Carol is on leave until March”")
}

func TestDenyFormThatCannotOpenIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	b.slack.fail("views.open", failure{status: 200, body: `{"ok":false,"error":"trigger_expired"}`})
	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionDeny, reqID))
	notice := b.reply(t, 3)
	assert.Contains(t, notice.Raw, "could not open the deny form")
	r, _ := b.svc.GetRequest(context.Background(), notifierActor, reqID)
	assert.Equal(t, certs.StatePending, r.State)
}

func TestDenyByNonApproverIsRefusedEphemerally(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	meta, _ := json.Marshal(denyMetadata{RequestID: reqID, Channel: approvals})
	code, _ := b.post(t, "/slack/interactions", viewSubmission(t, mallory, string(meta), "no"))
	require.Equal(t, http.StatusOK, code)
	waitFor(t, "refusal", func() bool { return len(b.slack.Calls("chat.postEphemeral")) == 1 })
	e := b.slack.Calls("chat.postEphemeral")[0]
	assert.Equal(t, approvals, e.Form.Get("channel"))
	assert.Equal(t, mallory, e.Form.Get("user"))
	assert.Contains(t, e.Form.Get("text"), "not an approver")
	r, _ := b.svc.GetRequest(context.Background(), notifierActor, reqID)
	assert.Equal(t, certs.StatePending, r.State)
}

func TestExpiredRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	b.svc.setState(reqID, certs.StateExpired, certs.ActionRequestExpired, nil, "")
	_, err := b.notifier().Once(context.Background())
	require.NoError(t, err)
	updates := b.slack.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Form.Get("blocks"), ":alarm_clock: expired")
	assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove)
	dms := b.slack.Calls("chat.postMessage")
	assert.Contains(t, dms[len(dms)-1].Form.Get("text"), "expired before anyone decided")

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
	refusal := b.reply(t, 3)
	assert.Contains(t, refusal.Raw, "already expired")
}

func TestNotifierSurvivesSlackErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("channel_not_found, then fixed", func(t *testing.T) {
		b := setup(t)
		b.slack.fail("chat.postMessage", failure{status: 200, body: testdata(t, "error-channel_not_found.json")})
		_, _ = b.command(t, alice, "reassign cert-1 item-1 to <@"+carol+"> because x")
		require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, b.reply(t, 1).Raw, actionConfirm)))
		b.reply(t, 2)
		n := b.notifier()
		_, err := n.Once(ctx)
		var se slack.SlackErrorResponse
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "channel_not_found", se.Err)
		r, err := b.svc.GetRequest(ctx, notifierActor, "req-plan-1")
		require.NoError(t, err)
		assert.Equal(t, certs.StatePending, r.State, "the request stays intact")
		assert.Empty(t, r.FrontendRefs[refTS])

		_, err = n.Once(ctx)
		require.NoError(t, err)
		r, _ = b.svc.GetRequest(ctx, notifierActor, "req-plan-1")
		assert.NotEmpty(t, r.FrontendRefs[refTS], "posted on the retry")
	})

	t.Run("ratelimited with Retry-After", func(t *testing.T) {
		b := setup(t)
		b.slack.fail("chat.postMessage", failure{status: http.StatusTooManyRequests, body: testdata(t, "error-ratelimited.json"), headers: map[string]string{"Retry-After": "30"}})
		_, _ = b.command(t, alice, "reassign cert-1 item-1 to <@"+carol+"> because x")
		require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, b.reply(t, 1).Raw, actionConfirm)))
		b.reply(t, 2)
		n := b.notifier()
		_, err := n.Once(ctx)
		var rl *slack.RateLimitedError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 30*time.Second, rl.RetryAfter, "Run waits this long before the next try")
		assert.True(t, transient(err))
		for range 5 { // rate limits are retried without limit
			b.slack.fail("chat.postMessage", failure{status: http.StatusTooManyRequests, body: testdata(t, "error-ratelimited.json"), headers: map[string]string{"Retry-After": "1"}})
			_, err = n.Once(ctx)
			require.Error(t, err)
		}
		_, err = n.Once(ctx)
		require.NoError(t, err)
		r, _ := b.svc.GetRequest(ctx, notifierActor, "req-plan-1")
		assert.NotEmpty(t, r.FrontendRefs[refTS])
		assert.Equal(t, certs.StatePending, r.State)
	})

	t.Run("a message Slack keeps refusing is skipped after MaxAttempts; later events still flow", func(t *testing.T) {
		b := setup(t)
		reqID, _ := fileRequest(t, b)
		for range 2 {
			b.slack.fail("chat.update", failure{status: 200, body: testdata(t, "error-cant_update_message.json")})
		}
		require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
		waitFor(t, "approve", func() bool { return countCalls(b.svc.Calls(), "Approve(") == 1 })
		waitFor(t, "approved", func() bool {
			r, _ := b.svc.GetRequest(ctx, notifierActor, reqID)
			return r.State == certs.StateApproved
		})
		n := b.notifier()
		_, err := n.Once(ctx)
		require.Error(t, err)
		_, err = n.Once(ctx)
		require.NoError(t, err, "second refusal: skipped")
		b.svc.setState(reqID, certs.StateCompleted, certs.ActionCompleted, nil, "")
		_, err = n.Once(ctx)
		require.NoError(t, err)
		updates := b.slack.Calls("chat.update")
		assert.Contains(t, updates[len(updates)-1].Form.Get("blocks"), ":white_check_mark: done")
	})
}

// A request submitted without approval (MCP, under a policy that requires
// none) is not posted for approvers.
func TestNotifierSkipsSelfSubmittedRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mcp := certs.Actor{ID: "tok-ops", Name: "Ops", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-ops"}
	r := &certs.Request{ID: "req-mcp", Plan: certs.Plan{ID: "req-mcp", ItemCount: 1}, Requester: mcp, DecidedBy: &mcp, State: certs.StateSubmitted}
	b.svc.mu.Lock()
	b.svc.requests[r.ID] = r
	b.svc.emit(certs.ActionRequestCreated, r, mcp)
	b.svc.emit(certs.ActionRequestApproved, r, mcp)
	b.svc.mu.Unlock()
	n, err := b.notifier().Once(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, b.slack.Calls("chat.postMessage"))
}

func TestTransient(t *testing.T) {
	t.Parallel()
	assert.True(t, transient(&slack.RateLimitedError{RetryAfter: time.Second}))
	assert.True(t, transient(slack.StatusCodeError{Code: 502}))
	assert.False(t, transient(slack.StatusCodeError{Code: 404}))
	assert.False(t, transient(slack.SlackErrorResponse{Err: "channel_not_found"}))
	assert.True(t, transient(certs.Errorf(certs.EUNAVAILABLE, "db down")))
	assert.True(t, transient(context.DeadlineExceeded))
	assert.False(t, transient(errors.New("boom")))
}
