package certs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
)

// meeting is a tenant whose GetCertification answers only once every read
// in wait has started: reads made one after another never get there, reads
// made together do.
type meeting struct {
	*certstest.Tenant
	mu   sync.Mutex
	wait map[string]bool
	all  chan struct{}
}

func meet(tn *certstest.Tenant, reads ...string) *meeting {
	m := &meeting{Tenant: tn, wait: map[string]bool{}, all: make(chan struct{})}
	for _, r := range reads {
		m.wait[r] = true
	}
	return m
}

func (m *meeting) arrive(read string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.wait[read] {
		delete(m.wait, read)
		if len(m.wait) == 0 {
			close(m.all)
		}
	}
}

func (m *meeting) GetCertification(ctx context.Context, id string) (*certs.Certification, error) {
	select {
	case <-m.all:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return m.Tenant.GetCertification(ctx, id)
}

func (m *meeting) ListPendingTasks(ctx context.Context, certID string) ([]certs.Task, error) {
	m.arrive("ListPendingTasks")
	return m.Tenant.ListPendingTasks(ctx, certID)
}

func (m *meeting) ListAllReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) ([]certs.ReviewItem, error) {
	m.arrive("ListAllReviewItems")
	return m.Tenant.ListAllReviewItems(ctx, certID, f)
}

func (m *meeting) FindIdentityByEmail(ctx context.Context, email string) (*certs.Identity, error) {
	m.arrive("FindIdentityByEmail")
	return m.Tenant.FindIdentityByEmail(ctx, email)
}

// bounded is a context that only keeps a broken test from hanging: reads
// made one after another never meet, and fail when it ends.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGetCertification_readsTogether(t *testing.T) {
	f := setup(t, certs.Policy{})
	f.tenant.AddTask(certs.Task{ID: "task-1", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: certID, Status: certs.TaskQueued})
	m := meet(f.tenant, "ListPendingTasks")
	opts := f.opts
	opts.Tenant = m
	svc := certs.NewService(opts)

	d, err := svc.GetCertification(bounded(t), bob, certID)
	require.NoError(t, err, "the certification and its pending tasks are read together")
	assert.Equal(t, certID, d.ID)
	require.Len(t, d.PendingTasks, 1)
	assert.Equal(t, "task-1", d.PendingTasks[0].ID)
	assert.NotNil(t, d.Requests)
}

func TestGetCertification_theCertificationDecides(t *testing.T) {
	f := setup(t, certs.Policy{})
	ctx := context.Background()
	f.tenant.Fail["ListPendingTasks"] = certs.Errorf(certs.EUNAVAILABLE, "SailPoint did not answer")

	_, err := f.svc.GetCertification(ctx, eve, certID)
	requireCode(t, certs.EFORBIDDEN, err)
	_, err = f.svc.GetCertification(ctx, admin, "cert-unknown")
	requireCode(t, certs.ENOTFOUND, err)
	_, err = f.svc.GetCertification(ctx, bob, certID)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, err.Error(), "pending tasks of certification "+certID)
	_, err = f.svc.GetCertification(ctx, bob, "../x")
	requireCode(t, certs.EINVALID, err)
	assert.Equal(t, 3, f.tenant.Calls("GetCertification"), "an invalid id is never read")
}

func TestPlanReassignment_readsTogether(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   certs.PlanInput
		want []string
	}{
		{"an identity's items", certs.PlanInput{IdentityIDs: []string{"id-ana"}}, []string{"item-a1", "item-a2"}},
		{"items by id", certs.PlanInput{ItemIDs: []string{"item-d1", "item-a1"}}, []string{"item-a1", "item-d1"}},
		{"an identity summary's items", certs.PlanInput{IdentitySummaryIDs: []string{"sum-id-dan"}}, []string{"item-d1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, certs.Policy{})
			m := meet(f.tenant, "ListAllReviewItems", "FindIdentityByEmail", "ListPendingTasks")
			opts := f.opts
			opts.Tenant = m
			svc := certs.NewService(opts)
			in := tc.in
			in.CertificationID, in.Target, in.Reason = certID, "carol.diaz@example.com", "Bob is on leave"

			p, err := svc.PlanReassignment(bounded(t), bob, in)
			require.NoError(t, err, "the certification, its items, the target and the pending tasks are read together")
			var got []string
			for _, r := range p.Refs {
				got = append(got, r.ID)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "id-carol", p.To.ID)
			assert.Contains(t, p.Warnings, `Carol Diaz is not a reviewer in campaign "Q3 Manager Review" yet; ISC will give them a new certification`,
				"the campaign check ran once the certification and the target were known")
		})
	}
}

func TestPlanReassignment_readsAllPagesOnce(t *testing.T) {
	f := setup(t, certs.Policy{})
	addItems(f.tenant, certID, "id-ana", "Ana Silva", 600)
	p, err := f.svc.PlanReassignment(context.Background(), admin, certs.PlanInput{
		CertificationID: certID, IdentityIDs: []string{"id-ana"}, Target: "id-carol", Reason: "Bob is on leave"})
	require.NoError(t, err)
	assert.Equal(t, 602, p.ItemCount)
	assert.Equal(t, 1, f.tenant.Calls("ListAllReviewItems"), "one read of every page")
	assert.Equal(t, 3, f.tenant.Calls("ListReviewItems"), "605 items: 3 pages of 250, the first counting")
}

func TestPlanReassignment_theCertificationDecides(t *testing.T) {
	f := setup(t, certs.Policy{})
	ctx := context.Background()
	f.tenant.Fail["ListReviewItems"] = certs.Errorf(certs.EUNAVAILABLE, "SailPoint did not answer")
	f.tenant.Fail["FindIdentityByEmail"] = certs.Errorf(certs.EUNAVAILABLE, "SailPoint did not answer")
	in := certs.PlanInput{CertificationID: certID, IdentityIDs: []string{"id-ana"}, Target: "carol.diaz@example.com", Reason: "r"}

	_, err := f.svc.PlanReassignment(ctx, eve, in)
	requireCode(t, certs.EFORBIDDEN, err)
	in.CertificationID = "cert-unknown"
	_, err = f.svc.PlanReassignment(ctx, admin, in)
	requireCode(t, certs.ENOTFOUND, err)

	// Then the target, then the items.
	in.CertificationID = certID
	_, err = f.svc.PlanReassignment(ctx, bob, in)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, err.Error(), "find identity by email")
	delete(f.tenant.Fail, "FindIdentityByEmail")
	_, err = f.svc.PlanReassignment(ctx, bob, in)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, err.Error(), "review items of certification "+certID)
	assert.Empty(t, f.store.Events(), "no plan")
}
