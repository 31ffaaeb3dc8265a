package certs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestListCertifications(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	soon := t0.Add(24 * time.Hour)
	for _, c := range []certs.Certification{
		{ID: "cert-nodue", Name: "No due date", Phase: certs.PhaseActive, Reviewer: certs.Reviewer{ID: "id-bob"}, Campaign: certs.Campaign{ID: "camp-2"}},
		{ID: "cert-soon", Name: "Soon", Phase: certs.PhaseActive, Due: &soon, Reviewer: certs.Reviewer{ID: "id-bob"}, Campaign: certs.Campaign{ID: "camp-2"}},
		{ID: "cert-dan", Name: "Dan's", Phase: certs.PhaseActive, Due: &soon, Reviewer: certs.Reviewer{ID: "id-dan"}, Campaign: certs.Campaign{ID: "camp-2"}},
		{ID: "cert-done", Name: "Done", Phase: certs.PhaseSigned, Completed: true, Reviewer: certs.Reviewer{ID: "id-bob"}, Campaign: certs.Campaign{ID: "camp-2"}},
	} {
		f.tenant.AddCertification(c)
	}
	ids := func(p certs.Page[certs.Certification]) []string {
		var out []string
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		return out
	}
	open := false

	t.Run("mine, open, due soonest first, no due date last", func(t *testing.T) {
		p, err := f.svc.ListCertifications(ctx, bob, certs.CertificationQuery{Completed: &open})
		require.NoError(t, err)
		assert.Equal(t, []string{"cert-soon", certID, "cert-nodue"}, ids(p))
	})
	t.Run("a reviewer asking for a campaign sees only their own share", func(t *testing.T) {
		p, err := f.svc.ListCertifications(ctx, bob, certs.CertificationQuery{CampaignID: "camp-2", Completed: &open})
		require.NoError(t, err)
		assert.Equal(t, []string{"cert-soon", "cert-nodue"}, ids(p))
	})
	t.Run("an admin sees a whole campaign", func(t *testing.T) {
		p, err := f.svc.ListCertifications(ctx, admin, certs.CertificationQuery{CampaignID: "camp-2"})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"cert-soon", "cert-dan", "cert-nodue", "cert-done"}, ids(p))
	})
	t.Run("an admin may ask for another reviewer's", func(t *testing.T) {
		p, err := f.svc.ListCertifications(ctx, admin, certs.CertificationQuery{Reviewer: "id-dan"})
		require.NoError(t, err)
		assert.Equal(t, []string{"cert-dan"}, ids(p))
	})
	tests := []struct {
		name  string
		actor certs.Actor
		q     certs.CertificationQuery
		code  string
		msg   string
	}{
		{"a reviewer asking for another's", bob, certs.CertificationQuery{Reviewer: "id-dan"}, certs.EFORBIDDEN, "reviewers may list only their own certifications, not those of identity id-dan"},
		{"mine without an identity", unlinked, certs.CertificationQuery{Reviewer: "me"}, certs.EINVALID, "your mcp account is not linked to an ISC identity"},
		{"bad reviewer id", admin, certs.CertificationQuery{Reviewer: "a b"}, certs.EINVALID, `reviewer identity id "a b"`},
		{"limit over 250", admin, certs.CertificationQuery{Page: certs.PageOptions{Limit: 251}}, certs.EINVALID, "limit 251 is outside 0..250"},
		{"an unidentified caller", certs.Actor{}, certs.CertificationQuery{}, certs.EFORBIDDEN, "not identified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.ListCertifications(ctx, tt.actor, tt.q)
			requireCode(t, tt.code, err)
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
		})
	}
}

func TestGetCertification_detail(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	f.tenant.AddTask(certs.Task{ID: "task-x", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: certID, Status: certs.TaskInProgress})

	d, err := f.svc.GetCertification(ctx, bob, certID)
	require.NoError(t, err)
	assert.Equal(t, certName, d.Name)
	assert.InDelta(t, 0.2, d.DecidedFraction, 1e-9, "1 of 5 decisions made")
	require.Len(t, d.PendingTasks, 1)
	assert.Equal(t, "task-x", d.PendingTasks[0].ID)
	require.Len(t, d.Requests, 1)
	assert.Equal(t, r.ID, d.Requests[0].ID)

	_, err = f.svc.GetCertification(ctx, eve, certID)
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, certs.ErrorMessage(err), `you do not review certification "Q3 Manager Review – Bob" (cert-1)`)
	_, err = f.svc.GetCertification(ctx, admin, "cert-missing")
	requireCode(t, certs.ENOTFOUND, err)
}

func TestReads_reviewerScopeAndBulkExportAudit(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	addItems(f.tenant, certID, "id-many", "Many Items", 150)

	t.Run("a small page is not an export", func(t *testing.T) {
		p, err := f.svc.ListReviewItems(ctx, bob, certID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 10}})
		require.NoError(t, err)
		assert.Len(t, p.Items, 10)
		assert.Empty(t, f.store.Events())
	})
	t.Run("100 rows or more are audited as an export", func(t *testing.T) {
		p, err := f.svc.ListReviewItems(ctx, bob, certID, certs.ReviewItemFilter{})
		require.NoError(t, err)
		assert.Len(t, p.Items, 155)
		evs := f.store.Events()
		require.Len(t, evs, 1)
		assert.Equal(t, certs.ActionExport, evs[0].Action)
		assert.Equal(t, 155, evs[0].Count)
		assert.Equal(t, certID, evs[0].CertificationID)
		assert.Equal(t, bob, evs[0].Actor)
	})
	t.Run("a reviewer cannot read another's certification", func(t *testing.T) {
		for name, read := range map[string]func() error{
			"items":     func() error { _, err := f.svc.ListReviewItems(ctx, eve, certID, certs.ReviewItemFilter{}); return err },
			"reviewers": func() error { _, err := f.svc.ListReviewers(ctx, eve, certID, certs.ReviewerFilter{}); return err },
			"permissions": func() error {
				_, err := f.svc.ListItemPermissions(ctx, eve, certID, "item-a1", certs.PermissionFilter{})
				return err
			},
			"pending tasks": func() error { _, err := f.svc.ListPendingTasks(ctx, eve, certID); return err },
		} {
			err := read()
			assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err), "%s: %v", name, err)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		_, err := f.svc.ListReviewItems(ctx, admin, certID, certs.ReviewItemFilter{Entitlements: []string{"e"}, Roles: []string{"r"}})
		requireCode(t, certs.EINVALID, err)
		_, err = f.svc.ListReviewItems(ctx, admin, certID, certs.ReviewItemFilter{AccessType: "GROUP"})
		requireCode(t, certs.EINVALID, err)
		assert.Contains(t, certs.ErrorMessage(err), `access type "GROUP"`)
		_, err = f.svc.ListItemPermissions(ctx, admin, certID, "item/../x", certs.PermissionFilter{})
		requireCode(t, certs.EINVALID, err)
	})
	t.Run("permissions and reviewers", func(t *testing.T) {
		f.tenant.SetPermissions("item-a1", certs.Permission{Rights: []string{"read"}, Target: "db"})
		p, err := f.svc.ListItemPermissions(ctx, bob, certID, "item-a1", certs.PermissionFilter{})
		require.NoError(t, err)
		assert.Equal(t, []certs.Permission{{Rights: []string{"read"}, Target: "db"}}, p.Items)
		rv, err := f.svc.ListReviewers(ctx, bob, certID, certs.ReviewerFilter{})
		require.NoError(t, err)
		assert.Equal(t, "id-bob", rv.Items[0].ID)
	})
}

func TestListCertifications_bulkExportAudited(t *testing.T) {
	f := setup(t, certs.Policy{})
	for i := range 120 {
		f.tenant.AddCertification(certs.Certification{ID: fmt.Sprintf("cert-x%03d", i), Reviewer: certs.Reviewer{ID: "id-dan"}, Campaign: certs.Campaign{ID: "camp-9"}})
	}
	p, err := f.svc.ListCertifications(context.Background(), admin, certs.CertificationQuery{CampaignID: "camp-9"})
	require.NoError(t, err)
	assert.Len(t, p.Items, 120)
	evs := f.store.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, certs.ActionExport, evs[0].Action)
	assert.Equal(t, 120, evs[0].Count)
}

func TestGetTask_reviewerScope(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	f.tenant.AddTask(certs.Task{ID: "task-x", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: certID, Status: certs.TaskSuccess})
	got, err := f.svc.GetTask(ctx, bob, "task-x")
	require.NoError(t, err)
	assert.Equal(t, certs.TaskSuccess, got.Status)
	_, err = f.svc.GetTask(ctx, eve, "task-x")
	requireCode(t, certs.EFORBIDDEN, err)
	_, err = f.svc.GetTask(ctx, admin, "task-none")
	requireCode(t, certs.ENOTFOUND, err)
}

func TestResolveIdentity(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	f.tenant.AddIdentity("id-dup1", "Dup One", "dup@example.com")
	f.tenant.AddIdentity("id-dup2", "Dup Two", "DUP@example.com")
	tests := []struct {
		in, id, code, msg string
	}{
		{"id-carol", "id-carol", "", ""},
		{" carol.diaz@example.com ", "id-carol", "", ""},
		{"", "", certs.EINVALID, "an identity id or email address is required"},
		{"Carol <carol@example.com>", "", certs.EINVALID, "is not a valid email address"},
		{"nobody@example.com", "", certs.ENOTFOUND, `no ISC identity has the email "nobody@example.com"`},
		{"dup@example.com", "", certs.ECONFLICT, "2 identities have the email"},
		{"id nope", "", certs.EINVALID, `identity id "id nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := f.svc.ResolveIdentity(ctx, bob, tt.in)
			if tt.code != "" {
				requireCode(t, tt.code, err)
				assert.Contains(t, certs.ErrorMessage(err), tt.msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, got.ID)
		})
	}
}
