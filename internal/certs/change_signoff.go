package certs

import (
	"context"
	"fmt"
)

// Sign-off, the third kind of change: the reviewer signs a certification
// off once every item is decided (signOffIdentityCertification, one
// synchronous call). ISC applies revocations after sign-off. A lost answer
// is settled by reading the certification: signed means applied.
type signOffKind struct{}

func (signOffKind) send(ctx context.Context, t Tenant, p *Plan, _ int) (*Task, error) {
	_, err := t.SignOff(ctx, p.CertificationID)
	return nil, err
}

func (k signOffKind) settle(ctx context.Context, s *Service, r *Request, i int) (settlement, error) {
	return settleByReading(ctx, k, s, r, i, "the certification is signed off")
}

func (signOffKind) applied(ctx context.Context, s *Service, r *Request, _ int) (bool, string, error) {
	c, err := s.opts.Tenant.GetCertification(ctx, r.Plan.CertificationID)
	if err != nil {
		return false, "", err
	}
	if c.Phase == PhaseSigned || c.Signed != nil {
		return true, "", nil
	}
	return false, fmt.Sprintf("the certification is %s, not signed", c.Phase), nil
}

func (signOffKind) done(r *Request, _ int) string {
	if r.Progress().Done == 0 {
		return fmt.Sprintf("Certification %q was not signed off", r.Plan.CertificationName)
	}
	return fmt.Sprintf("Certification %q signed off", r.Plan.CertificationName)
}
