package slackbot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// Reviewing a certification from Slack. `/certs review <cert>` opens the
// review in the person's DM with certops, as messages:
//
//   - the head: the certification, its progress, and — once every item is
//     decided — Sign off;
//   - one message per identity whose access is reviewed (reviewPeoplePerPage
//     at a time; a footer shows the next ones), each item with its evidence
//     in one line and Approve / Revoke (reviewItemsPerMessage items, then
//     the message pages);
//   - "Approve the rest of <person>'s items", which shows the plan and asks
//     for confirmation first.
//
// Every decision is planned by certs.Service (which holds every rule: only
// the reviewer, or an admin with a reason; never one's own access; the
// campaign's comment rule) and submitted with its plan's digest. For one
// item the click is the person's confirmation; several items are confirmed
// on the plan they were shown. The sign-off button carries a plan made when
// the certification became ready, so that any number of clicks on it, on
// any replica, submit it once (SubmitPlan). Clicks are acknowledged at once;
// the work runs on the pool, and the messages are redrawn in place with
// who decided.

// Action and callback ids of the review.
const (
	actionReviewApprove = "certops.review.approve"
	actionReviewRevoke  = "certops.review.revoke"
	actionReviewRest    = "certops.review.rest"    // approve the rest of a person's items
	actionReviewConfirm = "certops.review.confirm" // confirm a plan of several decisions
	actionReviewCancel  = "certops.review.cancel"
	actionReviewSignOff = "certops.review.signoff"
	actionReviewPage    = "certops.review.page"    // another page of a person's items
	actionReviewMore    = "certops.review.more"    // the next people
	actionReviewRefresh = "certops.review.refresh" // redraw a person's message
	// actionReviewBehalf shows an admin's reason for deciding on the
	// reviewer's behalf; its button carries the reason, once per message,
	// for the clicks on that message.
	actionReviewBehalf = "certops.review.behalf"

	callbackReviewDecide = "certops.review.decide" // the comment (and end date) modal

	reviewCommentBlock, reviewCommentAction = "comment", "comment"
	reviewEndBlock, reviewEndAction         = "end", "end"
)

// Sizes: a person's message holds reviewItemsPerMessage items (two blocks
// each, inside Slack's 50 blocks); a page of the review shows
// reviewPeoplePerPage people (chat.postMessage allows about one message a
// second per channel, in bursts).
const (
	reviewPeoplePerPage   = 10
	reviewItemsPerMessage = 20
)

// Keys of a decision request's references to the review message it came
// from (certs.Request.FrontendRefs), so the notifier can redraw it when the
// worker finishes the request later.
const (
	refReviewChannel  = "slack.review.channel"
	refReviewTS       = "slack.review.ts"
	refReviewHead     = "slack.review.head"
	refReviewSummary  = "slack.review.summary"
	refReviewIdentity = "slack.review.identity"
	refReviewPage     = "slack.review.page"
)

// reviewRef says which part of a review a button belongs to. It travels in
// button values (Slack gives them back verbatim) as "r1|…".
type reviewRef struct {
	Cert     string // certification id
	Summary  string // the person's identity summary id in the certification
	Identity string // the person's identity id
	Page     int    // page of the person's items; for "more", the first person to show
	Head     string // ts of the review's head message
	Msg      string // ts of the person's message (confirmation prompts)
	Item     string // the review item acted on
	Rule     string // the campaign's mandatory-comment rule
}

func (r reviewRef) String() string {
	return strings.Join([]string{"r1", r.Cert, r.Summary, r.Identity, strconv.Itoa(r.Page), r.Head, r.Msg, r.Item, r.Rule}, "|")
}

func parseReviewRef(v string) (reviewRef, bool) {
	f := strings.Split(v, "|")
	if len(f) != 9 || f[0] != "r1" || certs.ValidateID("certification id", f[1]) != nil {
		return reviewRef{}, false
	}
	page, err := strconv.Atoi(f[4])
	if err != nil || page < 0 {
		return reviewRef{}, false
	}
	return reviewRef{Cert: f[1], Summary: f[2], Identity: f[3], Page: page, Head: f[5], Msg: f[6], Item: f[7], Rule: f[8]}, true
}

// planRefValue is a confirmation button's value: the plan, the digest of
// what the person was shown, and where it was shown.
func planRefValue(p *certs.Plan, ref reviewRef) string {
	return p.ID + "|" + p.Digest + "|" + ref.String()
}

func parsePlanRefValue(v string) (planID, digest string, ref reviewRef, ok bool) {
	f := strings.SplitN(v, "|", 3)
	if len(f) != 3 || f[0] == "" || f[1] == "" {
		return "", "", reviewRef{}, false
	}
	ref, ok = parseReviewRef(f[2])
	return f[0], f[1], ref, ok
}

// reviewModalMeta is the comment modal's private_metadata.
type reviewModalMeta struct {
	Ref      string         `json:"ref"`
	Decision certs.Decision `json:"decision"`
	Rest     bool           `json:"rest,omitempty"` // approve the rest of the person's items
	Channel  string         `json:"channel"`
	TS       string         `json:"ts"` // the person's message
	OnBehalf string         `json:"onBehalf,omitempty"`
}

// seat is who looks at a review and whether they may decide: the
// certification's reviewer, or an admin giving a reason (OnBehalf). WhyNot
// is the Service's word for why someone else may not.
type seat struct {
	Actor     certs.Actor
	OnBehalf  string
	CanDecide bool
	WhyNot    string
}

// reviewee is one identity whose access the certification reviews.
type reviewee struct {
	Summary  string
	Identity string
	Name     string
	Items    []certs.ReviewItem // in the certification's order
}

func (p reviewee) open() int {
	n := 0
	for _, it := range p.Items {
		if it.Decision == "" && !it.Completed {
			n++
		}
	}
	return n
}

// reviewState is the bot's memory of review work in flight in this
// process: clicks being handled (so a double click, or twenty, plans and
// submits once here; across replicas the "already decided" check of the
// plan's evidence catches what arrives after), and one lock per message so
// that redraws of it are written in the order they were read.
type reviewState struct {
	mu       sync.Mutex
	inflight map[string]bool
	locks    [64]sync.Mutex
}

func newReviewState() *reviewState { return &reviewState{inflight: map[string]bool{}} }

func (s *reviewState) begin(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight[key] {
		return false
	}
	s.inflight[key] = true
	return true
}

func (s *reviewState) end(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inflight, key)
}

func (s *reviewState) lock(channel, ts string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(channel + "/" + ts))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// ---- the command

// parseReview parses `review <cert> [because <reason>]`; the reason is an
// admin's, for deciding on the reviewer's behalf.
func (b *Bot) parseReview(c *command, args string) (work, error) {
	head, reason, hasReason := cutKeyword(args, "because")
	f := strings.Fields(head)
	if len(f) != 1 {
		return nil, c.usage("give one certification id")
	}
	certID, err := idArg(c, "certification id", f[0])
	if err != nil {
		return nil, err
	}
	if hasReason {
		if strings.TrimSpace(reason) == "" {
			return nil, c.usage("say why after `because`")
		}
		if err := certs.ValidateReason(reason); err != nil {
			return nil, c.usage(certs.ErrorMessage(err))
		}
	}
	return func(ctx context.Context, in *invocation) (message, error) {
		return in.bot.openReview(ctx, in.actor, in.user, certID, strings.TrimSpace(reason))
	}, nil
}

// openReview posts the review to the person's DM with certops: the head,
// the first page of people, and a footer when there are more.
func (b *Bot) openReview(ctx context.Context, a certs.Actor, user, certID, onBehalf string) (message, error) {
	d, err := b.svc.GetCertification(ctx, a, certID)
	if err != nil {
		return message{}, err
	}
	c := &d.Certification
	st, err := b.seatAt(ctx, a, c, onBehalf)
	if err != nil {
		return message{}, err
	}
	signOff, err := b.signOffPlan(ctx, st, c)
	if err != nil {
		return message{}, err
	}
	people, err := b.reviewees(ctx, a, c.ID, certs.ReviewItemFilter{})
	if err != nil {
		return message{}, err
	}
	// Posting to a user id reaches the app's DM with them.
	channel, headTS, err := b.api.PostMessageContext(ctx, user, msgOptions(b.render.reviewHead(c, st, signOff))...)
	if err != nil {
		return message{}, slackFailed("post the review", err)
	}
	if err := b.postPeople(ctx, st, c, people, 0, channel, headTS); err != nil {
		return message{}, err
	}
	return b.render.reviewOpened(c, len(people), channel), nil
}

// seatAt works out whether a may decide c's items by asking the Service
// (MayDecide, which changes nothing): it answers EFORBIDDEN, in its own
// words, to someone who may not decide.
func (b *Bot) seatAt(ctx context.Context, a certs.Actor, c *certs.Certification, onBehalf string) (seat, error) {
	st := seat{Actor: a, OnBehalf: onBehalf}
	if c.Phase != certs.PhaseActive || c.Signed != nil {
		// The messages say it is signed off, or not active. (Completed
		// means every item is decided: decisions may still change.)
		return st, nil
	}
	err := b.svc.MayDecide(ctx, a, c.ID, onBehalf)
	switch certs.ErrorCode(err) {
	case "":
		st.CanDecide = true
		return st, nil
	case certs.EFORBIDDEN:
		st.WhyNot = certs.ErrorMessage(err)
		return st, nil
	case certs.EINVALID:
		if onBehalf != "" && a.IdentityID != "" && strings.EqualFold(a.IdentityID, c.Reviewer.ID) {
			return st, err // the reviewer gave an admin's reason: the Service says why not
		}
		// No longer ACTIVE since c was read: a click is refused, and its
		// message redrawn without buttons (redrawStale).
		st.CanDecide = true
		return st, nil
	}
	return st, err
}

// signOffPlan plans c's sign-off for the head's Sign off button, only when
// the seat may decide and every item is decided, so that drawing a review
// saves no plan it will not show; nil when ISC would not take the sign-off
// yet (e.g. a task is pending).
func (b *Bot) signOffPlan(ctx context.Context, st seat, c *certs.Certification) (*certs.Plan, error) {
	if !st.CanDecide || c.Phase != certs.PhaseActive || c.Signed != nil || c.DecisionsMade < c.DecisionsTotal {
		return nil, nil
	}
	p, err := b.svc.PlanSignOff(ctx, st.Actor, c.ID, st.OnBehalf)
	if certs.ErrorCode(err) == certs.EINVALID {
		return nil, nil // not ready to sign off yet
	}
	return p, err
}

// reviewees reads the certification's items (every page) and groups them
// by identity, sorted by name.
func (b *Bot) reviewees(ctx context.Context, a certs.Actor, certID string, f certs.ReviewItemFilter) ([]reviewee, error) {
	var all []certs.ReviewItem
	f.Page = certs.PageOptions{Limit: certs.MaxPageLimit}
	for {
		page, err := b.svc.ListReviewItems(ctx, a, certID, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if len(page.Items) < certs.MaxPageLimit {
			break
		}
		f.Page.Offset += len(page.Items)
	}
	index := map[string]int{}
	var out []reviewee
	for _, it := range all {
		key := cmp.Or(it.IdentitySummary.ID, it.IdentitySummary.IdentityID)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, reviewee{Summary: it.IdentitySummary.ID, Identity: it.IdentitySummary.IdentityID, Name: it.IdentitySummary.Name})
		}
		out[i].Items = append(out[i].Items, it)
	}
	slices.SortStableFunc(out, func(x, y reviewee) int {
		return cmp.Or(cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), cmp.Compare(x.Identity, y.Identity))
	})
	return out, nil
}

// postPeople posts the people from offset on (a page of them), with their
// evidence read in one go, and a footer when more follow.
func (b *Bot) postPeople(ctx context.Context, st seat, c *certs.Certification, people []reviewee, offset int, channel, head string) error {
	end := min(offset+reviewPeoplePerPage, len(people))
	var ids []string
	for _, p := range people[offset:end] {
		for _, it := range pageOf(p.Items, 0) {
			ids = append(ids, it.ID)
		}
	}
	evidence := map[string]certs.ItemEvidence{}
	if len(ids) > 0 {
		evs, err := b.svc.ListEvidence(ctx, st.Actor, c.ID, ids)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			evidence[ev.Item.ID] = ev
		}
	}
	for _, p := range people[offset:end] {
		m := b.render.reviewPerson(b.personView(c, st, head, p, 0, evidence))
		if _, _, err := b.api.PostMessageContext(ctx, channel, msgOptions(m)...); err != nil {
			return slackFailed("post the review of "+p.Name, err)
		}
	}
	if end < len(people) {
		ref := reviewRef{Cert: c.ID, Page: end, Head: head}
		if _, _, err := b.api.PostMessageContext(ctx, channel, msgOptions(b.render.reviewMore(ref, offset, end, len(people), false))...); err != nil {
			return slackFailed("post the rest of the review", err)
		}
	}
	return nil
}

// pageOf is page p of a person's items.
func pageOf(items []certs.ReviewItem, p int) []certs.ReviewItem {
	start := min(p*reviewItemsPerMessage, len(items))
	return items[start:min(start+reviewItemsPerMessage, len(items))]
}

// personView gathers what a person's message shows.
func (b *Bot) personView(c *certs.Certification, st seat, head string, p reviewee, page int, evidence map[string]certs.ItemEvidence) personView {
	v := personView{Cert: c, Seat: st, Head: head, Who: p, Page: page,
		Pages: max(1, (len(p.Items)+reviewItemsPerMessage-1)/reviewItemsPerMessage), Open: p.open()}
	for _, it := range pageOf(p.Items, page) {
		ev, ok := evidence[it.ID]
		if !ok {
			ev = certs.ItemEvidence{Item: it, Identity: certs.PersonFacts{ID: it.IdentitySummary.IdentityID, Name: it.IdentitySummary.Name}}
		}
		v.Items = append(v.Items, ev)
	}
	return v
}

func slackFailed(what string, err error) error {
	return &certs.Error{Code: certs.EUNAVAILABLE, Message: "Slack did not let certops " + what + "; try again", Err: err}
}

// ---- clicks

// reviewAction handles the review's buttons; it reports whether actionID
// was one of them. Like every click, it only queues work (or opens a modal
// beside the ack): nothing here waits on SailPoint.
func (b *Bot) reviewAction(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) bool {
	if !strings.HasPrefix(act.ActionID, "certops.review.") {
		return false
	}
	resp := b.newResponder(ic.ResponseURL, ic.Channel.ID, ic.User.ID)
	channel, ts := cmp.Or(ic.Container.ChannelID, ic.Channel.ID), cmp.Or(ic.Container.MessageTs, ic.Message.Timestamp)
	onBehalf := behalfOf(ic.Message.Blocks)
	bad := func(name string) {
		b.enqueue(resp, name, func(context.Context) (message, bool, error) {
			return message{}, false, certs.Errorf(certs.EINVALID, "this button is from an older certops; run `%s review` again", b.cfg.Command)
		})
	}
	switch act.ActionID {
	case actionReviewApprove, actionReviewRevoke, actionReviewRest:
		ref, ok := parseReviewRef(act.Value)
		if !ok {
			bad("review")
			return true
		}
		decision := certs.DecisionApprove
		if act.ActionID == actionReviewRevoke {
			decision = certs.DecisionRevoke
		}
		rest := act.ActionID == actionReviewRest
		if decision == certs.DecisionRevoke || ref.Rule == certs.CommentsOnAll {
			// A comment first: the modal opens beside the ack (a trigger_id
			// lives 3 seconds); whether this person may decide is the
			// Service's question when the modal is submitted.
			meta := reviewModalMeta{Ref: ref.String(), Decision: decision, Rest: rest, Channel: channel, TS: ts, OnBehalf: onBehalf}
			b.openReviewModal(ctx, ic, resp, meta, itemLine(ic.Message.Blocks, ref.Item))
			return true
		}
		if rest {
			b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
				return b.planRest(ctx, ic.User, ref, channel, ts, "", onBehalf)
			})
			return true
		}
		b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
			return b.decideItem(ctx, ic.User, ref, channel, ts, certs.ItemDecision{ItemID: ref.Item, Decision: decision}, onBehalf)
		})
	case actionReviewConfirm, actionReviewSignOff:
		planID, digest, ref, ok := parsePlanRefValue(act.Value)
		if !ok {
			bad("review")
			return true
		}
		b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
			return b.confirmReview(ctx, ic.User, planID, digest, ref, channel, ts, act.ActionID == actionReviewSignOff)
		})
	case actionReviewCancel:
		b.enqueue(resp, "review", func(context.Context) (message, bool, error) {
			return b.render.notice(":wastebasket: Cancelled. Nothing was decided."), true, nil
		})
	case actionReviewPage, actionReviewRefresh:
		ref, ok := parseReviewRef(act.Value)
		if !ok {
			bad("review")
			return true
		}
		b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
			a, err := b.identities.actor(ctx, ic.User.ID, ic.User.Name)
			if err != nil {
				return message{}, false, err
			}
			st := seat{Actor: a, OnBehalf: onBehalf}
			return message{}, false, b.redraw(ctx, &st, ref, channel, ts, act.ActionID == actionReviewRefresh)
		})
	case actionReviewMore:
		ref, ok := parseReviewRef(act.Value)
		if !ok {
			bad("review")
			return true
		}
		b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
			return message{}, false, b.morePeople(ctx, ic.User, ref, channel, ts, onBehalf)
		})
	case actionReviewBehalf:
		b.enqueue(resp, "review", func(context.Context) (message, bool, error) {
			return b.render.notice(fmt.Sprintf("Decisions from this review are made on the reviewer's behalf. The reason, kept with each decision: “%s”", esc(act.Value))), false, nil
		})
	default:
		b.log.Warn("slackbot: unknown review action", "action_id", act.ActionID)
	}
	return true
}

// behalfOf finds the admin's reason in a review message's blocks (the
// button actionReviewBehalf carries it).
func behalfOf(blocks slack.Blocks) string {
	for _, bl := range blocks.BlockSet {
		ab, ok := bl.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionReviewBehalf {
				return btn.Value
			}
		}
	}
	return ""
}

// itemLine finds an item's evidence line in a review message, for the
// modal to show what is decided.
func itemLine(blocks slack.Blocks, itemID string) string {
	if itemID == "" {
		return ""
	}
	for _, bl := range blocks.BlockSet {
		if s, ok := bl.(*slack.SectionBlock); ok && s.BlockID == itemBlockID(itemID) && s.Text != nil {
			return s.Text.Text
		}
	}
	return ""
}

func itemBlockID(itemID string) string { return "item:" + itemID }

// openReviewModal opens the comment modal at once, beside the ack.
func (b *Bot) openReviewModal(ctx context.Context, ic slack.InteractionCallback, resp *responder, meta reviewModalMeta, line string) {
	raw, _ := json.Marshal(meta)
	ref, _ := parseReviewRef(meta.Ref)
	view := b.render.reviewModal(ref, meta, line, string(raw))
	b.side.Add(1)
	go func() {
		defer b.side.Done()
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if _, err := b.api.OpenViewContext(octx, ic.TriggerID, view); err != nil {
			b.log.Warn("slackbot: views.open failed", "certification", ref.Cert, "item", ref.Item, "err", err)
			b.enqueue(resp, "review", func(context.Context) (message, bool, error) {
				return b.render.notice(":warning: Slack could not open the form; please click again."), false, nil
			})
		}
	}()
}

// reviewSubmitted handles the comment modal. What can be checked without
// SailPoint (the comment's length, a comment the campaign requires, the end
// date) is answered in the modal itself; the rest runs on the pool.
func (b *Bot) reviewSubmitted(ic slack.InteractionCallback) any {
	var meta reviewModalMeta
	ref, ok := reviewRef{}, false
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err == nil {
		ref, ok = parseReviewRef(meta.Ref)
	}
	if !ok || (meta.Decision != certs.DecisionApprove && meta.Decision != certs.DecisionRevoke) {
		b.log.Warn("slackbot: review modal without its review", "metadata", ic.View.PrivateMetadata)
		return nil
	}
	var comment, date string
	if ic.View.State != nil {
		comment = strings.TrimSpace(ic.View.State.Values[reviewCommentBlock][reviewCommentAction].Value)
		date = ic.View.State.Values[reviewEndBlock][reviewEndAction].SelectedDate
	}
	errs := map[string]string{}
	if err := certs.ValidateComment(comment); err != nil {
		errs[reviewCommentBlock] = certs.ErrorMessage(err)
	} else if comment == "" && commentRequired(ref.Rule, meta.Decision) {
		errs[reviewCommentBlock] = fmt.Sprintf("This campaign requires a comment on %s.", map[bool]string{true: "every decision", false: "every revoke"}[ref.Rule == certs.CommentsOnAll])
	}
	var end *time.Time
	if date != "" && meta.Decision == certs.DecisionRevoke {
		d, err := time.Parse(time.DateOnly, date)
		today := b.cfg.Now().UTC().Truncate(24 * time.Hour)
		switch {
		case err != nil:
			errs[reviewEndBlock] = "Pick a date."
		case !d.After(today):
			errs[reviewEndBlock] = "Pick a date after today."
		default:
			end = &d
		}
	}
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs)
	}
	if !b.firstDelivery("view", ic.View.ID+"/"+ic.View.Hash) {
		return nil
	}
	resp := b.newResponder("", meta.Channel, ic.User.ID)
	b.enqueue(resp, "review", func(ctx context.Context) (message, bool, error) {
		if meta.Rest {
			return b.planRest(ctx, ic.User, ref, meta.Channel, meta.TS, comment, meta.OnBehalf)
		}
		return b.decideItem(ctx, ic.User, ref, meta.Channel, meta.TS, certs.ItemDecision{ItemID: ref.Item, Decision: meta.Decision, Comments: comment, ProposedEndDate: end}, meta.OnBehalf)
	})
	return nil // an empty 200 closes the modal
}

// commentRequired mirrors the campaign rule for the modal's early answer;
// the Service checks it again, and is the one that decides.
func commentRequired(rule string, d certs.Decision) bool {
	return rule == certs.CommentsOnAll || (rule == certs.CommentsOnRevoke && d == certs.DecisionRevoke)
}

// decideItem plans one decision and submits it: the click (or the modal)
// is the person's confirmation. A second click on the same item while the
// first is handled does nothing; clicks reaching other replicas at the same
// moment find the same plan (SameIntentSamePlan) and submit it once; one
// arriving after finds the item decided (in the plan's evidence) and
// submits nothing.
func (b *Bot) decideItem(ctx context.Context, u slack.User, ref reviewRef, channel, ts string, d certs.ItemDecision, onBehalf string) (message, bool, error) {
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return message{}, false, err
	}
	key := strings.Join([]string{a.ID, ref.Cert, d.ItemID, string(d.Decision)}, "/")
	if !b.review.begin(key) {
		return message{}, false, nil // a double click: the first one answers
	}
	defer b.review.end(key)
	st := seat{Actor: a, OnBehalf: onBehalf}
	p, err := b.svc.PlanDecisions(ctx, a, certs.DecisionInput{CertificationID: ref.Cert, Decisions: []certs.ItemDecision{d}, OnBehalf: onBehalf, SameIntentSamePlan: true})
	if err != nil {
		b.redrawStale(ctx, st, ref, channel, ts, err)
		return message{}, false, err // the Service says which rule
	}
	st.CanDecide = true
	if already(p) {
		ev := p.Evidence[0]
		_ = b.redrawQuietly(ctx, &st, ref, channel, ts)
		return b.render.notice(fmt.Sprintf(":information_source: %s is already %s%s; nothing was sent.", esc(ev.Item.Access.Name), decidedWord(ev.Item.Decision), byWhom(ev.Decided))), false, nil
	}
	r, err := b.svc.SubmitPlan(ctx, a, p.ID, p.Digest)
	b.logDecision(a, p, r, err)
	b.rememberReview(ctx, a, r, ref, channel, ts)
	if err != nil && r == nil {
		return message{}, false, err
	}
	_ = b.redrawQuietly(ctx, &st, ref, channel, ts)
	if err != nil {
		return message{}, false, err
	}
	return b.render.reviewSubmitted(r, false), false, nil
}

// redrawStale redraws a message whose click the Service refused as
// invalid: the certification may have been signed off, or have left the
// ACTIVE phase, since the message was drawn (its buttons then go).
func (b *Bot) redrawStale(ctx context.Context, st seat, ref reviewRef, channel, ts string, err error) {
	if certs.ErrorCode(err) == certs.EINVALID && channel != "" && ts != "" {
		_ = b.redrawQuietly(ctx, &st, ref, channel, ts)
	}
}

// already reports whether every decision of a plan is what its item already
// carries (a click that arrived after the same decision landed).
func already(p *certs.Plan) bool {
	if len(p.Evidence) == 0 || len(p.Decisions) == 0 {
		return false
	}
	want := map[string]certs.ItemDecision{}
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			want[d.ItemID] = d
		}
	}
	for _, ev := range p.Evidence {
		d, ok := want[ev.Item.ID]
		if !ok || ev.Item.Decision != d.Decision || ev.Item.Comments != d.Comments || d.ProposedEndDate != nil {
			return false
		}
	}
	return len(p.Evidence) == len(want)
}

// planRest plans approving every open item of the person, and shows the
// plan with Confirm / Cancel: nothing is sent before the person confirms.
func (b *Bot) planRest(ctx context.Context, u slack.User, ref reviewRef, channel, msgTS, comment, onBehalf string) (message, bool, error) {
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return message{}, false, err
	}
	p, err := b.svc.PlanDecisions(ctx, a, certs.DecisionInput{
		CertificationID: ref.Cert, Select: &certs.ItemSelection{IdentityIDs: []string{ref.Identity}},
		SelectDecision: certs.DecisionApprove, Comments: comment, OnBehalf: onBehalf,
	})
	if err != nil {
		b.redrawStale(ctx, seat{Actor: a, OnBehalf: onBehalf}, ref, channel, msgTS, err)
		return message{}, false, err
	}
	ref.Msg = msgTS
	return b.render.reviewConfirm(p, ref), false, nil
}

// confirmReview submits a plan the person confirmed: several decisions
// (Confirm on the plan they were shown) or the sign-off. Any number of
// clicks on one plan, on any replica, submit it once; the others are told
// what the first one did.
//
// channel and ts are where the clicked button is: the confirmation prompt,
// or for a sign-off the head itself (which is redrawn, never replaced).
func (b *Bot) confirmReview(ctx context.Context, u slack.User, planID, digest string, ref reviewRef, channel, ts string, signOff bool) (message, bool, error) {
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return message{}, false, err
	}
	p, err := b.svc.GetPlan(ctx, a, planID)
	if err != nil {
		return message{}, false, err
	}
	r, err := b.svc.SubmitPlan(ctx, a, planID, digest)
	if certs.ErrorCode(err) == certs.ECONFLICT && r != nil {
		return b.render.reviewAlready(r), false, nil
	}
	b.logDecision(a, p, r, err)
	st := seat{Actor: a, OnBehalf: p.OnBehalf, CanDecide: true}
	if !signOff {
		b.rememberReview(ctx, a, r, ref, channel, ref.Msg)
	}
	if err != nil && r == nil {
		return message{}, false, err
	}
	if signOff {
		_ = b.redrawHeadQuietly(ctx, &st, ref.Cert, channel, cmp.Or(ref.Head, ts))
	} else {
		_ = b.redrawQuietly(ctx, &st, ref, channel, ref.Msg)
	}
	if err != nil {
		return message{}, false, err
	}
	// The prompt is replaced by what became of it; the head is not.
	return b.render.reviewSubmitted(r, true), !signOff, nil
}

// logDecision records who decided what, at INFO: the click is where the
// decision is confirmed (the Service logs the request's end).
func (b *Bot) logDecision(a certs.Actor, p *certs.Plan, r *certs.Request, err error) {
	approve, revoke := 0, 0
	var items []string
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			if d.Decision == certs.DecisionRevoke {
				revoke++
			} else {
				approve++
			}
			if len(items) < 20 {
				items = append(items, d.ItemID+"="+string(d.Decision))
			}
		}
	}
	args := []any{"user", a.ID, "name", a.Name, "identity", a.IdentityID, "certification", p.CertificationID, "plan", p.ID, "kind", p.KindOf()}
	if p.KindOf() == certs.KindDecide {
		args = append(args, "approve", approve, "revoke", revoke, "items", strings.Join(items, ","))
	}
	if p.OnBehalf != "" {
		args = append(args, "on_behalf", p.OnBehalf)
	}
	if r != nil {
		args = append(args, "request", r.ID, "state", r.State)
	}
	if err != nil {
		args = append(args, "err", certs.ErrorMessage(err))
	}
	msg := "slackbot: review decision confirmed"
	if p.KindOf() == certs.KindSignOff {
		msg = "slackbot: sign-off confirmed"
	}
	b.log.Info(msg, args...)
}

// rememberReview keeps, on the request, where its review message is, so the
// notifier can redraw it if the worker finishes the request later (it
// waited for another, or its answer was lost). Best effort.
func (b *Bot) rememberReview(ctx context.Context, a certs.Actor, r *certs.Request, ref reviewRef, channel, ts string) {
	if r == nil || r.State.Final() || channel == "" || ts == "" {
		return
	}
	refs := map[string]string{refReviewChannel: channel, refReviewTS: ts, refReviewHead: ref.Head,
		refReviewSummary: ref.Summary, refReviewIdentity: ref.Identity, refReviewPage: strconv.Itoa(ref.Page)}
	if _, err := b.svc.SetFrontendRefs(context.WithoutCancel(ctx), a, r.ID, refs); err != nil {
		b.log.Warn("slackbot: could not remember the review message of a decision", "request", r.ID, "err", err)
	}
}

// morePeople posts the next page of people below the footer that was
// clicked, and turns that footer into a plain note.
func (b *Bot) morePeople(ctx context.Context, u slack.User, ref reviewRef, channel, ts, onBehalf string) error {
	key := "more/" + channel + "/" + ts
	if !b.review.begin(key) {
		return nil
	}
	defer b.review.end(key)
	a, err := b.identities.actor(ctx, u.ID, u.Name)
	if err != nil {
		return err
	}
	d, err := b.svc.GetCertification(ctx, a, ref.Cert)
	if err != nil {
		return err
	}
	st, err := b.seatAt(ctx, a, &d.Certification, onBehalf)
	if err != nil {
		return err
	}
	people, err := b.reviewees(ctx, a, ref.Cert, certs.ReviewItemFilter{})
	if err != nil {
		return err
	}
	offset := min(ref.Page, len(people))
	if _, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, msgOptions(b.render.reviewMore(ref, 0, offset, len(people), true))...); err != nil {
		return slackFailed("update the review", err)
	}
	return b.postPeople(ctx, st, &d.Certification, people, offset, channel, ref.Head)
}

// ---- redrawing

// redraw draws a person's message (page ref.Page) and, when head is set or
// the certification's progress may have changed, the head, as they are now.
func (b *Bot) redraw(ctx context.Context, st *seat, ref reviewRef, channel, ts string, head bool) error {
	d, err := b.svc.GetCertification(ctx, st.Actor, ref.Cert)
	if err != nil {
		return err
	}
	c := &d.Certification
	if err := b.redrawPerson(ctx, st, c, ref, channel, ts); err != nil {
		return err
	}
	if head && ref.Head != "" {
		return b.redrawHead(ctx, st, c, channel, ref.Head)
	}
	return nil
}

// redrawQuietly redraws the person's message and the head after a
// decision; a failure is logged (the decision stands either way).
func (b *Bot) redrawQuietly(ctx context.Context, st *seat, ref reviewRef, channel, ts string) error {
	err := b.redraw(ctx, st, ref, channel, ts, true)
	if err != nil {
		b.log.Warn("slackbot: could not redraw a review message", "certification", ref.Cert, "channel", channel, "ts", ts, "err", err)
	}
	return err
}

func (b *Bot) redrawHeadQuietly(ctx context.Context, st *seat, certID, channel, head string) error {
	d, err := b.svc.GetCertification(ctx, st.Actor, certID)
	if err == nil {
		err = b.redrawHead(ctx, st, &d.Certification, channel, head)
	}
	if err != nil {
		b.log.Warn("slackbot: could not redraw a review's head", "certification", certID, "err", err)
	}
	return err
}

func (b *Bot) redrawPerson(ctx context.Context, st *seat, c *certs.Certification, ref reviewRef, channel, ts string) error {
	if channel == "" || ts == "" || ref.Summary == "" && ref.Identity == "" {
		return nil
	}
	f := certs.ReviewItemFilter{}
	if ref.Summary != "" {
		f.IdentitySummaryIDs = []string{ref.Summary}
	}
	people, err := b.reviewees(ctx, st.Actor, c.ID, f)
	if err != nil {
		return err
	}
	var p reviewee
	for _, q := range people {
		if (ref.Summary != "" && q.Summary == ref.Summary) || (ref.Summary == "" && q.Identity == ref.Identity) {
			p = q
		}
	}
	if len(p.Items) == 0 {
		return nil // nothing of theirs is left here (moved away)
	}
	page := min(ref.Page, max(0, (len(p.Items)-1)/reviewItemsPerMessage))
	var ids []string
	for _, it := range pageOf(p.Items, page) {
		ids = append(ids, it.ID)
	}
	evs, err := b.svc.ListEvidence(ctx, st.Actor, c.ID, ids)
	if err != nil {
		return err
	}
	evidence := map[string]certs.ItemEvidence{}
	for _, ev := range evs {
		evidence[ev.Item.ID] = ev
	}
	if !st.CanDecide && st.WhyNot == "" {
		b.decideSeat(ctx, st, c)
	}
	unlock := b.review.lock(channel, ts)
	defer unlock()
	m := b.render.reviewPerson(b.personView(c, *st, ref.Head, p, page, evidence))
	if _, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...); err != nil {
		return slackFailed("update the review", err)
	}
	return nil
}

// decideSeat fills in whether the seat may decide, for a redraw that did
// not come from a decision.
func (b *Bot) decideSeat(ctx context.Context, st *seat, c *certs.Certification) {
	full, err := b.seatAt(ctx, st.Actor, c, st.OnBehalf)
	if err == nil {
		st.CanDecide, st.WhyNot = full.CanDecide, full.WhyNot
	}
}

func (b *Bot) redrawHead(ctx context.Context, st *seat, c *certs.Certification, channel, head string) error {
	var signOff *certs.Plan
	if c.Phase == certs.PhaseActive && c.Signed == nil && c.DecisionsTotal > 0 && c.DecisionsMade >= c.DecisionsTotal || !st.CanDecide && st.WhyNot == "" {
		full, err := b.seatAt(ctx, st.Actor, c, st.OnBehalf)
		if err != nil {
			return err
		}
		if signOff, err = b.signOffPlan(ctx, full, c); err != nil {
			return err
		}
		st.CanDecide, st.WhyNot = full.CanDecide, full.WhyNot
	}
	unlock := b.review.lock(channel, head)
	defer unlock()
	if _, _, _, err := b.api.UpdateMessageContext(ctx, channel, head, msgOptions(b.render.reviewHead(c, *st, signOff))...); err != nil {
		return slackFailed("update the review", err)
	}
	return nil
}

// decidedWord is "approved" or "revoked".
func decidedWord(d certs.Decision) string {
	if d == certs.DecisionRevoke {
		return "revoked"
	}
	return "approved"
}

func byWhom(d *certs.DecidedFact) string {
	if d == nil || d.By == "" {
		return ""
	}
	return " by " + esc(d.By)
}

// ---- the notifier

// tellReview brings Slack up to date with an event about a reviewer's
// decisions or sign-off. The click that submitted them redrew the review
// and answered the person itself, so only what the worker finished later
// (the request waited for another, or its answer was lost and was settled
// by reading SailPoint) is told here: the review message is redrawn and the
// person gets a DM.
func (n *Notifier) tellReview(ctx context.Context, e certs.Event, req *certs.Request, render bool) error {
	if !render || e.Actor.Frontend != certs.FrontendSystem || (e.Action != certs.ActionCompleted && e.Action != certs.ActionFailed) {
		return nil
	}
	b := n.bot
	a := req.Requester
	if ch, ts := req.FrontendRefs[refReviewChannel], req.FrontendRefs[refReviewTS]; a.Frontend == certs.FrontendSlack && ch != "" && ts != "" {
		page, _ := strconv.Atoi(req.FrontendRefs[refReviewPage])
		ref := reviewRef{Cert: req.Plan.CertificationID, Summary: req.FrontendRefs[refReviewSummary], Identity: req.FrontendRefs[refReviewIdentity],
			Page: page, Head: req.FrontendRefs[refReviewHead]}
		st := seat{Actor: a, OnBehalf: req.Plan.OnBehalf}
		if err := b.redraw(ctx, &st, ref, ch, ts, true); err != nil && !transient(err) {
			// The DM below still tells the outcome.
			b.log.Warn("slackbot: could not redraw a review message", "request", req.ID, "err", err)
		} else if err != nil {
			return err
		}
	}
	if a.Frontend != certs.FrontendSlack || a.ID == "" {
		return nil
	}
	dm := b.render.reviewLater(req)
	if _, _, err := b.api.PostMessageContext(ctx, a.ID, msgOptions(dm)...); err != nil {
		return fmt.Errorf("tell %s about their decisions %s: %w", a.ID, req.ID, err)
	}
	return nil
}
