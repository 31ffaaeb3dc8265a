package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/certops/certops/internal/certs"
)

// GetTask returns a certification task, or ENOTFOUND.
//
// SailPoint: getCertificationTask (GET /v3/certification-tasks/{id}),
// getCertificationTaskV1 (GET /certification-tasks/v1/{id}).
func (c *Client) GetTask(ctx context.Context, taskID string) (*certs.Task, error) {
	if err := certs.ValidateID("task id", taskID); err != nil {
		return nil, err
	}
	var dto certificationTaskDTO
	req := &request{op: opGetTask, method: http.MethodGet, url: c.url(opGetTask, nil, taskID),
		notFound: fmt.Sprintf("certification task %s not found", taskID)}
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, err
	}
	t := dto.domain()
	return &t, nil
}

// ListPendingTasks returns a certification's QUEUED and IN_PROGRESS tasks,
// all pages (read as ListAllCertifications reads them).
//
// SailPoint: getPendingCertificationTasks
// (GET /v3/certification-tasks?filters=targetId eq "<id>"),
// getPendingCertificationTasksV1 (GET /certification-tasks/v1?filters=...).
func (c *Client) ListPendingTasks(ctx context.Context, certID string) ([]certs.Task, error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return nil, err
	}
	q := url.Values{}
	if err := setFilters(q, Eq("targetId", certID)); err != nil {
		return nil, err
	}
	return listAll(ctx, c, func(ctx context.Context, p certs.PageOptions) (certs.Page[certs.Task], error) {
		q := cloneValues(q)
		addPage(q, p)
		req := &request{op: opListPendingTasks, method: http.MethodGet, url: c.url(opListPendingTasks, q)}
		return getPage[certificationTaskDTO, certs.Task](ctx, c, req, p)
	}, certs.PageOptions{})
}
