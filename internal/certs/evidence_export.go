package certs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Evidence for auditors: a certification's decisions, each with who made
// it, through which front end, on whose behalf and why, the digest of the
// plan they confirmed, and the evidence they were shown (evidence.go, kept
// in the plan). ExportReviewEvidence returns them as records; the
// formats (CSV, JSON Lines) are internal/export's, and both carry exactly
// the fields below, so either one verifies the same way.
//
// Which records, in this order:
//
//  1. every decision applied through certops (a decision plan's call that
//     ISC accepted), oldest decision first, source "certops". A decision
//     changed later is a second record; only the last record of an item
//     whose decision ISC still holds is current;
//  2. every decision ISC holds that no applied certops decision explains
//     (made in SailPoint's UI, or by a certops call whose answer was lost
//     and never confirmed), in the certification's item order, source
//     "isc": ISC's items do not say who decided or when, so those fields
//     are empty and the note says why;
//  3. the sign-off, when there is one: through certops, or else "isc".
//
// The chain. Records are numbered from 1 (seq) and each says how many the
// export holds (total). Each record's prev is the hash of the record
// before it ("" for the first) and its hash is SHA-256, in lower-case hex,
// over the netstrings (len ":" bytes ",", len in decimal bytes) of
// EvidenceSchema then of every field's value in EvidenceColumns order
// except hash itself, values written as in CSV: text as is, numbers in
// decimal, booleans as true or false. Anyone can recompute it without
// certops. An altered record no longer matches its hash; a removed,
// inserted or reordered one breaks the next record's prev or the total.
// A chain proves the file is whole and unchanged since it was written, as
// far as someone who could rewrite every record could not: for that, the
// export's own audit event (data.exported) records the certification, the
// record count and the last hash (the head) in certops's audit trail,
// which VerifyEvidence's answer can be compared with.
//
// Who may export: the certification's reviewer and admins, nobody else
// (EFORBIDDEN). Auditors are admins in certops today: there is no
// read-only auditor role, so an auditor is given an admin MCP token, an
// entry in SLACK_ADMINS, or runs certops-audit with the deployment's
// credentials.

// EvidenceSchema names the record layout and the hash rule: a record's
// hash is SHA-256, in lower-case hex, over the netstrings (len ":" bytes
// ",") of EvidenceSchema, then of each value in EvidenceColumns order but
// hash's. Hashed first, it keeps a record of another layout from
// verifying as this one.
const EvidenceSchema = "certops.evidence.v1"

// Record kinds and sources.
const (
	EvidenceKindDecision = "decision"
	EvidenceKindSignOff  = "sign_off"

	EvidenceSourceCertops = "certops" // made through certops (MCP, Slack)
	EvidenceSourceISC     = "isc"     // found in ISC, not made through certops
)

// EvidenceRecord is one decision (or the sign-off) and its evidence, flat:
// every field is text, a number or a boolean, so CSV and JSON Lines carry
// the same values. The JSON names are the CSV columns.
type EvidenceRecord struct {
	Seq               int    `json:"seq"`   // position in the export, from 1
	Total             int    `json:"total"` // records in the export
	CertificationID   string `json:"certification_id"`
	CertificationName string `json:"certification_name"`
	Campaign          string `json:"campaign"`
	ReviewerID        string `json:"reviewer_id"` // the certification's reviewer
	ReviewerName      string `json:"reviewer_name"`
	Kind              string `json:"kind"`   // decision or sign_off
	Source            string `json:"source"` // certops or isc

	ItemID          string `json:"item_id"`
	IdentityID      string `json:"identity_id"` // whose access the item reviews
	IdentityName    string `json:"identity_name"`
	IdentityEmail   string `json:"identity_email"`
	Manager         string `json:"manager"` // "Name <email>", as shown
	AccessType      string `json:"access_type"`
	AccessID        string `json:"access_id"`
	AccessName      string `json:"access_name"`
	AccessSource    string `json:"access_source"`
	Decision        string `json:"decision"` // APPROVE or REVOKE; empty for a sign-off
	Comments        string `json:"comments"`
	ProposedEndDate string `json:"proposed_end_date"` // RFC 3339, revokes only
	// Current: ISC holds this decision now (or, for a sign-off, the
	// certification is signed).
	Current bool `json:"current"`

	DecidedBy           string `json:"decided_by"`    // the person's name
	DecidedByID         string `json:"decided_by_id"` // their front end's id: Slack user, MCP token name
	DecidedByIdentityID string `json:"decided_by_identity_id"`
	Frontend            string `json:"frontend"`     // mcp, slack, cli
	Role                string `json:"role"`         // admin or reviewer
	OnBehalfOf          string `json:"on_behalf_of"` // the reviewer an admin decided for
	OnBehalfReason      string `json:"on_behalf_reason"`
	DecidedAt           string `json:"decided_at"` // when the person confirmed (RFC 3339, UTC)
	SentAt              string `json:"sent_at"`    // when the call was sent to ISC
	RequestID           string `json:"request_id"`
	PlanID              string `json:"plan_id"`
	PlanDigest          string `json:"plan_digest"` // the digest the person confirmed
	Call                int    `json:"call"`        // the plan's ISC call that carried it, from 1
	AuditSeq            int64  `json:"audit_seq"`   // the request.approved event's seq

	// What the person was shown when they planned the decision.
	EvidenceShown bool   `json:"evidence_shown"` // false: no evidence kept (isc, sign-off, older plans)
	Peers         int    `json:"peers"`          // others in the certification holding the same access
	Privileged    bool   `json:"privileged"`
	NewAccess     bool   `json:"new_access"`
	Reassigned    string `json:"reassigned"`     // how the item came to the reviewer
	PriorDecision string `json:"prior_decision"` // a decision already made on it
	Remarks       string `json:"remarks"`        // "text [fact; fact] | …"

	Note string `json:"note"` // what else an auditor should know about the record
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// evidenceFields lists the record's fields in column (and hash) order.
var evidenceFields = []struct {
	name string
	ptr  func(*EvidenceRecord) any // *string, *int, *int64 or *bool
}{
	{"seq", func(r *EvidenceRecord) any { return &r.Seq }},
	{"total", func(r *EvidenceRecord) any { return &r.Total }},
	{"certification_id", func(r *EvidenceRecord) any { return &r.CertificationID }},
	{"certification_name", func(r *EvidenceRecord) any { return &r.CertificationName }},
	{"campaign", func(r *EvidenceRecord) any { return &r.Campaign }},
	{"reviewer_id", func(r *EvidenceRecord) any { return &r.ReviewerID }},
	{"reviewer_name", func(r *EvidenceRecord) any { return &r.ReviewerName }},
	{"kind", func(r *EvidenceRecord) any { return &r.Kind }},
	{"source", func(r *EvidenceRecord) any { return &r.Source }},
	{"item_id", func(r *EvidenceRecord) any { return &r.ItemID }},
	{"identity_id", func(r *EvidenceRecord) any { return &r.IdentityID }},
	{"identity_name", func(r *EvidenceRecord) any { return &r.IdentityName }},
	{"identity_email", func(r *EvidenceRecord) any { return &r.IdentityEmail }},
	{"manager", func(r *EvidenceRecord) any { return &r.Manager }},
	{"access_type", func(r *EvidenceRecord) any { return &r.AccessType }},
	{"access_id", func(r *EvidenceRecord) any { return &r.AccessID }},
	{"access_name", func(r *EvidenceRecord) any { return &r.AccessName }},
	{"access_source", func(r *EvidenceRecord) any { return &r.AccessSource }},
	{"decision", func(r *EvidenceRecord) any { return &r.Decision }},
	{"comments", func(r *EvidenceRecord) any { return &r.Comments }},
	{"proposed_end_date", func(r *EvidenceRecord) any { return &r.ProposedEndDate }},
	{"current", func(r *EvidenceRecord) any { return &r.Current }},
	{"decided_by", func(r *EvidenceRecord) any { return &r.DecidedBy }},
	{"decided_by_id", func(r *EvidenceRecord) any { return &r.DecidedByID }},
	{"decided_by_identity_id", func(r *EvidenceRecord) any { return &r.DecidedByIdentityID }},
	{"frontend", func(r *EvidenceRecord) any { return &r.Frontend }},
	{"role", func(r *EvidenceRecord) any { return &r.Role }},
	{"on_behalf_of", func(r *EvidenceRecord) any { return &r.OnBehalfOf }},
	{"on_behalf_reason", func(r *EvidenceRecord) any { return &r.OnBehalfReason }},
	{"decided_at", func(r *EvidenceRecord) any { return &r.DecidedAt }},
	{"sent_at", func(r *EvidenceRecord) any { return &r.SentAt }},
	{"request_id", func(r *EvidenceRecord) any { return &r.RequestID }},
	{"plan_id", func(r *EvidenceRecord) any { return &r.PlanID }},
	{"plan_digest", func(r *EvidenceRecord) any { return &r.PlanDigest }},
	{"call", func(r *EvidenceRecord) any { return &r.Call }},
	{"audit_seq", func(r *EvidenceRecord) any { return &r.AuditSeq }},
	{"evidence_shown", func(r *EvidenceRecord) any { return &r.EvidenceShown }},
	{"peers", func(r *EvidenceRecord) any { return &r.Peers }},
	{"privileged", func(r *EvidenceRecord) any { return &r.Privileged }},
	{"new_access", func(r *EvidenceRecord) any { return &r.NewAccess }},
	{"reassigned", func(r *EvidenceRecord) any { return &r.Reassigned }},
	{"prior_decision", func(r *EvidenceRecord) any { return &r.PriorDecision }},
	{"remarks", func(r *EvidenceRecord) any { return &r.Remarks }},
	{"note", func(r *EvidenceRecord) any { return &r.Note }},
	{"prev", func(r *EvidenceRecord) any { return &r.Prev }},
	{"hash", func(r *EvidenceRecord) any { return &r.Hash }},
}

// EvidenceColumns returns the record's field names in column order: the
// CSV header and the JSON names.
func EvidenceColumns() []string {
	out := make([]string, len(evidenceFields))
	for i, f := range evidenceFields {
		out[i] = f.name
	}
	return out
}

// Values returns the record's field values in EvidenceColumns order, as
// text: numbers in decimal, booleans as true or false.
func (r EvidenceRecord) Values() []string {
	out := make([]string, len(evidenceFields))
	for i, f := range evidenceFields {
		out[i] = formatEvidenceValue(f.ptr(&r))
	}
	return out
}

func formatEvidenceValue(p any) string {
	switch v := p.(type) {
	case *string:
		return *v
	case *int:
		return strconv.Itoa(*v)
	case *int64:
		return strconv.FormatInt(*v, 10)
	case *bool:
		return strconv.FormatBool(*v)
	}
	panic(fmt.Sprintf("certs: evidence field of type %T", p))
}

// ParseEvidenceRecord is Values' inverse: values in EvidenceColumns order.
// Errors: EINVALID naming the column whose value is not of its kind.
func ParseEvidenceRecord(values []string) (EvidenceRecord, error) {
	var r EvidenceRecord
	if len(values) != len(evidenceFields) {
		return r, Errorf(EINVALID, "a record has %d fields, not %d", len(values), len(evidenceFields))
	}
	for i, f := range evidenceFields {
		v := values[i]
		switch p := f.ptr(&r).(type) {
		case *string:
			*p = v
		case *int:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return r, Errorf(EINVALID, "column %s: %q is not a whole number", f.name, v)
			}
			*p = n
		case *int64:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return r, Errorf(EINVALID, "column %s: %q is not a whole number", f.name, v)
			}
			*p = n
		case *bool:
			switch v {
			case "true":
				*p = true
			case "false":
				*p = false
			default:
				return r, Errorf(EINVALID, "column %s: %q is neither true nor false", f.name, v)
			}
		}
	}
	return r, nil
}

// computeHash is the record's hash: SHA-256 over the netstrings of
// EvidenceSchema and of every value but hash's.
func (r EvidenceRecord) computeHash() string {
	h := sha256.New()
	netstring(h, EvidenceSchema)
	for i, v := range r.Values() {
		if evidenceFields[i].name == "hash" {
			continue
		}
		netstring(h, v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func netstring(h hash.Hash, s string) {
	h.Write([]byte(strconv.Itoa(len(s))))
	h.Write([]byte{':'})
	h.Write([]byte(s))
	h.Write([]byte{','})
}

// ChainEvidence numbers records from 1, sets their total and links each to
// the one before (prev, hash), as ExportReviewEvidence does. Tools and
// tests that build an export of their own use it.
func ChainEvidence(records []EvidenceRecord) {
	prev := ""
	for i := range records {
		r := &records[i]
		r.Seq, r.Total, r.Prev = i+1, len(records), prev
		r.Hash = r.computeHash()
		prev = r.Hash
	}
}

// EvidenceChain is what a verified export holds.
type EvidenceChain struct {
	Records         int    `json:"records"`
	CertificationID string `json:"certificationId,omitempty"`
	// Head is the last record's hash: compare it with the export's
	// data.exported event in the audit trail.
	Head string `json:"head,omitempty"`
}

// EvidenceBreak is the first broken link of an export's chain.
type EvidenceBreak struct {
	// Record is the position in the export (from 1) of the first record
	// that does not verify; Total+1 (one past the last) when records are
	// missing from the end.
	Record int
	Seq    int    // that record's own seq (0 when it is missing)
	ItemID string // its review item, if any
	Reason string
}

func (b *EvidenceBreak) Error() string {
	what := fmt.Sprintf("record %d", b.Record)
	if b.Seq != 0 && b.Seq != b.Record {
		what += fmt.Sprintf(" (seq %d)", b.Seq)
	}
	if b.ItemID != "" {
		what += ", item " + b.ItemID
	}
	return fmt.Sprintf("the chain breaks at %s: %s", what, b.Reason)
}

// VerifyEvidence checks an export's records, in the order read, and
// returns what they hold, or an *EvidenceBreak naming the first record
// that was altered, or that follows a removed, inserted or reordered one.
// An export of no records verifies, holding nothing.
func VerifyEvidence(records []EvidenceRecord) (EvidenceChain, error) {
	if len(records) == 0 {
		return EvidenceChain{}, nil
	}
	first := records[0]
	broken := func(i int, reason string, args ...any) error {
		r := records[i]
		return &EvidenceBreak{Record: i + 1, Seq: r.Seq, ItemID: r.ItemID, Reason: fmt.Sprintf(reason, args...)}
	}
	prev := ""
	for i, r := range records {
		pos := i + 1
		if r.Hash != r.computeHash() {
			return EvidenceChain{}, broken(i, "it was altered: its hash does not match its content")
		}
		if r.Prev != prev {
			switch {
			case i == 0 && seqAt(records, 1) > 0:
				return EvidenceChain{}, broken(i, "records are out of order: record %d is at position 1; record 1 is at position %d", r.Seq, seqAt(records, 1)+1)
			case i == 0:
				return EvidenceChain{}, broken(i, "the export does not start with its first record: records before it were removed")
			case r.Seq > pos && seqAt(records, pos) < 0:
				return EvidenceChain{}, broken(i, "%s, which came before it, %s missing (removed)", seqRange(pos, r.Seq-1), pluralVerb(r.Seq-pos))
			case r.Seq < pos && seqAt(records[:i], r.Seq) >= 0:
				return EvidenceChain{}, broken(i, "record %d appears a second time (first at position %d)", r.Seq, seqAt(records[:i], r.Seq)+1)
			case r.Seq != pos:
				where := ""
				if j := seqAt(records, pos); j >= 0 {
					where = fmt.Sprintf("; record %d is at position %d", pos, j+1)
				}
				return EvidenceChain{}, broken(i, "records are out of order: record %d is at position %d%s", r.Seq, pos, where)
			default:
				// The record before verifies on its own but is not the one
				// this record was chained to.
				return EvidenceChain{}, broken(i-1, "the next record's prev is not its hash: it was replaced, or altered and its hash recomputed")
			}
		}
		switch {
		case r.Total != first.Total:
			return EvidenceChain{}, broken(i, "it says the export holds %d records; the first record says %d", r.Total, first.Total)
		case r.Seq != pos:
			return EvidenceChain{}, broken(i, "its seq is %d at position %d", r.Seq, pos)
		case r.Seq > r.Total:
			return EvidenceChain{}, broken(i, "the export declares only %d records: it was added", r.Total)
		case r.CertificationID != first.CertificationID:
			return EvidenceChain{}, broken(i, "it is of certification %s, not %s", r.CertificationID, first.CertificationID)
		}
		prev = r.Hash
	}
	if n := len(records); n < first.Total {
		return EvidenceChain{}, &EvidenceBreak{Record: n + 1, Reason: fmt.Sprintf("the export declares %d records and ends after %d: %s %s missing from its end (removed)",
			first.Total, n, seqRange(n+1, first.Total), pluralVerb(first.Total-n))}
	}
	return EvidenceChain{Records: len(records), CertificationID: first.CertificationID, Head: prev}, nil
}

// seqAt is the position of the record numbered seq, or -1.
func seqAt(records []EvidenceRecord, seq int) int {
	for i, r := range records {
		if r.Seq == seq {
			return i
		}
	}
	return -1
}

func seqRange(from, to int) string {
	if from == to {
		return fmt.Sprintf("record %d", from)
	}
	return fmt.Sprintf("records %d to %d", from, to)
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// ExportReviewEvidence returns a certification's decisions and their
// evidence as a verified chain of records (see above), and writes the
// export to the audit trail (data.exported, with the record count and the
// head hash) before returning it: when that event cannot be written,
// nothing is returned (EUNAVAILABLE). Errors: EINVALID, ENOTFOUND,
// EFORBIDDEN (neither the certification's reviewer nor an admin),
// EUNAVAILABLE, upstream codes.
func (s *Service) ExportReviewEvidence(ctx context.Context, a Actor, certID string) ([]EvidenceRecord, error) {
	c, err := s.certificationFor(ctx, a, certID)
	if err != nil {
		return nil, err
	}
	reqs, err := s.opts.Store.ListRequests(ctx, RequestFilter{CertificationID: c.ID})
	if err != nil {
		return nil, fmt.Errorf("requests of certification %s: %w", c.ID, err)
	}
	events, err := s.opts.Store.ListEvents(ctx, EventFilter{CertificationID: c.ID})
	if err != nil {
		return nil, fmt.Errorf("audit events of certification %s: %w", c.ID, err)
	}
	items, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
	if err != nil {
		return nil, err
	}
	records := evidenceRecords(c, reqs, events, items)
	ChainEvidence(records)

	fromCertops := 0
	for _, r := range records {
		if r.Source == EvidenceSourceCertops {
			fromCertops++
		}
	}
	ev := s.event(a, ActionExport, c.ID)
	ev.Count = len(records)
	ev.Detail = fmt.Sprintf("review evidence of certification %q: %s (%d made through certops, %d found in ISC)",
		c.Name, plural(len(records), "record", "records"), fromCertops, len(records)-fromCertops)
	if len(records) > 0 {
		ev.Detail += ", head " + records[len(records)-1].Hash
	}
	if err := s.opts.Store.AppendEvents(ctx, ev); err != nil {
		return nil, &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("could not record the audit event of this evidence export (%s), so nothing is returned", plural(len(records), "record", "records")), Err: err}
	}
	return records, nil
}

// evidenceRecords builds the records of c, unchained, from its requests,
// its audit events and its items as ISC holds them now.
func evidenceRecords(c *Certification, reqs []*Request, events []Event, items []ReviewItem) []EvidenceRecord {
	// The decision event of each request: request.approved (or, for
	// requests approved before the call log, request.submitting).
	decided := map[string]Event{}
	for _, e := range events {
		if e.RequestID == "" {
			continue
		}
		if prior, ok := decided[e.RequestID]; (e.Action == ActionRequestApproved && (!ok || prior.Action != ActionRequestApproved)) ||
			(e.Action == ActionSubmitting && !ok) {
			decided[e.RequestID] = e
		}
	}
	decidedAt := func(r *Request) (time.Time, int64) {
		if e, ok := decided[r.ID]; ok {
			return e.Time, e.Seq
		}
		return r.Created, 0
	}
	sort.SliceStable(reqs, func(i, j int) bool {
		ti, si := decidedAt(reqs[i])
		tj, sj := decidedAt(reqs[j])
		switch {
		case si != 0 && sj != 0 && si != sj:
			return si < sj
		case !ti.Equal(tj):
			return ti.Before(tj)
		}
		return reqs[i].ID < reqs[j].ID
	})

	base := EvidenceRecord{
		CertificationID: c.ID, CertificationName: c.Name, Campaign: c.Campaign.Name,
		ReviewerID: c.Reviewer.ID, ReviewerName: c.Reviewer.Name,
	}
	byID := make(map[string]ReviewItem, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	var out, signOffs []EvidenceRecord
	last := map[string]int{}           // item id → index in out of its latest certops record
	unconfirmed := map[string]string{} // item id → a certops call whose outcome was never confirmed
	for _, r := range reqs {
		p := &r.Plan
		if p.CertificationID != c.ID || (p.KindOf() != KindDecide && p.KindOf() != KindSignOff) {
			continue
		}
		by := r.Requester
		if r.DecidedBy != nil {
			by = *r.DecidedBy
		}
		at, seq := decidedAt(r)
		who := base
		who.Source = EvidenceSourceCertops
		who.DecidedBy, who.DecidedByID, who.DecidedByIdentityID = actorName(by), by.ID, by.IdentityID
		who.Frontend, who.Role = string(by.Frontend), string(by.Role)
		if p.OnBehalf != "" {
			who.OnBehalfOf = reviewerLabel(p.From)
			who.OnBehalfReason = p.OnBehalf
		}
		who.DecidedAt = formatEvidenceTime(at)
		who.RequestID, who.PlanID, who.PlanDigest, who.AuditSeq = r.ID, p.ID, p.Digest, seq
		evidence := make(map[string]ItemEvidence, len(p.Evidence))
		for _, e := range p.Evidence {
			evidence[e.Item.ID] = e
		}
		for i := range p.CallCount() {
			t := r.call(i)
			if t == nil {
				continue
			}
			applied := t.State == CallAccepted && t.Status == TaskSuccess
			if !applied {
				if p.KindOf() == KindDecide && (t.State == CallUnknown || t.State == CallUnconfirmed || t.State == CallSending) {
					for _, d := range p.Decisions[i].Items {
						unconfirmed[d.ItemID] = fmt.Sprintf("request %s (call %d)", r.ID, i+1)
					}
				}
				continue
			}
			rec := who
			rec.Call = i + 1
			if t.SentAt != nil {
				rec.SentAt = formatEvidenceTime(*t.SentAt)
			}
			if t.Found {
				rec.Note = "ISC's answer to this call was lost; it was found applied by reading the certification back, and nothing was sent again"
			}
			if p.KindOf() == KindSignOff {
				rec.Kind = EvidenceKindSignOff
				rec.Current = c.Phase == PhaseSigned || c.Signed != nil
				signOffs = append(signOffs, rec)
				continue
			}
			for _, d := range p.Decisions[i].Items {
				x := rec
				x.Kind = EvidenceKindDecision
				x.ItemID, x.Decision, x.Comments = d.ItemID, string(d.Decision), d.Comments
				if d.ProposedEndDate != nil {
					x.ProposedEndDate = formatEvidenceTime(*d.ProposedEndDate)
				}
				if e, ok := evidence[d.ItemID]; ok {
					setItem(&x, e.Item)
					setEvidence(&x, e)
				} else if it, ok := byID[d.ItemID]; ok {
					setItem(&x, it)
				}
				last[d.ItemID] = len(out)
				delete(unconfirmed, d.ItemID)
				out = append(out, x)
			}
		}
	}
	// Current: the item's latest certops decision, if ISC still holds it;
	// otherwise ISC's own decision is a record of its own.
	for _, it := range items {
		j, ok := last[it.ID]
		if ok && it.Decision != "" && string(it.Decision) == out[j].Decision && it.Comments == out[j].Comments {
			out[j].Current = true
			continue
		}
		if it.Decision == "" {
			continue
		}
		x := base
		x.Kind, x.Source, x.Current = EvidenceKindDecision, EvidenceSourceISC, true
		x.ItemID = it.ID
		setItem(&x, it)
		x.Decision, x.Comments = string(it.Decision), it.Comments
		x.Note = "decided in ISC, not through certops: ISC's items do not say by whom or when"
		switch {
		case unconfirmed[it.ID] != "":
			x.Note = "sent by certops " + unconfirmed[it.ID] + ", whose answer was lost and never confirmed; ISC holds this decision, and ISC's items do not say by whom or when it was made"
		case ok:
			x.Note = fmt.Sprintf("changed in ISC after certops's decision (record of request %s): ISC's items do not say by whom or when", out[j].RequestID)
		}
		out = append(out, x)
	}
	switch {
	case len(signOffs) > 0:
		out = append(out, signOffs...)
	case c.Phase == PhaseSigned || c.Signed != nil:
		x := base
		x.Kind, x.Source, x.Current = EvidenceKindSignOff, EvidenceSourceISC, true
		if c.Signed != nil {
			x.DecidedAt = formatEvidenceTime(*c.Signed)
		}
		x.Note = "signed off in ISC, not through certops: ISC does not say by whom"
		out = append(out, x)
	}
	for i := range out {
		normalizeEvidenceText(&out[i])
	}
	return out
}

func setItem(x *EvidenceRecord, it ReviewItem) {
	x.IdentityID, x.IdentityName = it.IdentitySummary.IdentityID, it.IdentitySummary.Name
	x.AccessType, x.AccessID, x.AccessName, x.AccessSource = string(it.Access.Type), it.Access.ID, it.Access.Name, it.Access.SourceName
}

// setEvidence flattens what the person was shown.
func setEvidence(x *EvidenceRecord, e ItemEvidence) {
	x.EvidenceShown = true
	x.IdentityID = cmp.Or(e.Identity.ID, x.IdentityID)
	x.IdentityName = cmp.Or(e.Identity.Name, x.IdentityName)
	x.IdentityEmail = e.Identity.Email
	if m := e.Manager; m != nil {
		x.Manager = cmp.Or(m.Name, m.ID)
		if m.Email != "" {
			x.Manager += " <" + m.Email + ">"
		}
	}
	x.Peers, x.Privileged, x.NewAccess = e.Peers, e.Item.Access.Privileged, e.Item.NewAccess
	if r := e.Reassigned; r != nil {
		s := fmt.Sprintf("from %s (%s", r.From, r.Source)
		if r.RequestID != "" {
			s += fmt.Sprintf(" request %s, asked by %s", r.RequestID, r.By)
		}
		s += ")"
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		x.Reassigned = s
	}
	if d := e.Decided; d != nil {
		s := string(d.Decision)
		if d.By != "" {
			s += " by " + d.By
		}
		if d.At != "" {
			s += " at " + d.At
		}
		if d.RequestID != "" {
			s += " (request " + d.RequestID + ")"
		}
		if d.Comments != "" {
			s += ": " + d.Comments
		}
		x.PriorDecision = s
	}
	remarks := make([]string, len(e.Remarks))
	for i, r := range e.Remarks {
		remarks[i] = fmt.Sprintf("%s [%s]", r.Text, strings.Join(r.Facts, "; "))
	}
	x.Remarks = strings.Join(remarks, " | ")
}

func reviewerLabel(r Reviewer) string {
	if r.Name != "" && r.ID != "" {
		return fmt.Sprintf("%s (%s)", r.Name, r.ID)
	}
	return cmp.Or(r.Name, r.ID)
}

func formatEvidenceTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// normalizeEvidenceText writes every line break as a line feed, so that a
// record reads back from CSV (whose readers drop a carriage return before
// a line feed) exactly as it was hashed.
func normalizeEvidenceText(r *EvidenceRecord) {
	for _, f := range evidenceFields {
		if p, ok := f.ptr(r).(*string); ok && strings.ContainsRune(*p, '\r') {
			*p = strings.ReplaceAll(strings.ReplaceAll(*p, "\r\n", "\n"), "\r", "\n")
		}
	}
}
