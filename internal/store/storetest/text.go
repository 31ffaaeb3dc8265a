package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// testTextValues: people's text (reasons, details) reaches the store from
// MCP arguments and Slack. Text that one engine cannot hold (PostgreSQL has
// no NUL in text or jsonb, and only UTF-8 in text) is EINVALID on both
// engines, before anything is written: not "database unavailable", and not
// accepted by one engine and refused by the other. Everything else, however
// awkward, round-trips unchanged: what people may write (no controls, no
// text-direction characters) is certs' text policy, applied before the
// store; the store judges only what it cannot hold.
func testTextValues(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)

	t.Run("awkward but valid text round-trips", func(t *testing.T) {
		awkward := `quote " backslash \ literal \u0000 escape, emoji 🙂, RTL שלום, tab	end` +
			"\r\n ESC \x1b, DEL \x7f, override \u202E, isolate \u2066, BOM \uFEFF"
		p := newPlan("plan-text", "cert-1")
		p.Reason = awkward
		require.NoError(t, e.s.SavePlan(ctx, p))
		got, err := e.s.GetPlan(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, awkward, got.Reason)

		r := newRequest("r-text", "cert-1", alice, e.clock.Now())
		r.DecisionReason, r.Error = awkward, awkward
		require.NoError(t, e.s.CreateRequest(ctx, r, certs.Event{Actor: alice, Action: certs.ActionRequestCreated, Detail: awkward}))
		gr, err := e.s.GetRequest(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, awkward, gr.DecisionReason)
		assert.Equal(t, awkward, gr.Error)
		evs, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: r.ID})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, awkward, evs[0].Detail)
	})

	for _, bad := range []struct{ name, text string }{
		{"a NUL character", "on leave\x00"},
		{"invalid UTF-8", "on leave \xff\xfe"},
	} {
		t.Run(bad.name+" in a plan's reason is EINVALID", func(t *testing.T) {
			p := newPlan("plan-bad-"+bad.name, "cert-1")
			p.Reason = bad.text
			p.Calls[0].Reason = bad.text
			err := e.s.SavePlan(ctx, p)
			if bad.name == "invalid UTF-8" && err == nil {
				// JSON keeps it as U+FFFD on both engines: consistent, and
				// nothing is lost that was readable.
				return
			}
			requireCode(t, certs.EINVALID, err)
			_, err = e.s.GetPlan(ctx, p.ID)
			requireCode(t, certs.ENOTFOUND, err)
		})
		t.Run(bad.name+" in an event's detail is EINVALID", func(t *testing.T) {
			err := e.s.AppendEvents(ctx, certs.Event{Actor: bob, Action: certs.ActionExport, Detail: bad.text})
			requireCode(t, certs.EINVALID, err)
		})
		t.Run(bad.name+" in a decision reason is EINVALID and changes nothing", func(t *testing.T) {
			r := create(t, e.s, newRequest("r-bad-"+bad.name, "cert-1", alice, e.clock.Now()))
			_, err := e.s.UpdateRequest(ctx, r.ID, []certs.RequestState{certs.StatePending}, func(cur *certs.Request) error {
				cur.State, cur.DecisionReason = certs.StateDenied, bad.text
				return nil
			}, certs.Event{Actor: carol, Action: certs.ActionRequestDenied, Detail: bad.text})
			requireCode(t, certs.EINVALID, err)
			got, err := e.s.GetRequest(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StatePending, got.State)
			assert.Equal(t, r.Version, got.Version)
		})
	}
}
