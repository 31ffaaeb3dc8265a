package certs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// namedTenant answers GetCertification with its own name.
type namedTenant struct {
	certs.Tenant
	name string
}

func (n namedTenant) GetCertification(context.Context, string) (*certs.Certification, error) {
	return &certs.Certification{ID: n.name}, nil
}

func TestPersonRouter(t *testing.T) {
	svc, alice := namedTenant{name: "service"}, namedTenant{name: "alice"}
	ctx := t.Context()
	asAlice := certs.WithPersonTenant(ctx, alice)
	via := func(r certs.PersonRouter, ctx context.Context) (string, error) {
		c, err := r.GetCertification(ctx, "x")
		if err != nil {
			return "", err
		}
		return c.ID, nil
	}
	for _, required := range []bool{false, true} {
		r := certs.PersonRouter{Service: svc, Required: required}
		got, err := via(r, asAlice)
		require.NoError(t, err)
		assert.Equal(t, "alice", got, "a person's call goes with their own tenant")

		got, err = via(r, certs.Background(asAlice))
		require.NoError(t, err)
		assert.Equal(t, "service", got, "background work uses the service client")

		got, err = via(r, certs.AsService(asAlice))
		require.NoError(t, err)
		assert.Equal(t, "service", got)

		got, err = via(r, ctx)
		if required {
			require.Error(t, err)
			assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err))
			assert.Contains(t, err.Error(), "sign in with SailPoint")
		} else {
			require.NoError(t, err)
			assert.Equal(t, "service", got, "email mode: everything as before")
		}
	}
	_, ok := certs.PersonTenant(ctx)
	assert.False(t, ok)
}
