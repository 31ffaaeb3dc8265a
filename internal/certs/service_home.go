package certs

import "context"

// MyRequests are the pending requests that concern a person: those they
// filed, waiting for an approver, and those waiting for their own decision
// as an approver. A front end's home page shows them (the Slack bot's App
// Home).
type MyRequests struct {
	Filed, ToDecide []*Request
}

// myRequestsLimit bounds the pending requests read for one person's home.
const myRequestsLimit = 500

// MyPendingRequests returns the pending reassignment requests the actor filed and those
// waiting for their decision, newest first; requests past their expiry
// (not yet expired by the worker) are left out.
func (s *Service) MyPendingRequests(ctx context.Context, a Actor) (MyRequests, error) {
	var out MyRequests
	if err := checkActor(a); err != nil {
		return out, err
	}
	reqs, err := s.opts.Store.ListRequests(ctx, RequestFilter{States: []RequestState{StatePending}, Limit: myRequestsLimit})
	if err != nil {
		return out, err
	}
	now := s.now()
	for _, r := range reqs {
		if (r.Plan.Kind != "" && r.Plan.Kind != KindReassign) || (!r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)) {
			continue
		}
		switch {
		case r.Requester.Same(a) || a.Same(r.Requester):
			out.Filed = append(out.Filed, r)
		case isApprover(a, r):
			out.ToDecide = append(out.ToDecide, r)
		}
	}
	return out, nil
}
