package store

import (
	"context"
	"encoding/json"

	"github.com/certops/certops/internal/certs"
)

// SavePlan stores a plan. A plan id already stored is ECONFLICT: plans are
// what approvers approve, so one is never overwritten.
func (c *core) SavePlan(ctx context.Context, p *certs.Plan) error {
	body, err := certs.PreparePlanForSave(p, c.clock())
	if err != nil {
		return err
	}
	return c.withTx(ctx, "save plan", func(t tx) error {
		n, err := t.exec(ctx, `INSERT INTO plans (id, certification_id, created, body)
			VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
			p.ID, p.CertificationID, c.eng.timeArg(p.Created), string(body))
		if err != nil {
			return err
		}
		if n == 0 {
			return certs.Errorf(certs.ECONFLICT, "plan %s already exists", p.ID)
		}
		return nil
	})
}

// GetPlan returns a plan, or ENOTFOUND.
func (c *core) GetPlan(ctx context.Context, id string) (*certs.Plan, error) {
	rs, err := c.eng.query(ctx, `SELECT body FROM plans WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return nil, err
		}
		return nil, certs.Errorf(certs.ENOTFOUND, "plan %s not found", id)
	}
	var body string
	if err := rs.Scan(&body); err != nil {
		return nil, err
	}
	var p certs.Plan
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return nil, corrupt("plan", id, err)
	}
	return &p, nil
}
