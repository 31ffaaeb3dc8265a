package slackbot

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// The renderer's output is pinned by golden files in testdata/golden, so
// that a change to what people read in Slack is reviewed on purpose.
// Regenerate them with: UPDATE_GOLDEN=1 go test ./internal/slackbot -run TestRenderGolden
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := &renderer{now: func() time.Time { return now }, command: "/certs", certURL: "https://acme.identitynow.example/ui/certifications/{id}"}
	due := now.Add(3 * 24 * time.Hour)
	overdue := now.Add(-2*24*time.Hour - time.Hour)
	cert := certs.Certification{ID: "ef38f94347e94562b5bb8424a56397d8", Name: "Manager review: Alice <Q4>",
		Campaign: certs.Campaign{ID: "2c918083", Name: "Q4 2026 managers", CampaignType: certs.CampaignManager},
		Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice Liddell", Email: "alice@example.com"}, Phase: certs.PhaseActive,
		Due: &due, DecisionsMade: 12, DecisionsTotal: 40, IdentitiesCompleted: 1, IdentitiesTotal: 4}
	late := cert
	late.ID, late.Name, late.Due, late.DecisionsMade = "0a1b2c3d", "Manager review: Bob", &overdue, 0
	plan := certs.Plan{ID: "plan-7", Digest: "sha256:ab12", CertificationID: cert.ID, CertificationName: cert.Name, CampaignName: "Q4 2026 managers",
		From: cert.Reviewer, To: certs.Identity{ID: "id-carol", Name: "Carol Owner", Email: "carol@example.com"}, Reason: "Carol owns the payroll app & its roles",
		ItemCount: 3, IdentityNames: []string{"Bob Worker", "Dan Temp"}, Calls: []certs.Reassignment{{CertificationID: cert.ID, To: "id-carol"}},
		Summary: "Move 3 review items of Manager review: Alice to Carol Owner in 1 call", Created: now.Add(-time.Minute)}
	alice := certs.Actor{ID: "UALICE001", Name: "Alice", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-alice"}
	dave := certs.Actor{ID: "UDAVE0004", Name: "Dave", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-dave"}
	req := func(state certs.RequestState, mod func(*certs.Request)) *certs.Request {
		q := &certs.Request{ID: "req-42", Plan: plan, Requester: alice, Approvers: []string{"slack:UDAVE0004"}, State: state,
			Created: now.Add(-10 * time.Minute), ExpiresAt: now.Add(72*time.Hour - 10*time.Minute)}
		q.Plan.ID = q.ID // as the Service files it: a request's id is its plan's
		if mod != nil {
			mod(q)
		}
		return q
	}
	approved := func(q *certs.Request) { q.DecidedBy = &dave }

	cases := map[string]message{
		"help":             r.help((&Bot{render: r}).commandTable()),
		"list":             r.certificationList("Your certifications", "open", certs.Page[certs.Certification]{Items: []certs.Certification{cert, late}, Total: 7}),
		"list-empty":       r.certificationList("Your certifications", "open", certs.Page[certs.Certification]{Total: 0}),
		"show":             r.certification(&certs.CertificationDetail{Certification: cert, PendingTasks: []certs.Task{{ID: "task-1", Type: certs.TaskReassign, Status: certs.TaskInProgress, Created: now.Add(-5 * time.Minute)}}, Requests: []*certs.Request{req(certs.StatePending, nil)}}),
		"reviewers":        r.reviewers(cert.ID, certs.Page[certs.IdentityRef]{Items: []certs.IdentityRef{{ID: "id-alice", Name: "Alice Liddell", Email: "alice@example.com"}}, Total: 1}),
		"items":            r.items(cert.ID, "", certs.Page[certs.ReviewItem]{Items: []certs.ReviewItem{{ID: "item-1", NewAccess: true, Access: certs.Access{Type: certs.AccessEntitlement, Name: "payroll_admin", SourceName: "Payroll", Privileged: true}, IdentitySummary: certs.IdentitySummary{Name: "Bob Worker"}}, {ID: "item-2", Completed: true, Decision: certs.DecisionApprove, Access: certs.Access{Type: certs.AccessAccessProfile, Name: "Finance readers"}, IdentitySummary: certs.IdentitySummary{Name: "Dan Temp"}}}, Total: 30}),
		"permissions":      r.permissions(cert.ID, "item-1", certs.Page[certs.Permission]{Items: []certs.Permission{{Target: "payroll_db", Rights: []string{"SELECT", "UPDATE"}}}, Total: 1}),
		"task":             r.task(&certs.Task{ID: "task-1", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: cert.ID, Status: certs.TaskError, Errors: []string{"reviewer is inactive"}, Created: now.Add(-time.Hour)}),
		"pending":          r.pendingTasks(cert.ID, []certs.Task{{ID: "task-1", Type: certs.TaskReassign, Status: certs.TaskQueued, Created: now.Add(-2 * time.Minute)}}),
		"plan":             r.plan(&plan),
		"filed":            r.requestFiled(req(certs.StatePending, nil), "CAPPROVALS"),
		"approval-pending": r.approval(req(certs.StatePending, nil)),
		"approval-submitted": r.approval(req(certs.StateSubmitted, func(q *certs.Request) {
			approved(q)
			q.Tasks = []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskInProgress}}
		})),
		"approval-completed": r.approval(req(certs.StateCompleted, func(q *certs.Request) {
			approved(q)
			q.Tasks = []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskSuccess}}
		})),
		"approval-failed": r.approval(req(certs.StateFailed, func(q *certs.Request) {
			approved(q)
			q.Error = "SailPoint task task-1 ended in ERROR"
			q.Tasks = []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskError, Errors: []string{"reviewer is inactive"}}}
		})),
		"approval-partial": r.approval(req(certs.StateFailed, func(q *certs.Request) {
			approved(q)
			q.Plan.Calls = []certs.Reassignment{{CertificationID: cert.ID, To: "id-carol", Refs: make([]certs.Ref, 500)}, {CertificationID: cert.ID, To: "id-carol", Refs: make([]certs.Ref, 300)}, {CertificationID: cert.ID, To: "id-carol", Refs: make([]certs.Ref, 1)}}
			q.Plan.ItemCount = 801
			q.Error = "1 of 3 calls applied (500 items moved); call 2's outcome is unknown, nothing was resubmitted: check certification " + cert.ID + "; call 3 was not sent"
			q.Tasks = []certs.RequestTask{
				{Call: 0, State: certs.CallAccepted, TaskID: "task-1", Status: certs.TaskSuccess},
				{Call: 1, State: certs.CallUnconfirmed},
				{Call: 2, State: certs.CallNotSent, Errors: []string{"not sent: the outcome of call 2 is unknown"}},
			}
		})),
		"approval-denied":  r.approval(req(certs.StateDenied, func(q *certs.Request) { q.DecidedBy, q.DecisionReason = &dave, "Carol is on leave" })),
		"approval-expired": r.approval(req(certs.StateExpired, nil)),
		"status":           r.requestStatus(req(certs.StatePending, nil)),
		"error-upstream": r.failure(&certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint did not answer",
			Upstream: &certs.Upstream{Status: 503, DetailCode: "503 Service Unavailable", TrackingID: "b3f0c0ffee"}}),
		"error-internal": r.failure(errors.New("pq: connection refused to 10.0.0.7")),
		"dm-completed": func() message {
			m, _ := r.requesterNotice(req(certs.StateCompleted, func(q *certs.Request) {
				approved(q)
				q.Tasks = []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskSuccess}}
			}), certs.Event{Action: certs.ActionCompleted}, "https://example.slack.com/archives/CAPPROVALS/p1700000000000001")
			return m
		}(),
		"dm-denied": func() message {
			m, _ := r.requesterNotice(req(certs.StateDenied, func(q *certs.Request) { q.DecidedBy, q.DecisionReason = &dave, "Carol is on leave" }), certs.Event{Action: certs.ActionRequestDenied}, "")
			return m
		}(),
		"approved-by-you": r.approvedByYou(req(certs.StateSubmitted, approved)),
		"denied-by-you":   r.deniedByYou(req(certs.StateDenied, func(q *certs.Request) { q.DecidedBy, q.DecisionReason = &dave, "Carol is on leave" })),
		"already-approved": func() message {
			m, _ := r.decidedAlready(req(certs.StateSubmitted, approved), alice, now.Add(-time.Minute))
			return m
		}(),
		"already-approved-by-you": func() message {
			m, _ := r.decidedAlready(req(certs.StateSubmitted, approved), dave, now.Add(-time.Minute))
			return m
		}(),
		"already-denied": func() message {
			m, _ := r.decidedAlready(req(certs.StateDenied, func(q *certs.Request) { q.DecidedBy, q.DecisionReason = &dave, "Carol is on leave" }), alice, now.Add(-time.Minute))
			return m
		}(),
		"already-expired": func() message {
			m, _ := r.decidedAlready(req(certs.StateExpired, nil), dave, time.Time{})
			return m
		}(),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := json.MarshalIndent(struct {
				Text   string        `json:"text"`
				Blocks []slack.Block `json:"blocks"`
			}{m.Text, m.Blocks}, "", "  ")
			require.NoError(t, err)
			checkGolden(t, name, got)
		})
	}
	t.Run("deny-modal", func(t *testing.T) {
		got, err := json.MarshalIndent(r.denyModal("req-42", `{"request":"req-42"}`), "", "  ")
		require.NoError(t, err)
		checkGolden(t, "deny-modal", got)
	})
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file; run with UPDATE_GOLDEN=1")
	assert.JSONEq(t, string(want), string(got))
}

func TestRenderNeverLeaksInternals(t *testing.T) {
	t.Parallel()
	r := &renderer{now: time.Now, command: "/certs"}
	m := r.failure(errors.New("dial tcp 10.0.0.7:5432: password=hunter2"))
	assert.NotContains(t, m.Text, "10.0.0.7")
	assert.NotContains(t, m.Text, "hunter2")
}

// Dates are Slack's date formatting, never a relative time frozen into the
// text: each reader sees the date in their own time zone, and "today" or
// "tomorrow" while it is so.
func TestDueDates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := &renderer{now: func() time.Time { return now }}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	date := func(d time.Duration) string { return slackDate(*at(d)) }
	for _, tc := range []struct {
		due       *time.Time
		completed bool
		want      string
	}{
		{at(3 * 24 * time.Hour), false, "due " + date(3*24*time.Hour)},
		{at(0), false, "due " + date(0)},
		{at(-90 * time.Minute), false, ":warning: overdue since " + date(-90*time.Minute)},
		{at(-2 * 24 * time.Hour), true, "was due " + date(-2*24*time.Hour)},
		{nil, false, "no due date"},
	} {
		assert.Equal(t, tc.want, r.due(tc.due, tc.completed))
	}
	assert.Equal(t, "<!date^1795694400^{date_short_pretty} {time}|2026-11-26 12:00 UTC>", date(3*24*time.Hour))
}

func TestCapitalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		":no_entry: you filed request r-1":      ":no_entry: You filed request r-1",
		":white_check_mark: your request `r-1`": ":white_check_mark: Your request `r-1`",
		"you are not an approver":               "You are not an approver",
		":warning: :snail: slow":                ":warning: :snail: Slow",
		"<@U1> asks":                            "<@U1> asks",
		"`r-1` is done":                         "`r-1` is done",
		":no_entry: Already capital":            ":no_entry: Already capital",
		"élan":                                  "Élan",
		"":                                      "",
		"12:30: at noon":                        "12:30: at noon",
	} {
		assert.Equal(t, want, capitalize(in), in)
	}
}

func TestResponseURLsAreSlacks(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"https://hooks.slack.com/commands/T0/1/abc":     true,
		"https://hooks.slack.com/actions/T0/1/abc":      true,
		"https://HOOKS.SLACK.COM/actions/T0/1/abc":      true,
		"https://hooks.slack-gov.com/actions/T0/1/abc":  true,
		"http://hooks.slack.com/actions/T0/1/abc":       false,
		"https://hooks.slack.com:8443/actions/T0/1/abc": false,
		"https://hooks.slack.com.evil.test/actions/x":   false,
		"https://evil.test/hooks.slack.com/actions/x":   false,
		"https://user@hooks.slack.com/actions/x":        false,
		"http://127.0.0.1:8080/x":                       false,
		"https://slack.com/api/chat.postMessage":        false,
		"::not a url":                                   false,
	} {
		assert.Equal(t, want, slackResponseURL(raw), raw)
	}
}

func TestFactTime(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "<!date^1795442520^{date_short_pretty} {time}|2026-11-23 14:02 UTC>", factTime("2026-11-23 14:02 UTC"), "the Service's UTC text, as a Slack date")
	assert.Equal(t, "yesterday &lt;noon&gt;", factTime("yesterday <noon>"), "anything else as it is")
}
