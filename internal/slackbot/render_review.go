package slackbot

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// The review's messages (review.go). Like the rest of render.go, these call
// nothing and decide nothing; golden files pin them (render_review_test.go).

// personView is what a person's message shows.
type personView struct {
	Cert  *certs.Certification
	Seat  seat
	Head  string // ts of the review's head message
	Who   reviewee
	Page  int // of the person's items
	Pages int
	Open  int                  // the person's open items, on every page
	Items []certs.ItemEvidence // this page's
}

// short cuts s to n characters (for button labels and headers).
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func accessKind(t certs.AccessType) string {
	return strings.ToLower(strings.ReplaceAll(string(t), "_", " "))
}

// signedOff reports whether c's decisions are final. (ISC's completed
// means every item is decided; they may still change until sign-off.)
func signedOff(c *certs.Certification) bool { return c.Phase == certs.PhaseSigned || c.Signed != nil }

// ownItem reports whether the viewer's own access is the item's: the
// Service refuses such a decision; the message offers none.
func ownItem(st seat, ev certs.ItemEvidence) bool {
	return st.Actor.IdentityID != "" && strings.EqualFold(st.Actor.IdentityID, ev.Item.IdentitySummary.IdentityID)
}

// evidenceLine is an item and its evidence, in one line: the access, what
// certops points out (each remark with the facts it comes from) and any
// decision made, with who made it.
func (r *renderer) evidenceLine(ev certs.ItemEvidence, own bool) string {
	it := ev.Item
	var sb strings.Builder
	switch {
	case it.Decision == certs.DecisionApprove:
		sb.WriteString(":white_check_mark: ")
	case it.Decision == certs.DecisionRevoke:
		sb.WriteString(":x: ")
	default:
		sb.WriteString(":white_circle: ")
	}
	fmt.Fprintf(&sb, "*%s* · %s", esc(it.Access.Name), accessKind(it.Access.Type))
	if it.Access.SourceName != "" {
		sb.WriteString(" on " + esc(it.Access.SourceName))
	}
	// The remarks below say privileged and new in words, with their facts.
	if it.Access.Privileged {
		sb.WriteString(" :closed_lock_with_key:")
	}
	if it.NewAccess {
		sb.WriteString(" :new:")
	}
	switch ev.Peers {
	case 0:
	case 1:
		sb.WriteString(" · 1 other here holds it")
	default:
		fmt.Fprintf(&sb, " · %d others here hold it", ev.Peers)
	}
	if it.Access.HasPermissions {
		sb.WriteString(" · grants permissions")
	}
	if f := ev.Reassigned; f != nil {
		fmt.Fprintf(&sb, " · reassigned from %s", esc(f.From))
		if f.Reason != "" {
			fmt.Fprintf(&sb, " (“%s”)", esc(short(f.Reason, 120)))
		}
	}
	for _, rm := range ev.Remarks {
		if rm.Text == "came to you by a reassignment" {
			continue // said above, with whom from
		}
		fmt.Fprintf(&sb, " · _%s_ (%s)", esc(rm.Text), esc(strings.Join(rm.Facts, "; ")))
	}
	if d := ev.Decided; d != nil {
		fmt.Fprintf(&sb, " · *%s*", map[certs.Decision]string{certs.DecisionApprove: "Approved", certs.DecisionRevoke: "Revoked"}[d.Decision])
		if d.By != "" {
			sb.WriteString(" by " + esc(d.By))
		}
		if d.At != "" {
			sb.WriteString(", " + factTime(d.At))
		}
		if d.Comments != "" {
			fmt.Fprintf(&sb, ": “%s”", esc(short(d.Comments, 200)))
		}
	}
	if own {
		sb.WriteString(" · :bust_in_silhouette: your own access: someone else decides it")
	}
	return short(sb.String(), sectionLimit)
}

// behalfBlock shows, and carries for the clicks on its message, an admin's
// reason for deciding on the reviewer's behalf.
func (r *renderer) behalfBlock(c *certs.Certification, st seat) []slack.Block {
	if st.OnBehalf == "" || !st.CanDecide {
		return nil
	}
	btn := slack.NewButtonBlockElement(actionReviewBehalf, st.OnBehalf, plain("Why on the reviewer's behalf?"))
	return []slack.Block{
		contextLine(fmt.Sprintf(":busts_in_silhouette: You decide on %s's behalf: “%s”. The reason is kept with every decision.", esc(c.Reviewer.Name), esc(short(st.OnBehalf, 300)))),
		slack.NewActionBlock("behalf", btn),
	}
}

// seatNote says why the viewer cannot decide, or why nobody can.
func (r *renderer) seatNote(c *certs.Certification, st seat) string {
	switch {
	case signedOff(c):
		return ":lock: Signed off: its decisions are final."
	case c.Phase != certs.PhaseActive:
		return fmt.Sprintf(":hourglass: It is %s; decisions are taken only while it is ACTIVE.", esc(string(c.Phase)))
	case !st.CanDecide && st.WhyNot != "":
		text := ":no_entry: You can look, not decide: " + esc(st.WhyNot)
		if st.Actor.Role == certs.RoleAdmin {
			text += fmt.Sprintf("\nAs an admin you may decide on the reviewer's behalf: `%s review %s because <reason>`.", r.command, c.ID)
		}
		return text
	}
	return ""
}

// reviewHead is the review's first message: the certification, its
// progress and, once every item is decided, Sign off (the plan signOff,
// with Slack's confirmation dialog).
func (r *renderer) reviewHead(c *certs.Certification, st seat, signOff *certs.Plan) message {
	status := string(c.Phase)
	if c.Signed != nil {
		status += ", signed " + slackDate(*c.Signed)
	}
	blocks := []slack.Block{
		header("Review: " + c.Name),
		fields(
			"*Campaign*\n"+esc(c.Campaign.Name),
			"*Reviewer*\n"+reviewerName(c.Reviewer),
			"*Due*\n"+r.due(c.Due, signedOff(c)),
			"*Status*\n"+esc(status),
		),
		section("*Progress*\n" + progress(c)),
	}
	if note := r.seatNote(c, st); note != "" {
		blocks = append(blocks, section(note))
	} else {
		blocks = append(blocks, section(fmt.Sprintf("Each person below has a message with their items and the facts about each. *Approve* or *Revoke* each item (a revoke asks for a comment%s); *Approve the rest* shows what it would approve before anything is sent. %s",
			commentRuleNote(c.Campaign.MandatoryCommentRequirement), "Revoked access is removed when the certification is signed off.")))
	}
	blocks = append(blocks, r.behalfBlock(c, st)...)
	if signOff != nil && st.CanDecide {
		btn := slack.NewButtonBlockElement(actionReviewSignOff, planRefValue(signOff, reviewRef{Cert: c.ID}), plain("Sign off")).WithStyle(slack.StylePrimary).
			WithConfirm(slack.NewConfirmationBlockObject(plain("Sign off this certification?"),
				plain(short(fmt.Sprintf("%d decisions become final and SailPoint carries out the revocations. This cannot be undone.", c.DecisionsTotal), 300)),
				plain("Sign off"), plain("Back")))
		blocks = append(blocks,
			section(":tada: Every item is decided. Sign off when you are done: the decisions then become final."),
			slack.NewActionBlock("signoff", btn))
	}
	blocks = append(blocks, contextLine(fmt.Sprintf("`%s` · `%s show %s` for pending tasks and requests", c.ID, r.command, c.ID)))
	return message{Text: fmt.Sprintf("Review of %s: %s", c.Name, progress(c)), Blocks: blocks}
}

func commentRuleNote(rule string) string {
	switch rule {
	case certs.CommentsOnAll:
		return "; this campaign requires a comment on every decision"
	case certs.CommentsOnRevoke:
		return ", which this campaign requires"
	}
	return ""
}

// reviewPerson is one person's message: their items with evidence and
// Approve / Revoke (a decided item offers the other decision until
// sign-off), Approve the rest, and paging through their items.
func (r *renderer) reviewPerson(v personView) message {
	c, st := v.Cert, v.Seat
	who := v.Who.Name
	if who == "" {
		who = v.Who.Identity
	}
	decidable := st.CanDecide && c.Phase == certs.PhaseActive && !signedOff(c)
	blocks := []slack.Block{header(who)}
	var facts []string
	if len(v.Items) > 0 {
		id := v.Items[0]
		if id.Identity.Email != "" {
			facts = append(facts, esc(id.Identity.Email))
		}
		if m := id.Manager; m != nil {
			facts = append(facts, "manager "+esc(m.Name))
		}
	}
	facts = append(facts, fmt.Sprintf("%s, %d open", count(len(v.Who.Items), "item"), v.Open))
	facts = append(facts, "in "+r.certName(c.ID, c.Name))
	blocks = append(blocks, contextLine(strings.Join(facts, " · ")))
	ref := reviewRef{Cert: c.ID, Summary: v.Who.Summary, Identity: v.Who.Identity, Page: v.Page, Head: v.Head, Rule: c.Campaign.MandatoryCommentRequirement}
	ownPerson := false
	for _, ev := range v.Items {
		own := ownItem(st, ev)
		ownPerson = ownPerson || own
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(r.evidenceLine(ev, own)), nil, nil, slack.SectionBlockOptionBlockID(itemBlockID(ev.Item.ID))))
		if !decidable || own {
			continue
		}
		iref := ref
		iref.Item = ev.Item.ID
		approve := slack.NewButtonBlockElement(actionReviewApprove, iref.String(), plain("Approve"))
		revoke := slack.NewButtonBlockElement(actionReviewRevoke, iref.String(), plain("Revoke"))
		var els []slack.BlockElement
		switch ev.Item.Decision {
		case certs.DecisionApprove:
			revoke.Text = plain("Revoke instead")
			els = []slack.BlockElement{revoke}
		case certs.DecisionRevoke:
			approve.Text = plain("Approve instead")
			els = []slack.BlockElement{approve}
		default:
			els = []slack.BlockElement{approve.WithStyle(slack.StylePrimary), revoke.WithStyle(slack.StyleDanger)}
		}
		blocks = append(blocks, slack.NewActionBlock("act:"+ev.Item.ID, els...))
	}
	var foot []slack.BlockElement
	if decidable && v.Open > 0 && !ownPerson {
		label := fmt.Sprintf("Approve the rest of %s's items", short(who, 40))
		foot = append(foot, slack.NewButtonBlockElement(actionReviewRest, ref.String(), plain(label)))
	}
	if v.Page > 0 {
		p := ref
		p.Page = v.Page - 1
		foot = append(foot, slack.NewButtonBlockElement(actionReviewPage, p.String(), plain(fmt.Sprintf("◀ Items %d–%d", p.Page*reviewItemsPerMessage+1, (p.Page+1)*reviewItemsPerMessage))))
	}
	if v.Page+1 < v.Pages {
		p := ref
		p.Page = v.Page + 1
		foot = append(foot, slack.NewButtonBlockElement(actionReviewPage, p.String(), plain(fmt.Sprintf("Items %d–%d ▶", p.Page*reviewItemsPerMessage+1, min((p.Page+1)*reviewItemsPerMessage, len(v.Who.Items))))))
	}
	foot = append(foot, slack.NewButtonBlockElement(actionReviewRefresh, ref.String(), plain("↻ Refresh")))
	blocks = append(blocks, slack.NewActionBlock("person", foot...))
	blocks = append(blocks, r.behalfBlock(c, st)...)
	var tail []string
	if v.Pages > 1 {
		first := v.Page*reviewItemsPerMessage + 1
		tail = append(tail, fmt.Sprintf("Items %d–%d of %d", first, first+len(v.Items)-1, len(v.Who.Items)))
	}
	if note := r.seatNote(c, st); note != "" {
		tail = append(tail, note)
	}
	if len(tail) > 0 {
		blocks = append(blocks, contextLine(strings.Join(tail, " · ")))
	}
	return message{Text: fmt.Sprintf("Review of %s's access in %s: %d of %s open", who, c.Name, v.Open, count(len(v.Who.Items), "item")), Blocks: blocks}
}

// reviewMore is the footer under a page of people: the next ones on a
// click (done: they were shown).
func (r *renderer) reviewMore(ref reviewRef, from, to, total int, done bool) message {
	if done {
		text := fmt.Sprintf("People %d–%d of %d are above; the next ones follow.", 1, to, total)
		return message{Text: text, Blocks: []slack.Block{contextLine(text)}}
	}
	next := min(reviewPeoplePerPage, total-to)
	text := fmt.Sprintf("People %d–%d of %d are shown above.", from+1, to, total)
	btn := slack.NewButtonBlockElement(actionReviewMore, ref.String(), plain(fmt.Sprintf("Show the next %d", next)))
	return message{Text: text, Blocks: []slack.Block{section(text), slack.NewActionBlock("more", btn)}}
}

// reviewOpened answers the command.
func (r *renderer) reviewOpened(c *certs.Certification, people int, channel string) message {
	where := "your DM with certops"
	if strings.HasPrefix(channel, "D") {
		where = "<#" + channel + ">"
	}
	who := "1 person"
	if people != 1 {
		who = fmt.Sprintf("%d people", people)
	}
	return r.notice(fmt.Sprintf(":clipboard: Your review of *%s* is open in %s: %s, %d of %d items decided.",
		esc(c.Name), where, who, c.DecisionsMade, c.DecisionsTotal))
}

// reviewConfirm shows a plan of several decisions with Confirm / Cancel.
func (r *renderer) reviewConfirm(p *certs.Plan, ref reviewRef) message {
	approve, revoke := 0, 0
	for _, call := range p.Decisions {
		for _, d := range call.Items {
			if d.Decision == certs.DecisionRevoke {
				revoke++
			} else {
				approve++
			}
		}
	}
	title := fmt.Sprintf("Approve %s?", count(approve, "item"))
	if revoke > 0 {
		title = fmt.Sprintf("Approve %d and revoke %d items?", approve, revoke)
	}
	blocks := []slack.Block{header(title), section(esc(p.Summary))}
	var ls []string
	for i, ev := range p.Evidence {
		if i == 15 {
			ls = append(ls, fmt.Sprintf("… and %d more", len(p.Evidence)-i))
			break
		}
		l := fmt.Sprintf("• *%s* → %s %s", esc(ev.Item.IdentitySummary.Name), accessKind(ev.Item.Access.Type), esc(ev.Item.Access.Name))
		if ev.Item.Access.Privileged {
			l += " :closed_lock_with_key: privileged"
		}
		if ev.Item.NewAccess {
			l += " :new:"
		}
		ls = append(ls, l)
	}
	blocks = append(blocks, lines(ls)...)
	for _, w := range p.Warnings {
		blocks = append(blocks, contextLine(":warning: "+esc(w)))
	}
	confirm := slack.NewButtonBlockElement(actionReviewConfirm, planRefValue(p, ref), plain(short(strings.TrimSuffix(title, "?"), 75))).WithStyle(slack.StylePrimary)
	cancel := slack.NewButtonBlockElement(actionReviewCancel, p.ID, plain("Cancel"))
	blocks = append(blocks, slack.NewActionBlock("confirm", confirm, cancel),
		contextLine(fmt.Sprintf("Plan `%s` · nothing is sent to SailPoint until you confirm.", p.ID)))
	return message{Text: title + " " + p.Summary, Blocks: blocks}
}

// reviewSubmitted says what became of decisions or a sign-off the person
// confirmed. A single decision that is done needs no words: its message
// shows it.
func (r *renderer) reviewSubmitted(q *certs.Request, several bool) message {
	p := &q.Plan
	switch {
	case q.State == certs.StateCompleted && p.KindOf() == certs.KindSignOff:
		return r.notice(fmt.Sprintf(":lock: Certification *%s* is signed off. SailPoint carries out the revocations.", esc(p.CertificationName)))
	case q.State == certs.StateCompleted && several:
		return r.notice(fmt.Sprintf(":white_check_mark: Done: %s.", esc(strings.TrimSuffix(p.Summary, "."))))
	case q.State == certs.StateCompleted:
		return message{}
	case q.State == certs.StateSubmitting && q.WaitingFor != "":
		return r.notice(":hourglass_flowing_sand: Another change to this certification is being sent; yours follows in a moment and the review will update. Nothing is sent twice.")
	case q.State == certs.StateFailed:
		return r.notice(":x: " + esc(q.Error))
	}
	return r.notice(fmt.Sprintf(":hourglass_flowing_sand: Sent; SailPoint has not confirmed yet (`%s status %s`).", r.command, q.ID))
}

// reviewAlready answers a click on a plan submitted already (by an earlier
// click, here or on another replica).
func (r *renderer) reviewAlready(q *certs.Request) message {
	what := "These decisions were"
	if q.Plan.KindOf() == certs.KindSignOff {
		what = "The sign-off was"
	}
	return r.notice(fmt.Sprintf(":information_source: %s already confirmed (request `%s`, %s); nothing was sent again.", what, q.ID, stateLabel(q.State)))
}

// reviewModal asks for a decision's comment (required when the campaign's
// rule says so) and, for a revoke, an optional end date.
func (r *renderer) reviewModal(ref reviewRef, meta reviewModalMeta, line, metadata string) slack.ModalViewRequest {
	required := commentRequired(ref.Rule, meta.Decision)
	title, submit := "Revoke access", "Revoke"
	what := "Revoke this access?"
	switch {
	case meta.Rest:
		title, submit, what = "Approve the rest", "Continue", "Approve every open item of this person? You will see exactly which before anything is sent."
	case meta.Decision == certs.DecisionApprove:
		title, submit, what = "Approve access", "Approve", "Approve this access?"
	}
	blocks := []slack.Block{section(what)}
	if line != "" {
		blocks = append(blocks, section(line))
	}
	hint := "Optional. Auditors read it with the decision."
	if required {
		hint = "This campaign requires a comment on " + map[bool]string{true: "every decision.", false: "every revoke."}[ref.Rule == certs.CommentsOnAll]
	}
	comment := slack.NewPlainTextInputBlockElement(plain("Why?"), reviewCommentAction).WithMultiline(true).WithMaxLength(certs.MaxCommentLength)
	blocks = append(blocks, slack.NewInputBlock(reviewCommentBlock, plain("Comment"), plain(hint), comment).WithOptional(!required))
	if meta.Decision == certs.DecisionRevoke && !meta.Rest {
		end := slack.NewDatePickerBlockElement(reviewEndAction)
		end.Placeholder = plain("Pick a date")
		blocks = append(blocks, slack.NewInputBlock(reviewEndBlock, plain("Remove the access on"), plain("Optional: a proposed end date. Without one the access is removed when the certification is signed off."), end).WithOptional(true))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackReviewDecide,
		Title:           plain(title),
		Submit:          plain(submit),
		Close:           plain("Back"),
		PrivateMetadata: metadata,
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// reviewLater is the DM about decisions or a sign-off the worker finished
// after the click that confirmed them had answered.
func (r *renderer) reviewLater(q *certs.Request) message {
	p := &q.Plan
	what := fmt.Sprintf("Your %s in *%s*", count(p.ItemCount, "decision"), esc(p.CertificationName))
	if p.KindOf() == certs.KindSignOff {
		what = fmt.Sprintf("Your sign-off of *%s*", esc(p.CertificationName))
	}
	var text string
	if q.State == certs.StateCompleted {
		text = fmt.Sprintf(":white_check_mark: %s went through after all: %s.", what, esc(strings.TrimSuffix(p.Summary, ".")))
	} else {
		text = fmt.Sprintf(":x: %s did not go through: %s", what, esc(q.Error))
	}
	return message{Text: text, Blocks: []slack.Block{section(text), contextLine(fmt.Sprintf("`%s status %s`", r.command, q.ID))}}
}

// reviewStatus is `/certs status` for a reviewer's decisions or sign-off.
func (r *renderer) reviewStatus(q *certs.Request) message {
	p := &q.Plan
	kind := "Decisions"
	if p.KindOf() == certs.KindSignOff {
		kind = "Sign-off"
	}
	var state string
	switch {
	case q.State == certs.StateCompleted:
		state = ":white_check_mark: recorded in SailPoint"
	case q.State == certs.StateFailed:
		state = ":x: failed: " + esc(q.Error)
	case q.WaitingFor != "":
		state = ":hourglass_flowing_sand: waiting for another change to the certification to be sent first"
	default:
		state = ":hourglass_flowing_sand: " + esc(string(q.State)) + "; nothing is sent twice"
		for _, t := range q.Tasks {
			if t.State == certs.CallUnknown || t.State == certs.CallUnconfirmed {
				state = ":question: sent, but SailPoint's answer was lost; certops is reading SailPoint to find out, and never sends it again"
			}
		}
	}
	text := fmt.Sprintf("*%s* `%s`, by %s %s\n%s\n*Status:* %s", kind, q.ID, who(q.Requester), r.ago(q.Created), esc(p.Summary), state)
	return message{Text: fmt.Sprintf("%s %s: %s", kind, q.ID, q.State), Blocks: []slack.Block{section(text), contextLine(fmt.Sprintf("Certification `%s` · plan digest `%s`", p.CertificationID, p.Digest))}}
}
