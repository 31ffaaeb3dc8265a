package certs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// decideAs plans and confirms decisions on cert-1 as a.
func (f *fixture) decideAs(t *testing.T, a certs.Actor, onBehalf string, ds ...certs.ItemDecision) *certs.Request {
	t.Helper()
	ctx := context.Background()
	p, err := f.svc.PlanDecisions(ctx, a, certs.DecisionInput{CertificationID: certID, Decisions: ds, OnBehalf: onBehalf})
	require.NoError(t, err)
	r, err := f.svc.SubmitPlan(ctx, a, p.ID, p.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateCompleted, r.State, r.Error)
	return r
}

func approve(item string) certs.ItemDecision {
	return certs.ItemDecision{ItemID: item, Decision: certs.DecisionApprove}
}

func revoke(item, why string) certs.ItemDecision {
	return certs.ItemDecision{ItemID: item, Decision: certs.DecisionRevoke, Comments: why}
}

// decided is the fixture after Bob decided two items, Alice (an admin)
// one on his behalf, and Bob changed one of his; item-d2 was decided in
// ISC at setup, item-c1 is open.
func decided(t *testing.T, tweak ...func(*certs.Options)) (*fixture, []*certs.Request) {
	t.Helper()
	f := setup(t, certs.Policy{}, tweak...)
	var rs []*certs.Request
	rs = append(rs, f.decideAs(t, bob, "", approve("item-a1"), revoke("item-d1", "left the team")))
	f.clock.Advance(time.Minute)
	rs = append(rs, f.decideAs(t, alice, "Bob is on leave", approve("item-a2")))
	f.clock.Advance(time.Minute)
	rs = append(rs, f.decideAs(t, bob, "", revoke("item-a1", "no longer\r\nneeded")))
	return f, rs
}

func TestExportReviewEvidence(t *testing.T) {
	ctx := context.Background()
	f, rs := decided(t)
	recs, err := f.svc.ExportReviewEvidence(ctx, bob, certID)
	require.NoError(t, err)

	type row struct {
		item, decision, source, by string
		current                    bool
	}
	var got []row
	for _, r := range recs {
		got = append(got, row{r.ItemID, r.Decision, r.Source, r.DecidedBy, r.Current})
	}
	assert.Equal(t, []row{
		{"item-a1", "APPROVE", "certops", "Bob Smith", false}, // changed later
		{"item-d1", "REVOKE", "certops", "Bob Smith", true},
		{"item-a2", "APPROVE", "certops", "Alice", true},
		{"item-a1", "REVOKE", "certops", "Bob Smith", true},
		{"item-d2", "APPROVE", "isc", "", true}, // decided in ISC
	}, got)

	t.Run("who, through which front end, on whose behalf", func(t *testing.T) {
		r := recs[2]
		assert.Equal(t, "U_ALICE", r.DecidedByID)
		assert.Equal(t, "id-alice", r.DecidedByIdentityID)
		assert.Equal(t, "slack", r.Frontend)
		assert.Equal(t, "admin", r.Role)
		assert.Equal(t, "Bob Smith (id-bob)", r.OnBehalfOf)
		assert.Equal(t, "Bob is on leave", r.OnBehalfReason)
		assert.Equal(t, t0.Add(time.Minute).Format(time.RFC3339Nano), r.DecidedAt)
		assert.Empty(t, recs[0].OnBehalfOf, "the reviewer decides for nobody")
	})

	t.Run("the plan's digest, and the decision event carries it", func(t *testing.T) {
		for i, r := range recs[:4] {
			req := rs[map[int]int{0: 0, 1: 0, 2: 1, 3: 2}[i]]
			assert.Equal(t, req.ID, r.RequestID)
			assert.Equal(t, req.Plan.ID, r.PlanID)
			assert.Equal(t, req.Plan.Digest, r.PlanDigest)
			assert.Equal(t, 1, r.Call)
			require.NotZero(t, r.AuditSeq)
			var ev certs.Event
			for _, e := range f.store.Events() {
				if e.Seq == r.AuditSeq {
					ev = e
				}
			}
			assert.Equal(t, certs.ActionRequestApproved, ev.Action)
			assert.Equal(t, req.ID, ev.RequestID)
			assert.True(t, strings.HasPrefix(ev.Detail, "digest "+req.Plan.Digest+": "), ev.Detail)
			submitted := f.eventsOf(req.ID, certs.ActionTaskSubmitted)
			require.Len(t, submitted, 1)
			assert.True(t, strings.HasSuffix(submitted[0].Detail, "; digest "+req.Plan.Digest), submitted[0].Detail)
		}
	})

	t.Run("the evidence shown", func(t *testing.T) {
		r := recs[1]
		assert.True(t, r.EvidenceShown)
		assert.Equal(t, "id-dan", r.IdentityID)
		assert.Equal(t, "Dan Ray", r.IdentityName)
		assert.Equal(t, "dan@example.com", r.IdentityEmail)
		assert.Equal(t, "ENTITLEMENT", r.AccessType)
		assert.Equal(t, "Access item-d1", r.AccessName)
		assert.Equal(t, "AD", r.AccessSource)
		assert.Equal(t, 0, r.Peers)
		assert.Contains(t, r.Remarks, "the only holder of this access in the certification [no other identity")
		assert.Equal(t, "left the team", r.Comments)
		// The changed decision was shown the one before it.
		assert.Contains(t, recs[3].PriorDecision, "APPROVE by Bob Smith")
		assert.Equal(t, "no longer\nneeded", recs[3].Comments, "line breaks are line feeds")
	})

	t.Run("decided in ISC", func(t *testing.T) {
		r := recs[4]
		assert.False(t, r.EvidenceShown)
		assert.Empty(t, r.RequestID)
		assert.Empty(t, r.DecidedAt)
		assert.Contains(t, r.Note, "not through certops")
		assert.Equal(t, "Dan Ray", r.IdentityName)
	})

	t.Run("the chain verifies and the export is audited with its head", func(t *testing.T) {
		chain, err := certs.VerifyEvidence(recs)
		require.NoError(t, err)
		assert.Equal(t, certs.EvidenceChain{Records: 5, CertificationID: certID, Head: recs[4].Hash}, chain)
		assert.Empty(t, recs[0].Prev)
		for i, r := range recs {
			assert.Equal(t, i+1, r.Seq)
			assert.Equal(t, 5, r.Total)
			assert.Len(t, r.Hash, 64)
			if i > 0 {
				assert.Equal(t, recs[i-1].Hash, r.Prev)
			}
		}
		evs := f.store.Events()
		last := evs[len(evs)-1]
		assert.Equal(t, certs.ActionExport, last.Action)
		assert.Equal(t, bob, last.Actor)
		assert.Equal(t, certID, last.CertificationID)
		assert.Equal(t, 5, last.Count)
		assert.Contains(t, last.Detail, "5 records (4 made through certops, 1 found in ISC), head "+chain.Head)
	})

	t.Run("the same export twice is the same chain", func(t *testing.T) {
		again, err := f.svc.ExportReviewEvidence(ctx, admin, certID)
		require.NoError(t, err)
		assert.Equal(t, recs, again)
	})
}

func TestExportReviewEvidence_whoMayExport(t *testing.T) {
	ctx := context.Background()
	f, _ := decided(t)
	for _, a := range []certs.Actor{bob, admin, alice} {
		_, err := f.svc.ExportReviewEvidence(ctx, a, certID)
		assert.NoError(t, err, "%s", a.ID)
	}
	before := len(f.store.Events())
	for name, a := range map[string]certs.Actor{"another reviewer": eve, "a reviewer with no identity": unlinked, "the item's own identity": {ID: "U_DAN", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-dan"}} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.ExportReviewEvidence(ctx, a, certID)
			requireCode(t, certs.EFORBIDDEN, err)
		})
	}
	assert.Len(t, f.store.Events(), before, "a refused export writes nothing")
	_, err := f.svc.ExportReviewEvidence(ctx, admin, "nope")
	requireCode(t, certs.ENOTFOUND, err)
	_, err = f.svc.ExportReviewEvidence(ctx, admin, "bad id!")
	requireCode(t, certs.EINVALID, err)
}

// appendFails is a Store whose AppendEvents fails while fail is set.
type appendFails struct {
	certs.Store
	fail *atomic.Bool
}

func (s appendFails) AppendEvents(ctx context.Context, evs ...certs.Event) error {
	if s.fail.Load() {
		return errors.New("database down")
	}
	return s.Store.AppendEvents(ctx, evs...)
}

func TestExportReviewEvidence_unauditedExportReturnsNothing(t *testing.T) {
	var fail atomic.Bool
	f, _ := decided(t, func(o *certs.Options) { o.Store = appendFails{o.Store, &fail} })
	fail.Store(true)
	recs, err := f.svc.ExportReviewEvidence(context.Background(), bob, certID)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, certs.ErrorMessage(err), "nothing is returned")
	assert.Nil(t, recs)
}

func TestExportReviewEvidence_signOff(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	f.decideAs(t, bob, "", approve("item-a1"), approve("item-a2"), approve("item-d1"), revoke("item-c1", "contractor gone"))
	p, err := f.svc.PlanSignOff(ctx, bob, certID, "")
	require.NoError(t, err)
	r, err := f.svc.SubmitPlan(ctx, bob, p.ID, p.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateCompleted, r.State, r.Error)

	recs, err := f.svc.ExportReviewEvidence(ctx, bob, certID)
	require.NoError(t, err)
	require.Len(t, recs, 6, "4 decisions through certops, 1 in ISC, the sign-off")
	last := recs[5]
	assert.Equal(t, certs.EvidenceKindSignOff, last.Kind)
	assert.Equal(t, certs.EvidenceSourceCertops, last.Source)
	assert.Equal(t, p.Digest, last.PlanDigest)
	assert.Equal(t, "Bob Smith", last.DecidedBy)
	assert.True(t, last.Current)
	_, err = certs.VerifyEvidence(recs)
	require.NoError(t, err)
}

func TestExportReviewEvidence_signedInISC(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	f.decideAs(t, bob, "", approve("item-a1"), approve("item-a2"), approve("item-d1"), approve("item-c1"))
	_, err := f.tenant.SignOff(ctx, certID)
	require.NoError(t, err)
	recs, err := f.svc.ExportReviewEvidence(ctx, admin, certID)
	require.NoError(t, err)
	last := recs[len(recs)-1]
	assert.Equal(t, certs.EvidenceKindSignOff, last.Kind)
	assert.Equal(t, certs.EvidenceSourceISC, last.Source)
	assert.Equal(t, t0.Format(time.RFC3339Nano), last.DecidedAt)
	assert.Contains(t, last.Note, "signed off in ISC")
}

func TestExportReviewEvidence_nothingDecided(t *testing.T) {
	f := setup(t, certs.Policy{})
	f.tenant.AddCertification(certs.Certification{ID: "cert-2", Name: "Empty", Phase: certs.PhaseActive,
		Reviewer: certs.Reviewer{ID: "id-bob", Name: "Bob Smith", Type: certs.ReviewerIdentity}})
	f.tenant.AddItems("cert-2", item("item-x", "id-ana", "Ana Silva", false))
	recs, err := f.svc.ExportReviewEvidence(context.Background(), bob, "cert-2")
	require.NoError(t, err)
	assert.Empty(t, recs)
	chain, err := certs.VerifyEvidence(recs)
	require.NoError(t, err)
	assert.Zero(t, chain.Records)
}

// sampleChain is a chained export of n records, made through the service.
func sampleChain(t *testing.T) []certs.EvidenceRecord {
	t.Helper()
	f, _ := decided(t)
	recs, err := f.svc.ExportReviewEvidence(context.Background(), bob, certID)
	require.NoError(t, err)
	require.Len(t, recs, 5)
	return recs
}

func TestVerifyEvidence_findsTheFirstBrokenLink(t *testing.T) {
	recs := sampleChain(t)
	tests := []struct {
		name   string
		tamper func([]certs.EvidenceRecord) []certs.EvidenceRecord
		record int
		reason string
	}{
		{"a comment altered", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[1].Comments = "still needed"
			return r
		}, 2, "it was altered"},
		{"a decision altered", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[3].Decision = "APPROVE"
			return r
		}, 4, "it was altered"},
		{"a boolean altered", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[0].Privileged = !r[0].Privileged
			return r
		}, 1, "it was altered"},
		{"the first record removed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord { return r[1:] },
			1, "does not start with its first record"},
		{"a middle record removed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord { return append(r[:2:2], r[3:]...) },
			3, "record 3, which came before it, is missing"},
		{"two records removed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord { return append(r[:1:1], r[3:]...) },
			2, "records 2 to 3, which came before it, are missing"},
		{"the last record removed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord { return r[:4] },
			5, "declares 5 records and ends after 4: record 5 is missing"},
		{"two records swapped", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[1], r[2] = r[2], r[1]
			return r
		}, 2, "out of order: record 3 is at position 2; record 2 is at position 3"},
		{"the first two swapped", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[0], r[1] = r[1], r[0]
			return r
		}, 1, "out of order: record 2 is at position 1; record 1 is at position 2"},
		{"a record duplicated", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			return append(r[:3:3], append([]certs.EvidenceRecord{r[1]}, r[3:]...)...)
		}, 4, "record 2 appears a second time (first at position 2)"},
		{"a record altered and rehashed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[2].Comments = "looks fine"
			r[2] = rehash(t, r[2])
			return r
		}, 3, "replaced, or altered and its hash recomputed"},
		{"a record appended with its hash", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			extra := r[4]
			extra.Seq, extra.Prev, extra.ItemID = 6, r[4].Hash, "item-forged"
			return append(r, rehash(t, extra))
		}, 6, "declares only 5 records"},
		{"the hash removed", func(r []certs.EvidenceRecord) []certs.EvidenceRecord {
			r[0].Hash = ""
			return r
		}, 1, "it was altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := append([]certs.EvidenceRecord(nil), recs...)
			_, err := certs.VerifyEvidence(tt.tamper(cp))
			var br *certs.EvidenceBreak
			require.ErrorAs(t, err, &br)
			assert.Equal(t, tt.record, br.Record, err.Error())
			assert.Contains(t, br.Reason, tt.reason)
			assert.Contains(t, err.Error(), "the chain breaks at record")
		})
	}
	_, err := certs.VerifyEvidence(recs)
	assert.NoError(t, err, "the tests altered copies only")
}

// rehash recomputes a record's hash the way anyone could: SHA-256 over
// the netstrings of the schema and the values (the doc's rule), through
// the public API only.
func rehash(t *testing.T, r certs.EvidenceRecord) certs.EvidenceRecord {
	t.Helper()
	r.Hash = ""
	vals := r.Values()
	cols := certs.EvidenceColumns()
	require.Equal(t, "hash", cols[len(cols)-1])
	r.Hash = netstringHash(append([]string{certs.EvidenceSchema}, vals[:len(vals)-1]...))
	return r
}

// netstringHash is SHA-256, in hex, over the netstrings of vals.
func netstringHash(vals []string) string {
	h := sha256.New()
	for _, v := range vals {
		fmt.Fprintf(h, "%d:%s,", len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestEvidenceRecord_valuesRoundTripAndNameEveryField(t *testing.T) {
	recs := sampleChain(t)
	cols := certs.EvidenceColumns()
	typ := reflect.TypeOf(certs.EvidenceRecord{})
	require.Equal(t, typ.NumField(), len(cols), "every field is a column")
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		assert.Equal(t, cols[i], tag, "field %s: its JSON name is its column, in order", typ.Field(i).Name)
	}
	for _, r := range recs {
		back, err := certs.ParseEvidenceRecord(r.Values())
		require.NoError(t, err)
		assert.Equal(t, r, back)
		// And the documented hash rule is the one in use.
		assert.Equal(t, r.Hash, rehash(t, r).Hash)
		// JSON carries the same values under the column names.
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		assert.Len(t, m, len(cols))
	}
	vals := recs[0].Values()
	for _, tt := range []struct {
		col, value, want string
	}{
		{"seq", "one", "column seq"},
		{"peers", "-1", "column peers"},
		{"current", "yes", "column current"},
		{"audit_seq", "1.5", "column audit_seq"},
	} {
		bad := append([]string(nil), vals...)
		for i, c := range cols {
			if c == tt.col {
				bad[i] = tt.value
			}
		}
		_, err := certs.ParseEvidenceRecord(bad)
		requireCode(t, certs.EINVALID, err)
		assert.Contains(t, certs.ErrorMessage(err), tt.want)
	}
	_, err := certs.ParseEvidenceRecord(vals[1:])
	requireCode(t, certs.EINVALID, err)
}
