package certs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestFindPeople(t *testing.T) {
	ctx := context.Background()
	names := func(p certs.Page[certs.Identity]) []string {
		var out []string
		for _, i := range p.Items {
			out = append(out, i.Name)
		}
		return out
	}

	t.Run("by the start of a first name, a last name, both, or an email", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"carol", []string{"Carol Diaz"}},
			{"DIAZ", []string{"Carol Diaz"}},
			{"carol d", []string{"Carol Diaz"}},
			{"carol.diaz@", []string{"Carol Diaz"}},
			{"a", []string{"Alice", "Ana Silva"}},
			{"ana s", []string{"Ana Silva"}},
			{"ana x", nil},
			{"nobody", nil},
		} {
			got, err := f.svc.FindPeople(ctx, bob, c.query, 10)
			require.NoError(t, err, c.query)
			assert.Equal(t, c.want, names(got), c.query)
			assert.Equal(t, len(c.want), got.Total, "%s: every match counted", c.query)
		}
	})

	t.Run("a page of matches and how many there are", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		got, err := f.svc.FindPeople(ctx, bob, "a", 1)
		require.NoError(t, err)
		assert.Equal(t, []string{"Alice"}, names(got))
		assert.Equal(t, 2, got.Total)
	})

	t.Run("inactive identities come with their state", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		got, err := f.svc.FindPeople(ctx, bob, "gone", 10)
		require.NoError(t, err)
		require.Len(t, got.Items, 1)
		assert.Equal(t, "id-gone", got.Items[0].ID)
		assert.False(t, got.Items[0].Active())
	})

	t.Run("refusals name what is wrong and ask the tenant nothing", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		for _, c := range []struct {
			name  string
			a     certs.Actor
			query string
			limit int
			code  string
			says  string
		}{
			{"no actor", certs.Actor{}, "bob", 10, certs.EFORBIDDEN, "not identified"},
			{"empty query", bob, " ", 10, certs.EINVALID, "query"},
			{"too many words", bob, "a b c d e", 10, certs.EINVALID, "5 words"},
			{"an email with spaces", bob, "bob @example.com", 10, certs.EINVALID, "@"},
			{"a line break", bob, "bob\nsmith", 10, certs.EINVALID, "query"},
			{"limit 0", bob, "bob", 0, certs.EINVALID, "limit"},
			{"limit too large", bob, "bob", certs.MaxPeopleResults + 1, certs.EINVALID, "limit"},
		} {
			_, err := f.svc.FindPeople(ctx, c.a, c.query, c.limit)
			require.Error(t, err, c.name)
			assert.Equal(t, c.code, certs.ErrorCode(err), c.name)
			assert.Contains(t, certs.ErrorMessage(err), c.says, c.name)
		}
		assert.Zero(t, f.tenant.Calls("SearchIdentities"))
	})

	t.Run("the tenant's failure keeps its code", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		f.tenant.Fail["SearchIdentities"] = certs.Errorf(certs.EUNAVAILABLE, "ISC is down")
		_, err := f.svc.FindPeople(ctx, bob, "bob", 10)
		require.Error(t, err)
		assert.Equal(t, certs.EUNAVAILABLE, certs.ErrorCode(err))
		var ce *certs.Error
		assert.True(t, errors.As(err, &ce))
	})
}
