package certs

import "time"

// TaskStatus is where an ISC certification task is.
type TaskStatus string

const (
	TaskQueued     TaskStatus = "QUEUED"
	TaskInProgress TaskStatus = "IN_PROGRESS"
	TaskSuccess    TaskStatus = "SUCCESS"
	TaskError      TaskStatus = "ERROR"
)

// Done reports whether the task has finished (successfully or not).
func (s TaskStatus) Done() bool { return s == TaskSuccess || s == TaskError }

// TaskType is what a certification task does. ISC says more values may be
// added, so unknown values are kept as they come.
type TaskType string

const (
	TaskReassign      TaskType = "REASSIGN"
	TaskAdminReassign TaskType = "ADMIN_REASSIGN"
)

// ReassignmentTrail records one move of review work made by a task.
type ReassignmentTrail struct {
	PreviousOwner    string `json:"previousOwner"`
	NewOwner         string `json:"newOwner"`
	ReassignmentType string `json:"reassignmentType,omitempty"`
}

// Task is an asynchronous ISC certification task (ISC CertificationTask).
type Task struct {
	ID         string              `json:"id"`
	Type       TaskType            `json:"type"`
	TargetType string              `json:"targetType"` // CERTIFICATION | CAMPAIGN
	TargetID   string              `json:"targetId"`   // the certification id for reassignments
	Status     TaskStatus          `json:"status"`
	Errors     []string            `json:"errors,omitempty"`
	Trail      []ReassignmentTrail `json:"reassignmentTrail,omitempty"`
	Created    time.Time           `json:"created"`
}
