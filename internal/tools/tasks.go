package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// TaskOut is an ISC certification task.
type TaskOut struct {
	ID              string    `json:"id"`
	Type            string    `json:"type" jsonschema:"REASSIGN, ADMIN_REASSIGN, or another ISC task type"`
	CertificationID string    `json:"certificationId,omitempty"`
	Status          string    `json:"status" jsonschema:"QUEUED, IN_PROGRESS, SUCCESS or ERROR"`
	Errors          []string  `json:"errors,omitempty"`
	Moves           []MoveOut `json:"moves,omitempty" jsonschema:"the reassignment trail: whose work moved to whom"`
	Created         string    `json:"created,omitempty"`
}

// MoveOut is one move of review work made by a task.
type MoveOut struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func taskOut(t *certs.Task) TaskOut {
	out := TaskOut{ID: t.ID, Type: string(t.Type), Status: string(t.Status), Errors: t.Errors, Created: ts(&t.Created)}
	if t.TargetType == "" || t.TargetType == "CERTIFICATION" {
		out.CertificationID = t.TargetID
	}
	for _, m := range t.Trail {
		out.Moves = append(out.Moves, MoveOut{From: m.PreviousOwner, To: m.NewOwner})
	}
	return out
}

func (t TaskOut) line() string {
	s := fmt.Sprintf("- task %s %s: %s", t.ID, t.Type, t.Status)
	if len(t.Errors) > 0 {
		s += " — " + strings.Join(t.Errors, "; ")
	}
	return s
}

// RequestSummary is a reassignment request in a certification's history.
type RequestSummary struct {
	ID        string `json:"id"`
	State     string `json:"state" jsonschema:"pending, approved, submitting, submitted, completed, failed, denied, expired or cancelled"`
	To        Person `json:"to" jsonschema:"the new reviewer"`
	ItemCount int    `json:"itemCount"`
	Reason    string `json:"reason"`
	Requester string `json:"requester" jsonschema:"who asked, as frontend:id"`
	DecidedBy string `json:"decidedBy,omitempty" jsonschema:"who approved, denied or cancelled, as frontend:id"`
	Created   string `json:"created"`
	Updated   string `json:"updated"`

	// kind and its counts let the text tell a reviewer's decisions and
	// sign-off apart from a reassignment (the output schema predates them).
	kind            certs.ChangeKind
	approve, revoke int
}

func actorText(a certs.Actor) string {
	s := string(a.Frontend) + ":" + a.ID
	if a.Name != "" && a.Name != a.ID {
		s += " (" + a.Name + ")"
	}
	return s
}

func requestSummary(r *certs.Request) RequestSummary {
	out := RequestSummary{
		ID: r.ID, State: string(r.State),
		To:        Person{ID: r.Plan.To.ID, Name: r.Plan.To.Name, Email: r.Plan.To.Email},
		ItemCount: r.Plan.ItemCount, Reason: r.Plan.Reason,
		Requester: actorText(r.Requester),
		Created:   ts(&r.Created), Updated: ts(&r.Updated),
		kind: r.Plan.KindOf(),
	}
	out.approve, out.revoke = decisionCounts(&r.Plan)
	if r.DecidedBy != nil {
		out.DecidedBy = actorText(*r.DecidedBy)
	}
	return out
}

func (r RequestSummary) line() string {
	what := fmt.Sprintf("%s to %s", countOf(r.ItemCount, "item", "items"), r.To.Name)
	switch r.kind {
	case certs.KindDecide:
		what = fmt.Sprintf("decisions: approve %d, revoke %d", r.approve, r.revoke)
	case certs.KindSignOff:
		what = "sign-off"
	}
	s := fmt.Sprintf("- request %s: %s · %s · asked by %s on %s", r.ID, r.State, what, r.Requester, r.Created)
	if r.DecidedBy != "" {
		s += " · decided by " + r.DecidedBy
	}
	return s
}

// RequestStatus is a reassignment request's state and progress.
type RequestStatus struct {
	ID                string           `json:"id"`
	State             string           `json:"state" jsonschema:"pending, approved, submitting, submitted, completed, failed, denied, expired or cancelled"`
	Final             bool             `json:"final" jsonschema:"true when the state can no longer change"`
	CertificationID   string           `json:"certificationId"`
	CertificationName string           `json:"certificationName,omitempty"`
	From              Person           `json:"from"`
	To                Person           `json:"to"`
	ItemCount         int              `json:"itemCount"`
	Reason            string           `json:"reason"`
	Requester         string           `json:"requester"`
	Approvers         []string         `json:"approvers,omitempty" jsonschema:"who may approve, as approver keys"`
	DecidedBy         string           `json:"decidedBy,omitempty"`
	DecisionReason    string           `json:"decisionReason,omitempty"`
	Progress          ProgressCalls    `json:"progress"`
	Tasks             []RequestTaskOut `json:"tasks"`
	Error             string           `json:"error,omitempty"`
	Created           string           `json:"created"`
	Updated           string           `json:"updated"`
	ExpiresAt         string           `json:"expiresAt,omitempty" jsonschema:"when a pending request expires undecided"`

	// unknown, notSent and toSend count the calls the text tells of
	// beyond Progress's, and waitingFor is what the next call waits for
	// (certs.Request.WaitingFor); the text tells of them, the output
	// schema, which predates them, does not.
	unknown, notSent, toSend int
	waitingFor               string
	// kind is the kind of change (a reviewer's decisions and sign-off
	// are requests too); the text tells of each in its own words.
	kind certs.ChangeKind
}

// ProgressCalls counts a request's ISC calls by status.
type ProgressCalls struct {
	Calls      int `json:"calls"`
	Queued     int `json:"queued"`
	Running    int `json:"running"`
	Done       int `json:"done"`
	Failed     int `json:"failed"`
	ItemsMoved int `json:"itemsMoved"`
}

// RequestTaskOut is one ISC call of a request.
type RequestTaskOut struct {
	Call       int      `json:"call"`
	TaskID     string   `json:"taskId,omitempty"`
	Status     string   `json:"status,omitempty"`
	Errors     []string `json:"errors,omitempty"`
	TrackingID string   `json:"trackingId,omitempty"`

	// state is where the call stands (kept out of the output schema, which
	// predates it), so the text can tell of calls that have no task.
	state certs.CallState
}

func requestStatus(r *certs.Request) RequestStatus {
	p := r.Progress()
	out := RequestStatus{
		ID: r.ID, State: string(r.State), Final: r.State.Final(),
		CertificationID: r.Plan.CertificationID, CertificationName: r.Plan.CertificationName,
		From:      Person{ID: r.Plan.From.ID, Name: r.Plan.From.Name, Email: r.Plan.From.Email},
		To:        Person{ID: r.Plan.To.ID, Name: r.Plan.To.Name, Email: r.Plan.To.Email},
		ItemCount: r.Plan.ItemCount, Reason: r.Plan.Reason,
		Requester: actorText(r.Requester), Approvers: r.Approvers,
		DecisionReason: r.DecisionReason,
		Progress: ProgressCalls{Calls: p.Calls, Queued: p.Queued, Running: p.Running, Done: p.Done,
			Failed: p.Failed, ItemsMoved: p.ItemsMoved},
		Tasks:   make([]RequestTaskOut, 0, len(r.Tasks)),
		Error:   r.Error,
		Created: ts(&r.Created), Updated: ts(&r.Updated),
		unknown: p.Unknown, notSent: p.NotSent, toSend: p.ToSend, waitingFor: r.WaitingFor,
		kind: r.Plan.KindOf(),
	}
	if r.State == certs.StatePending {
		out.ExpiresAt = ts(&r.ExpiresAt)
	}
	if r.DecidedBy != nil {
		out.DecidedBy = actorText(*r.DecidedBy)
	}
	for _, t := range r.Tasks {
		out.Tasks = append(out.Tasks, RequestTaskOut{Call: t.Call, TaskID: t.TaskID, Status: string(t.Status), Errors: t.Errors, TrackingID: t.TrackingID, state: t.State})
	}
	return out
}

func (r RequestStatus) text() string {
	var b strings.Builder
	switch r.kind {
	case certs.KindDecide:
		fmt.Fprintf(&b, "Request %s is %s: %s on %q, reviewed by %s.\n", r.ID, r.State, countOf(r.ItemCount, "decision", "decisions"), r.CertificationName, r.From.Name)
	case certs.KindSignOff:
		fmt.Fprintf(&b, "Request %s is %s: sign-off of %q, reviewed by %s.\n", r.ID, r.State, r.CertificationName, r.From.Name)
	default:
		fmt.Fprintf(&b, "Request %s is %s: %s of %q from %s to %s.\n", r.ID, r.State, countOf(r.ItemCount, "item", "items"), r.CertificationName, r.From.Name, r.To.Name)
	}
	switch r.State {
	case string(certs.StatePending):
		fmt.Fprintf(&b, "Waiting for an approver's decision in Slack (expires %s). Nothing has moved yet.\n", r.ExpiresAt)
	case string(certs.StateDenied), string(certs.StateExpired), string(certs.StateCancelled):
		b.WriteString("Nothing was moved.\n")
		if r.DecisionReason != "" {
			fmt.Fprintf(&b, "Reason: %s\n", r.DecisionReason)
		}
	default:
		p := r.Progress
		fmt.Fprintf(&b, "ISC calls: %d done, %d running, %d queued, %d failed", p.Done, p.Running, p.Queued, p.Failed)
		for _, c := range []struct {
			n    int
			what string
		}{{r.unknown, "outcome unknown (nothing resubmitted)"}, {r.notSent, "not sent"}, {r.toSend, "still to send"}} {
			if c.n > 0 {
				fmt.Fprintf(&b, ", %d %s", c.n, c.what)
			}
		}
		switch r.kind {
		case certs.KindDecide:
			fmt.Fprintf(&b, " of %d; %s recorded.\n", p.Calls, countOf(p.ItemsMoved, "decision", "decisions"))
		case certs.KindSignOff:
			fmt.Fprintf(&b, " of %d.\n", p.Calls)
		default:
			fmt.Fprintf(&b, " of %d; %s moved.\n", p.Calls, countOf(p.ItemsMoved, "item", "items"))
		}
		if r.waitingFor != "" && !r.Final {
			fmt.Fprintf(&b, "Waiting: the next call is not sent until %s is settled; certops then sends it by itself.\n", waitingText(r.waitingFor))
		}
	}
	if r.DecidedBy != "" {
		fmt.Fprintf(&b, "Decided by %s.\n", r.DecidedBy)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", r.Error)
	}
	for _, t := range r.Tasks {
		what := t.standing()
		if what == "" {
			continue
		}
		fmt.Fprintf(&b, "- call %d: %s", t.Call+1, what)
		// The request's error quotes SailPoint's tracking id already when
		// it is about this call: say it once.
		if t.TrackingID != "" && !strings.Contains(r.Error, t.TrackingID) {
			fmt.Fprintf(&b, " (tracking id %s)", t.TrackingID)
		}
		if len(t.Errors) > 0 && !strings.Contains(r.Error, strings.Join(t.Errors, "; ")) {
			b.WriteString(" — " + strings.Join(t.Errors, "; "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// waitingText names what a request waits for (certs.Request.WaitingFor:
// another request's id, or "certification <id>").
func waitingText(w string) string {
	if strings.HasPrefix(w, "certification ") {
		return "what another change sent to " + w
	}
	return "request " + w + " (a change to the same certification)"
}

// standing says where a call stands, in words; "" for a call with nothing
// to tell (recorded by a version before the call log, without a task).
func (t RequestTaskOut) standing() string {
	switch {
	case t.TaskID != "":
		return fmt.Sprintf("task %s %s", t.TaskID, t.Status)
	case t.state == certs.CallAccepted && t.Status == string(certs.TaskSuccess):
		return "done (a synchronous call; no task)"
	case t.state == certs.CallAccepted:
		return "accepted by ISC " + t.Status
	case t.state == certs.CallSending:
		return "being sent"
	case t.state == certs.CallUnknown:
		return "outcome unknown; nothing resubmitted, certops is reading the certification to find out"
	case t.state == certs.CallUnconfirmed:
		return "outcome never confirmed; nothing resubmitted: check the certification"
	case t.state == certs.CallRejected:
		return "refused by ISC; nothing of it was applied"
	case t.state == certs.CallNotSent:
		return "not sent"
	}
	return ""
}

// ReassignmentStatus is get_reassignment_status' result: exactly one of
// request and task is set.
type ReassignmentStatus struct {
	Request *RequestStatus `json:"request,omitempty"`
	Task    *TaskOut       `json:"task,omitempty"`
}

type reassignmentStatusArgs struct {
	RequestID string `json:"request_id"`
	TaskID    string `json:"task_id"`
}

func getReassignmentStatus(d deps) server.ServerTool {
	tool := newTool("get_reassignment_status",
		mcp.WithDescription("Get a request's state and ISC calls (from reassign, decide or sign_off), or an ISC task's. Give request_id or task_id."),
		idArg("request_id", "Request id.", false),
		idArg("task_id", "ISC task id.", false),
		readAnnotations("Get reassignment status", true),
		mcp.WithOutputSchema[ReassignmentStatus](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[reassignmentStatusArgs](req)
		if err != nil {
			return nil, err
		}
		switch {
		case args.RequestID != "" && args.TaskID != "":
			return nil, invalid("give either request_id or task_id, not both")
		case args.RequestID != "":
			if err := checkID("request_id", args.RequestID); err != nil {
				return nil, err
			}
			r, err := d.svc.GetRequest(ctx, a, args.RequestID)
			if err != nil {
				return nil, err
			}
			st := requestStatus(r)
			return result(ReassignmentStatus{Request: &st}, st.text()), nil
		case args.TaskID != "":
			if err := checkID("task_id", args.TaskID); err != nil {
				return nil, err
			}
			t, err := d.svc.GetTask(ctx, a, args.TaskID)
			if err != nil {
				return nil, err
			}
			out := taskOut(t)
			return result(ReassignmentStatus{Task: &out}, strings.TrimPrefix(out.line(), "- ")+"\n"), nil
		}
		return nil, invalid("request_id or task_id is required")
	})}
}

// TaskList is list_pending_tasks' result.
type TaskList struct {
	CertificationID string    `json:"certificationId"`
	Tasks           []TaskOut `json:"tasks"`
}

func listPendingTasks(d deps) server.ServerTool {
	tool := newTool("list_pending_tasks",
		mcp.WithDescription("List a certification's queued and running ISC tasks. Check it before retrying what had an unknown outcome."),
		idArg("certification_id", "Certification id.", true),
		readAnnotations("List pending tasks", true),
		mcp.WithOutputSchema[TaskList](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[certificationIDArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		tasks, err := d.svc.ListPendingTasks(ctx, a, args.CertificationID)
		if err != nil {
			return nil, err
		}
		out := TaskList{CertificationID: args.CertificationID, Tasks: make([]TaskOut, 0, len(tasks))}
		var b strings.Builder
		fmt.Fprintf(&b, "%s on certification %s.\n", countOf(len(tasks), "pending ISC task", "pending ISC tasks"), args.CertificationID)
		for i := range tasks {
			t := taskOut(&tasks[i])
			out.Tasks = append(out.Tasks, t)
			b.WriteString(t.line())
			b.WriteByte('\n')
		}
		return result(out, b.String()), nil
	})}
}
