package sandbox

import (
	"slices"
	"time"

	"github.com/certops/certops/internal/sandbox/filter"
)

// Certification tasks: an async reassignment is a task that stays QUEUED
// for TaskQueuedFor, IN_PROGRESS for TaskRunningFor, then applies its
// reassignment and ends in SUCCESS, or in ERROR when it can no longer be
// applied (the target became invalid, the items were moved by another
// task, the certification was signed). Tasks advance lazily from the clock
// at the start of every API request: deterministic, no goroutines.

const (
	taskQueued     = "QUEUED"
	taskInProgress = "IN_PROGRESS"
	taskSuccess    = "SUCCESS"
	taskError      = "ERROR"
)

type task struct {
	ID      string
	Type    string // REASSIGN (a reviewer's) or ADMIN_REASSIGN (an admin's)
	Cert    *certification
	Created time.Time
	Status  string
	Errors  []string
	// Trail is the move the task makes: from the certification's reviewer
	// to the new one.
	PreviousOwner, NewOwner string
	// The reassignment to apply.
	req reassignRequest
}

func (t *task) pending() bool { return t.Status == taskQueued || t.Status == taskInProgress }

// advanceTasks moves pending tasks along the clock, applying the
// reassignments of those that finish, oldest first. Call with s.mu held.
func (s *Sandbox) advanceTasks(now time.Time) {
	if len(s.st.pending) == 0 {
		return
	}
	still := s.st.pending[:0]
	for _, t := range s.st.pending {
		if now.Sub(t.Created) >= s.cfg.TaskQueuedFor {
			t.Status = taskInProgress
		}
		if now.Sub(t.Created) >= s.cfg.TaskQueuedFor+s.cfg.TaskRunningFor {
			finishAt := t.Created.Add(s.cfg.TaskQueuedFor + s.cfg.TaskRunningFor)
			if e := s.applyReassign(t.Cert, t.req, finishAt); e != nil {
				t.Status = taskError
				t.Errors = append(t.Errors, e.text)
				s.stats.tasksFailed++
			} else {
				t.Status = taskSuccess
			}
			continue
		}
		still = append(still, t)
	}
	clear(s.st.pending[len(still):])
	s.st.pending = still
}

// Wire shapes.

type reassignmentTrailDto struct {
	PreviousOwner    string `json:"previousOwner"`
	NewOwner         string `json:"newOwner"`
	ReassignmentType string `json:"reassignmentType"`
}

// certificationTask is v3's CertificationTask.
type certificationTask struct {
	ID                    string                 `json:"id"`
	Type                  string                 `json:"type"`
	TargetType            string                 `json:"targetType"`
	TargetID              string                 `json:"targetId"`
	Status                string                 `json:"status"`
	Errors                []errorMessageDto      `json:"errors"`
	ReassignmentTrailDTOs []reassignmentTrailDto `json:"reassignmentTrailDTOs"`
	Created               isoTime                `json:"created"`
}

func taskDto(t *task) certificationTask {
	d := certificationTask{
		ID: t.ID, Type: t.Type, TargetType: "CERTIFICATION", TargetID: t.Cert.ID, Status: t.Status,
		Errors: []errorMessageDto{}, Created: isoTime(t.Created),
		ReassignmentTrailDTOs: []reassignmentTrailDto{{PreviousOwner: t.PreviousOwner, NewOwner: t.NewOwner, ReassignmentType: "MANUAL_REASSIGNMENT"}},
	}
	for _, e := range t.Errors {
		d.Errors = append(d.Errors, message(e))
	}
	return d
}

// identityCertificationTask is beta's IdentityCertificationTask (type is
// always REASSIGN there: its enum has no other value).
type identityCertificationTask struct {
	ID              string   `json:"id"`
	CertificationID string   `json:"certificationId"`
	Type            string   `json:"type"`
	Status          string   `json:"status"`
	Errors          []string `json:"errors"`
}

func betaTaskDto(t *task) identityCertificationTask {
	return identityCertificationTask{ID: t.ID, CertificationID: t.Cert.ID, Type: "REASSIGN", Status: t.Status,
		Errors: append([]string{}, t.Errors...)}
}

var taskFilters = filter.Fields{"id": {"eq", "in"}, "targetId": {"eq", "in"}, "type": {"eq", "in"}}

// taskVisible: admins see every task; reviewers the tasks of the
// certifications they review.
func taskVisible(c *call, t *task) bool { return visibleTo(c, t.Cert) }

// GET /certification-tasks: pending tasks only, oldest first.
func (s *Sandbox) listPendingTasks(c *call) (any, *apiError) {
	col, e := parseCollection(c, taskFilters, nil)
	if e != nil {
		return nil, e
	}
	p, expr := col.page, col.filter
	reviewer := reviewerParam(c, "reviewer-identity")
	var all []*task
	for _, t := range s.st.pending {
		if !taskVisible(c, t) || (reviewer != "" && t.Cert.Reviewer.ID != reviewer) {
			continue
		}
		if expr != nil && !filter.Eval(expr, func(f string) (filter.Value, bool) {
			switch f {
			case "id":
				return str(t.ID)
			case "targetId":
				return str(t.Cert.ID)
			case "type":
				return str(t.Type)
			}
			return filter.Null(), false
		}) {
			continue
		}
		all = append(all, t)
	}
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	out := make([]certificationTask, 0, hi-lo)
	for _, t := range all[lo:hi] {
		out = append(out, taskDto(t))
	}
	return out, nil
}

// taskFor returns the task of the path parameter: 404 when unknown, 403
// when the caller does not review its certification.
func (s *Sandbox) taskFor(c *call, param string) (*task, *apiError) {
	id := c.r.PathValue(param)
	t, ok := s.st.tasks[id]
	if !ok {
		return nil, notFound("certification task " + quoteID(id) + " not found")
	}
	if !taskVisible(c, t) {
		return nil, forbidden("identity " + c.client.IdentityID + " is not a reviewer of certification " + t.Cert.ID)
	}
	return t, nil
}

func (s *Sandbox) getTask(c *call) (any, *apiError) {
	t, e := s.taskFor(c, "id")
	if e != nil {
		return nil, e
	}
	return taskDto(t), nil
}

// GET /beta/certifications/{id}/tasks/{taskId}.
func (s *Sandbox) getTaskBeta(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	t, e := s.taskFor(c, "taskId")
	if e != nil {
		return nil, e
	}
	if t.Cert != cert {
		return nil, notFound("certification task " + quoteID(t.ID) + " not found in certification " + cert.ID)
	}
	return betaTaskDto(t), nil
}

// GET /beta/certifications/{id}/tasks-pending.
func (s *Sandbox) listPendingTasksBeta(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	out := []identityCertificationTask{}
	for _, t := range s.st.pending {
		if t.Cert == cert {
			out = append(out, betaTaskDto(t))
		}
	}
	return out, nil
}

// pendingFor lists a certification's pending tasks. Call with s.mu held.
func (s *Sandbox) pendingFor(cert *certification) []*task {
	return slices.DeleteFunc(slices.Clone(s.st.pending), func(t *task) bool { return t.Cert != cert })
}
