package certs

import "context"

// A changeKind is what differs between the kinds of change certops sends to
// ISC; everything else (plan, confirm, decide, submit once, settle, follow,
// audit: lifecycle.go) is shared. Adding a kind is adding one file that
// implements this interface and a case in kindOf.
type changeKind interface {
	// send makes call i of the plan, once. It returns the ISC task to
	// follow, or nil when the call is done when ISC answers (synchronous).
	// Its errors follow the Tenant's mutation contract (tenant.go).
	send(ctx context.Context, t Tenant, p *Plan, i int) (*Task, error)

	// settle reads the tenant to find what became of call i of r, whose
	// answer was lost. It accepts only evidence that belongs to that call
	// and to no other request; when there is none it says why (unsettled).
	settle(ctx context.Context, s *Service, r *Request, i int) (settlement, error)

	// applied reports whether call i's effect is visible in the tenant: for
	// a task ISC no longer knows, and to confirm a task found by settle
	// once it succeeded. why says what was found when it is not.
	applied(ctx context.Context, s *Service, r *Request, i int) (ok bool, why string, err error)

	// done says, for people, what n applied review items of the plan
	// amount to: "51 review items moved to Carol Diaz", "500 of 600 review
	// items moved to Carol Diaz", "Nothing was moved".
	done(r *Request, n int) string
}

// settlement is what settle found.
type settlement struct {
	task    *Task  // the call's task, found in the tenant
	applied bool   // the call's effect, found in the tenant (no task to follow)
	gone    bool   // the certification no longer exists
	why     string // when neither was found: what was found instead
	// evidence says what was found when applied is set: "its 3 review
	// items are with Carol Diaz".
	evidence string
}

// kindOf returns the rules for a plan's kind of change.
func kindOf(p *Plan) changeKind {
	switch p.KindOf() {
	case KindDecide:
		return decideKind{}
	case KindSignOff:
		return signOffKind{}
	}
	return reassignKind{}
}

// settleByReading settles call i of a kind with no task to find: the call
// applied when its effect is visible (applied), with evidence saying so.
func settleByReading(ctx context.Context, k changeKind, s *Service, r *Request, i int, evidence string) (settlement, error) {
	ok, why, err := k.applied(ctx, s, r, i)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return settlement{gone: true}, nil
	case err != nil:
		return settlement{}, err
	case ok:
		return settlement{applied: true, evidence: evidence}, nil
	}
	return settlement{why: why}, nil
}
