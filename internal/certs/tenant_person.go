package certs

import "context"

// Acting as the person (CERTOPS_IDENTITY=oauth). A person who signed in with
// SailPoint has a Tenant of their own (internal/signin: a sailpoint client
// with their token and their own pacer). The front end that authenticated
// them puts it in the context of their call (WithPersonTenant); the Service
// is given a PersonRouter as its Tenant, which sends each ISC call to the
// Tenant in the call's context:
//
//   - the person's, when the context carries one and is not Background;
//   - the service client (Router.Service) for background work that no
//     person is waiting for (Background: the worker following a task, the
//     notifier, the reminder sweep), and for calls marked AsService;
//   - otherwise the service client too, unless Required, when the call is
//     refused EFORBIDDEN with ErrSignInRequired's message (oauth mode: no
//     person's call silently goes out with the service's rights).
//
// So the Service itself changes nothing: its rules (a reviewer sees their
// own certifications) still hold on top of what ISC lets the person see.
// A call the Service continues after the person's request returned (a
// submission carried on with context.WithoutCancel) keeps their Tenant;
// one the worker takes over uses the service client.

type personTenantKey struct{}
type asServiceKey struct{}

// WithPersonTenant returns ctx carrying t, the Tenant that acts as the
// person on whose behalf the call runs.
func WithPersonTenant(ctx context.Context, t Tenant) context.Context {
	return context.WithValue(ctx, personTenantKey{}, t)
}

// PersonTenant returns the person's Tenant ctx carries, if any.
func PersonTenant(ctx context.Context) (Tenant, bool) {
	t, ok := ctx.Value(personTenantKey{}).(Tenant)
	return t, ok && t != nil
}

// AsService marks ctx's calls as made by certops itself, with the service
// client, although someone may be waiting (e.g. finding who a Slack user is
// before they signed in). Unlike Background it keeps the interactive lane.
func AsService(ctx context.Context) context.Context {
	return context.WithValue(ctx, asServiceKey{}, true)
}

// ErrSignInRequired is the message of the EFORBIDDEN a Required
// PersonRouter answers a person's call without their Tenant with.
const ErrSignInRequired = "sign in with SailPoint first: certops acts in ISC as you, with your own SailPoint sign-in"

// PersonRouter is a Tenant that sends each call to the Tenant of the person
// it is for, or to Service (see the rules above).
type PersonRouter struct {
	Service Tenant
	// Required refuses a person's call without their Tenant (EFORBIDDEN)
	// instead of making it with Service.
	Required bool
}

var _ Tenant = PersonRouter{}

// For returns the Tenant a call with ctx goes to.
func (r PersonRouter) For(ctx context.Context) (Tenant, error) {
	if IsBackground(ctx) {
		return r.Service, nil
	}
	if s, _ := ctx.Value(asServiceKey{}).(bool); s {
		return r.Service, nil
	}
	if t, ok := PersonTenant(ctx); ok {
		return t, nil
	}
	if r.Required {
		return nil, Errorf(EFORBIDDEN, "%s", ErrSignInRequired)
	}
	return r.Service, nil
}

func (r PersonRouter) ListCertifications(ctx context.Context, f CertificationFilter) (Page[Certification], error) {
	t, err := r.For(ctx)
	if err != nil {
		return Page[Certification]{}, err
	}
	return t.ListCertifications(ctx, f)
}

func (r PersonRouter) GetCertification(ctx context.Context, id string) (*Certification, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.GetCertification(ctx, id)
}

func (r PersonRouter) ListAllCertifications(ctx context.Context, f CertificationFilter) ([]Certification, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.ListAllCertifications(ctx, f)
}

func (r PersonRouter) ListReviewers(ctx context.Context, certID string, f ReviewerFilter) (Page[IdentityRef], error) {
	t, err := r.For(ctx)
	if err != nil {
		return Page[IdentityRef]{}, err
	}
	return t.ListReviewers(ctx, certID, f)
}

func (r PersonRouter) ListReviewItems(ctx context.Context, certID string, f ReviewItemFilter) (Page[ReviewItem], error) {
	t, err := r.For(ctx)
	if err != nil {
		return Page[ReviewItem]{}, err
	}
	return t.ListReviewItems(ctx, certID, f)
}

func (r PersonRouter) ListAllReviewItems(ctx context.Context, certID string, f ReviewItemFilter) ([]ReviewItem, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.ListAllReviewItems(ctx, certID, f)
}

func (r PersonRouter) ListItemPermissions(ctx context.Context, certID, itemID string, f PermissionFilter) (Page[Permission], error) {
	t, err := r.For(ctx)
	if err != nil {
		return Page[Permission]{}, err
	}
	return t.ListItemPermissions(ctx, certID, itemID, f)
}

func (r PersonRouter) Reassign(ctx context.Context, re Reassignment) (*Certification, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.Reassign(ctx, re)
}

func (r PersonRouter) ReassignAsync(ctx context.Context, re Reassignment) (*Task, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.ReassignAsync(ctx, re)
}

func (r PersonRouter) Decide(ctx context.Context, certID string, decisions []ItemDecision) (*Certification, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.Decide(ctx, certID, decisions)
}

func (r PersonRouter) SignOff(ctx context.Context, certID string) (*Certification, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.SignOff(ctx, certID)
}

func (r PersonRouter) GetTask(ctx context.Context, taskID string) (*Task, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.GetTask(ctx, taskID)
}

func (r PersonRouter) ListPendingTasks(ctx context.Context, certID string) ([]Task, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.ListPendingTasks(ctx, certID)
}

func (r PersonRouter) GetIdentity(ctx context.Context, id string) (*Identity, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.GetIdentity(ctx, id)
}

func (r PersonRouter) FindIdentityByEmail(ctx context.Context, email string) (*Identity, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.FindIdentityByEmail(ctx, email)
}

func (r PersonRouter) ListIdentities(ctx context.Context, ids []string) ([]Identity, error) {
	t, err := r.For(ctx)
	if err != nil {
		return nil, err
	}
	return t.ListIdentities(ctx, ids)
}

func (r PersonRouter) SearchIdentities(ctx context.Context, s IdentitySearch) (Page[Identity], error) {
	t, err := r.For(ctx)
	if err != nil {
		return Page[Identity]{}, err
	}
	return t.SearchIdentities(ctx, s)
}
