package slackbot

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
)

// renderer turns Service results into Block Kit. It calls nothing and
// decides nothing; its output is pinned by golden files (render_test.go).
type renderer struct {
	now     func() time.Time
	command string
	certURL string // "{id}" template, see Config.CertificationURL
}

// certLink returns the certification's page in the tenant's UI, or "".
func (r *renderer) certLink(id string) string {
	if r.certURL == "" {
		return ""
	}
	return strings.ReplaceAll(r.certURL, "{id}", url.PathEscape(id))
}

// certName is a certification's name, linked when a URL is configured.
func (r *renderer) certName(id, name string) string {
	if l := r.certLink(id); l != "" {
		return fmt.Sprintf("<%s|%s>", l, esc(name))
	}
	return esc(name)
}

// Slack's limits: a section's text holds 3000 characters, a message 50
// blocks. Lists are cut well inside both.
const sectionLimit = 2900

// esc escapes the three characters Slack's mrkdwn gives meaning to, for text
// that comes from people or SailPoint.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func section(s string) slack.Block { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

func fields(fs ...string) slack.Block {
	var objs []*slack.TextBlockObject
	for _, f := range fs {
		objs = append(objs, mrkdwn(f))
	}
	return slack.NewSectionBlock(nil, objs, nil)
}

func contextLine(s string) slack.Block { return slack.NewContextBlock("", mrkdwn(s)) }

func header(s string) slack.Block {
	if r := []rune(s); len(r) > 150 { // header text limit
		s = string(r[:149]) + "…"
	}
	return slack.NewHeaderBlock(plain(s))
}

// lines packs lines into as few sections as the size limit allows.
func lines(ls []string) []slack.Block {
	var out []slack.Block
	var cur strings.Builder
	for _, l := range ls {
		if cur.Len() > 0 && cur.Len()+len(l)+1 > sectionLimit {
			out = append(out, section(cur.String()))
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 {
		out = append(out, section(cur.String()))
	}
	return out
}

// human says a duration the way people do: "3 days", "5 hours", "1 minute".
func human(d time.Duration) string {
	unit := func(n int, s string) string {
		if n == 1 {
			return "1 " + s
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int((d+30*time.Minute)/time.Hour), "hour")
	default:
		return unit(int((d+12*time.Hour)/(24*time.Hour)), "day")
	}
}

// slackDate shows t as Slack's date formatting: each reader sees it in
// their own time zone, and "today", "yesterday" or "tomorrow" as long as
// the message lasts; clients that cannot format it show the UTC fallback.
// Messages never freeze a relative time ("in 3 days") into their text.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// factTime shows a time the Service gives as text ("2006-01-02 15:04
// UTC", as in a review's decided fact) as a Slack date; any other text as
// it is.
func factTime(s string) string {
	if t, err := time.Parse("2006-01-02 15:04 UTC", s); err == nil {
		return slackDate(t)
	}
	return esc(s)
}

// due says when a certification is due; overdue is flagged as of now.
func (r *renderer) due(due *time.Time, completed bool) string {
	switch {
	case due == nil:
		return "no due date"
	case completed:
		return "was due " + slackDate(*due)
	case !due.Before(r.now()):
		return "due " + slackDate(*due)
	default:
		return ":warning: overdue since " + slackDate(*due)
	}
}

// ago says when t was, as a Slack date (the name is older than the
// wording: it no longer says how long ago).
func (r *renderer) ago(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return slackDate(t)
}

// capitalize starts s with a capital letter, for text that may begin with
// a lower-case word from the Service ("you filed request …"). A leading
// emoji code (":no_entry: ") is skipped, so the word after it is the one
// capitalised.
func capitalize(s string) string {
	rest := s
	prefix := ""
	for strings.HasPrefix(rest, ":") {
		end := strings.Index(rest[1:], ":")
		if end < 0 || strings.ContainsAny(rest[1:end+1], " \n") {
			break
		}
		n := end + 2
		for n < len(rest) && rest[n] == ' ' {
			n++
		}
		prefix, rest = prefix+rest[:n], rest[n:]
	}
	r, size := utf8.DecodeRuneInString(rest)
	if size == 0 || !unicode.IsLower(r) {
		return s
	}
	return prefix + string(unicode.ToUpper(r)) + rest[size:]
}

// bar draws progress as ten cells.
func bar(frac float64) string {
	frac = math.Max(0, math.Min(1, frac))
	n := int(math.Round(frac * 10))
	return strings.Repeat("▰", n) + strings.Repeat("▱", 10-n)
}

func progress(c *certs.Certification) string {
	frac := c.Progress()
	return fmt.Sprintf("%s %d%% · %d/%d decisions · %d/%d identities", bar(frac), int(math.Round(frac*100)),
		c.DecisionsMade, c.DecisionsTotal, c.IdentitiesCompleted, c.IdentitiesTotal)
}

// count says "1 call", "2 calls".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shown says how much of a list a message shows; noun is singular.
func shown(n, total int, noun string) string {
	plural := func(k int) string {
		if k == 1 {
			return noun
		}
		return noun + "s"
	}
	switch {
	case total < 0:
		return fmt.Sprintf("%d %s shown", n, plural(n))
	case total > n:
		return fmt.Sprintf("%d of %d %s shown", n, total, plural(total))
	}
	return fmt.Sprintf("%d %s", total, plural(total))
}

// who names an actor: a Slack mention for Slack users, else the name and
// the front end.
func who(a certs.Actor) string {
	if a.Frontend == certs.FrontendSlack && a.ID != "" {
		return "<@" + a.ID + ">"
	}
	name := a.Name
	if name == "" {
		name = a.ID
	}
	return fmt.Sprintf("%s (via %s)", esc(name), a.Frontend)
}

func reviewerName(rv certs.Reviewer) string {
	if rv.Email != "" {
		return fmt.Sprintf("%s (%s)", esc(rv.Name), esc(rv.Email))
	}
	return esc(rv.Name)
}

func identityName(id certs.Identity) string {
	if id.Email != "" {
		return fmt.Sprintf("%s (%s)", esc(id.Name), esc(id.Email))
	}
	return esc(id.Name)
}

// ---- acknowledgements, help and failures

func (r *renderer) working(cmd string) message {
	return message{Text: fmt.Sprintf(":hourglass_flowing_sand: Working on `%s %s`…", r.command, cmd)}
}

func (r *renderer) busy() message {
	return message{Text: ":warning: certops is busy right now and did not take your command; please try again in a minute."}
}

func (r *renderer) notice(text string) message {
	return message{Text: text, Blocks: []slack.Block{section(text)}}
}

func (r *renderer) help(cmds []*command) message {
	blocks := []slack.Block{
		header("certops: SailPoint certifications from Slack"),
		section("Look at your access reviews, decide them here (`review`), and hand review items to someone better placed. Reassignments need an approver's OK; everything is recorded in certops' audit trail."),
		slack.NewDividerBlock(),
	}
	for _, c := range cmds {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s\n%s", c.usageLine(r.command), esc(c.Summary))
		for _, ex := range c.Examples {
			fmt.Fprintf(&sb, "\n> `%s %s`", r.command, esc(ex))
		}
		blocks = append(blocks, section(sb.String()))
	}
	return message{Text: "certops help: " + r.command + " help", Blocks: blocks}
}

func (r *renderer) unknownCommand(name string, cmds []*command) message {
	var names []string
	for _, c := range cmds {
		names = append(names, "`"+c.Name+"`")
	}
	text := fmt.Sprintf(":grey_question: `%s` is not a %s subcommand. Try one of %s, or `%s help`.",
		esc(name), r.command, strings.Join(names, ", "), r.command)
	return r.notice(text)
}

// failure is the one table from an error to what the user reads.
func (r *renderer) failure(err error) message {
	if ue, ok := err.(*usageError); ok {
		text := fmt.Sprintf(":warning: %s\nUsage: %s", esc(capitalize(ue.msg)), ue.cmd.usageLine(r.command))
		return message{Text: text, Blocks: []slack.Block{section(text), contextLine(fmt.Sprintf("`%s help` lists every subcommand with examples.", r.command))}}
	}
	// The Service's messages start in lower case ("you filed request …"):
	// here each is a sentence of its own.
	msg := esc(capitalize(certs.ErrorMessage(err)))
	var text string
	switch certs.ErrorCode(err) {
	case certs.EINVALID:
		text = ":warning: " + msg
	case certs.ENOTFOUND:
		text = ":mag: " + msg
	case certs.EFORBIDDEN:
		text = ":no_entry: " + msg
	case certs.ECONFLICT:
		text = ":information_source: " + msg
	case certs.ERATELIMITED:
		text = ":snail: SailPoint is limiting how fast certops may call it; try again in a minute. " + msg
	case certs.EUNAVAILABLE:
		// Not "nothing was changed": a reassignment may have sent some of
		// its calls before SailPoint became unreachable; msg says which.
		text = ":cloud: " + msg + " Try again in a moment."
	case certs.EUNKNOWN:
		text = ":question: " + msg + fmt.Sprintf(" Check with `%s status` before trying again.", r.command)
	default:
		// Only what is known: not "nothing was changed", since certops
		// cannot tell how far the failed operation got. Trying again is
		// safe (a plan is filed once, a request submitted once).
		text = ":boom: Something went wrong inside certops; the details are in its logs."
	}
	return r.notice(text)
}

// ---- certifications

func (r *renderer) certificationList(scope, state string, p certs.Page[certs.Certification]) message {
	// scope may hold a mention, which only mrkdwn renders.
	title := fmt.Sprintf("*%s* (%s)", scope, state)
	if len(p.Items) == 0 {
		return r.notice(title + "\nNothing here. :tada:")
	}
	blocks := []slack.Block{section(title)}
	var ls []string
	for _, c := range p.Items {
		ls = append(ls, fmt.Sprintf("*%s* · %s\n%s · %s\n%s · `%s`", r.certName(c.ID, c.Name), esc(c.Campaign.Name),
			reviewerName(c.Reviewer), r.due(c.Due, c.Completed), progress(&c), c.ID))
	}
	for i, l := range ls {
		if i > 0 {
			blocks = append(blocks, slack.NewDividerBlock())
		}
		blocks = append(blocks, section(l))
	}
	blocks = append(blocks, contextLine(fmt.Sprintf("%s · `%s show &lt;id&gt;` for details", shown(len(p.Items), p.Total, "certification"), r.command)))
	return message{Text: title, Blocks: blocks}
}

func (r *renderer) certification(d *certs.CertificationDetail) message {
	c := &d.Certification
	status := string(c.Phase)
	if c.Completed {
		status += ", completed"
	}
	if c.Signed != nil {
		status += ", signed " + slackDate(*c.Signed)
	}
	blocks := []slack.Block{
		header(c.Name),
		fields(
			"*Campaign*\n"+esc(c.Campaign.Name)+" ("+esc(string(c.Campaign.CampaignType))+")",
			"*Reviewer*\n"+reviewerName(c.Reviewer),
			"*Due*\n"+r.due(c.Due, c.Completed),
			"*Status*\n"+esc(status),
		),
		section("*Progress*\n" + progress(c)),
	}
	if c.Reassignment != nil {
		blocks = append(blocks, contextLine(fmt.Sprintf("Reassigned from %s (%s)", reviewerName(c.Reassignment.Reviewer), esc(c.Reassignment.CertificationName))))
	}
	if c.HasErrors {
		blocks = append(blocks, section(":warning: SailPoint reports an error: "+esc(c.ErrorMessage)))
	}
	if len(d.PendingTasks) > 0 {
		var ls []string
		for _, t := range d.PendingTasks {
			ls = append(ls, r.taskLine(&t))
		}
		blocks = append(blocks, section("*Pending SailPoint tasks*\n"+strings.Join(ls, "\n")))
	}
	if len(d.Requests) > 0 {
		var ls []string
		for _, q := range d.Requests {
			ls = append(ls, fmt.Sprintf("`%s` %s · %s to %s · filed by %s %s", q.ID, stateLabel(q.State), count(q.Plan.ItemCount, "item"),
				identityName(q.Plan.To), who(q.Requester), r.ago(q.Created)))
		}
		blocks = append(blocks, section("*Reassignment requests*\n"+strings.Join(ls, "\n")))
	}
	if l := r.certLink(c.ID); l != "" {
		blocks = append(blocks, slack.NewActionBlock("open", slack.NewButtonBlockElement("certops.open", c.ID, plain("Open in SailPoint")).WithURL(l)))
	}
	blocks = append(blocks, contextLine(fmt.Sprintf("`%s` · `%s items %s` lists its review items", c.ID, r.command, c.ID)))
	return message{Text: fmt.Sprintf("%s: %s, %s", c.Name, progress(c), r.due(c.Due, c.Completed)), Blocks: blocks}
}

func (r *renderer) reviewers(certID string, p certs.Page[certs.IdentityRef]) message {
	if len(p.Items) == 0 {
		return r.notice(fmt.Sprintf("Certification `%s` lists no reviewers.", certID))
	}
	var ls []string
	for _, rv := range p.Items {
		l := "• " + esc(rv.Name)
		if rv.Email != "" {
			l += " · " + esc(rv.Email)
		}
		ls = append(ls, l+" · `"+rv.ID+"`")
	}
	blocks := append([]slack.Block{section(fmt.Sprintf("*Reviewers of* `%s`", certID))}, lines(ls)...)
	blocks = append(blocks, contextLine(shown(len(p.Items), p.Total, "reviewer")))
	return message{Text: "Reviewers of " + certID, Blocks: blocks}
}

func (r *renderer) items(certID, about string, p certs.Page[certs.ReviewItem]) message {
	title := fmt.Sprintf("*Review items of* `%s`", certID)
	if about != "" {
		title += " about " + esc(about)
		if strings.HasPrefix(about, "<@") {
			title = fmt.Sprintf("*Review items of* `%s` about %s", certID, about)
		}
	}
	if len(p.Items) == 0 {
		return r.notice(title + "\nNone.")
	}
	var ls []string
	for _, it := range p.Items {
		state := ":white_circle: open"
		if it.Completed || it.Decision != "" {
			state = ":white_check_mark: " + strings.ToLower(string(it.Decision))
		}
		l := fmt.Sprintf("%s · *%s* → %s %s", state, esc(it.IdentitySummary.Name), strings.ToLower(strings.ReplaceAll(string(it.Access.Type), "_", " ")), esc(it.Access.Name))
		if it.Access.SourceName != "" {
			l += " on " + esc(it.Access.SourceName)
		}
		if it.Access.Privileged {
			l += " :closed_lock_with_key: privileged"
		}
		if it.NewAccess {
			l += " :new:"
		}
		ls = append(ls, l+" · `"+it.ID+"`")
	}
	blocks := append([]slack.Block{section(title)}, lines(ls)...)
	blocks = append(blocks, contextLine(fmt.Sprintf("%s · hand items over with `%s reassign %s &lt;item,...&gt; to @user because &lt;reason&gt;`", shown(len(p.Items), p.Total, "item"), r.command, certID)))
	return message{Text: "Review items of " + certID, Blocks: blocks}
}

func (r *renderer) permissions(certID, itemID string, p certs.Page[certs.Permission]) message {
	title := fmt.Sprintf("*Permissions granted by item* `%s` of `%s`", itemID, certID)
	if len(p.Items) == 0 {
		return r.notice(title + "\nNone listed.")
	}
	var ls []string
	for _, pm := range p.Items {
		ls = append(ls, fmt.Sprintf("• *%s*: %s", esc(pm.Target), esc(strings.Join(pm.Rights, ", "))))
	}
	blocks := append([]slack.Block{section(title)}, lines(ls)...)
	blocks = append(blocks, contextLine(shown(len(p.Items), p.Total, "permission")))
	return message{Text: "Permissions of item " + itemID, Blocks: blocks}
}

// ---- tasks

func taskIcon(s certs.TaskStatus) string {
	switch s {
	case certs.TaskSuccess:
		return ":white_check_mark:"
	case certs.TaskError:
		return ":x:"
	case certs.TaskInProgress:
		return ":arrows_counterclockwise:"
	}
	return ":hourglass:"
}

// taskWords says a SailPoint task status in words.
func taskWords(s certs.TaskStatus) string {
	switch s {
	case certs.TaskQueued:
		return "queued"
	case certs.TaskInProgress:
		return "in progress"
	case certs.TaskSuccess:
		return "done"
	case certs.TaskError:
		return "failed"
	}
	return strings.ToLower(strings.ReplaceAll(string(s), "_", " "))
}

// taskTypeWords says what a SailPoint task does.
func taskTypeWords(t certs.TaskType) string {
	switch t {
	case certs.TaskReassign:
		return "reassignment"
	case certs.TaskAdminReassign:
		return "admin reassignment"
	}
	return strings.ToLower(strings.ReplaceAll(string(t), "_", " "))
}

func (r *renderer) taskLine(t *certs.Task) string {
	l := fmt.Sprintf("%s `%s` %s %s, created %s", taskIcon(t.Status), t.ID, esc(taskTypeWords(t.Type)), taskWords(t.Status), r.ago(t.Created))
	if len(t.Errors) > 0 {
		l += ": " + esc(strings.Join(t.Errors, "; "))
	}
	return l
}

func (r *renderer) task(t *certs.Task) message {
	text := fmt.Sprintf("*SailPoint task* `%s`\n%s", t.ID, r.taskLine(t))
	blocks := []slack.Block{section(text)}
	if len(t.Trail) > 0 {
		var ls []string
		for _, tr := range t.Trail {
			ls = append(ls, fmt.Sprintf("• %s → %s", esc(tr.PreviousOwner), esc(tr.NewOwner)))
		}
		blocks = append(blocks, section("*Moved*\n"+strings.Join(ls, "\n")))
	}
	blocks = append(blocks, contextLine(fmt.Sprintf("%s %s", esc(t.TargetType), t.TargetID)))
	return message{Text: fmt.Sprintf("SailPoint task %s: %s", t.ID, taskWords(t.Status)), Blocks: blocks}
}

func (r *renderer) pendingTasks(certID string, ts []certs.Task) message {
	if len(ts) == 0 {
		return r.notice(fmt.Sprintf("Certification `%s` has no queued or running SailPoint tasks.", certID))
	}
	var ls []string
	for _, t := range ts {
		ls = append(ls, r.taskLine(&t))
	}
	blocks := append([]slack.Block{section(fmt.Sprintf("*Pending SailPoint tasks of* `%s`", certID))}, lines(ls)...)
	return message{Text: fmt.Sprintf("%d pending tasks of %s", len(ts), certID), Blocks: blocks}
}

// ---- plans and requests

// planSummary lists what a plan or request moves, from whom, to whom, why.
func (r *renderer) planSummary(p *certs.Plan) []slack.Block {
	cert := r.certName(p.CertificationID, p.CertificationName)
	if p.CampaignName != "" {
		cert += " · " + esc(p.CampaignName)
	}
	names := p.IdentityNames
	more := ""
	if len(names) > 10 {
		more = fmt.Sprintf(" and %d more", len(names)-10)
		names = names[:10]
	}
	var escNames []string
	for _, n := range names {
		escNames = append(escNames, esc(n))
	}
	blocks := []slack.Block{
		fields(
			"*Certification*\n"+cert+"\n`"+p.CertificationID+"`",
			fmt.Sprintf("*Moves*\n%s (%s)", count(p.ItemCount, "review item"), count(len(p.Calls), "SailPoint call")),
			"*From*\n"+reviewerName(p.From),
			"*To*\n"+identityName(p.To),
		),
	}
	if len(escNames) > 0 {
		blocks = append(blocks, section("*About*\n"+strings.Join(escNames, ", ")+more))
	}
	blocks = append(blocks, section("*Why*\n>"+strings.ReplaceAll(esc(p.Reason), "\n", "\n>")))
	for _, w := range p.Warnings {
		blocks = append(blocks, contextLine(":warning: "+esc(w)))
	}
	return blocks
}

func (r *renderer) plan(p *certs.Plan) message {
	blocks := []slack.Block{header("Reassignment plan: please check it")}
	if p.Summary != "" {
		blocks = append(blocks, section(esc(p.Summary)))
	}
	blocks = append(blocks, r.planSummary(p)...)
	confirm := slack.NewButtonBlockElement(actionConfirm, planButtonValue(p), plain("Ask for approval")).WithStyle(slack.StylePrimary)
	cancel := slack.NewButtonBlockElement(actionCancel, p.ID, plain("Cancel"))
	blocks = append(blocks,
		slack.NewActionBlock("plan", confirm, cancel),
		contextLine(fmt.Sprintf("Plan `%s` · nothing changes in SailPoint until an approver approves.", p.ID)))
	return message{Text: "Reassignment plan: " + p.Summary, Blocks: blocks}
}

func (r *renderer) planCancelled() message {
	return r.notice(":wastebasket: Cancelled. Nothing was asked and nothing changed.")
}

func (r *renderer) requestFiled(q *certs.Request, channel string) message {
	where := "the approvers"
	if channel != "" {
		where = "<#" + channel + ">"
	}
	text := fmt.Sprintf(":outbox_tray: Request `%s` is waiting for approval in %s: %s of %s to %s. I'll DM you when it is decided and done. (`%s status %s`)",
		q.ID, where, count(q.Plan.ItemCount, "review item"), esc(q.Plan.CertificationName), identityName(q.Plan.To), r.command, q.ID)
	return r.notice(text)
}

func stateLabel(s certs.RequestState) string {
	switch s {
	case certs.StatePending:
		return ":hourglass_flowing_sand: waiting for approval"
	case certs.StateApproved, certs.StateSubmitting:
		return ":arrow_forward: approved, submitting to SailPoint"
	case certs.StateSubmitted:
		return ":arrows_counterclockwise: SailPoint is moving the items"
	case certs.StateCompleted:
		return ":white_check_mark: done"
	case certs.StateFailed:
		return ":x: failed"
	case certs.StateDenied:
		return ":no_entry_sign: denied"
	case certs.StateExpired:
		return ":alarm_clock: expired"
	case certs.StateCancelled:
		return ":wastebasket: cancelled"
	}
	return string(s)
}

// stateWords says a request's state in words, without an emoji: for the
// fallback text Slack shows in notifications and reads to screen readers.
func stateWords(s certs.RequestState) string {
	switch s {
	case certs.StatePending:
		return "waiting for approval"
	case certs.StateApproved, certs.StateSubmitting:
		return "approved, being sent to SailPoint"
	case certs.StateSubmitted:
		return "approved, SailPoint is moving the items"
	case certs.StateCompleted:
		return "done"
	case certs.StateFailed:
		return "failed"
	case certs.StateDenied:
		return "denied"
	case certs.StateExpired:
		return "expired without a decision"
	case certs.StateCancelled:
		return "cancelled"
	}
	return string(s)
}

// outcome says what became of a request, for the approval message and the
// status command.
func (r *renderer) outcome(q *certs.Request) string {
	var sb strings.Builder
	sb.WriteString("*Status:* " + stateLabel(q.State))
	if q.DecidedBy != nil {
		verb := map[certs.RequestState]string{certs.StateDenied: "Denied", certs.StateCancelled: "Cancelled"}[q.State]
		if verb == "" {
			verb = "Approved"
		}
		fmt.Fprintf(&sb, "\n%s by %s", verb, who(*q.DecidedBy))
		if q.DecisionReason != "" {
			fmt.Fprintf(&sb, ": “%s”", esc(q.DecisionReason))
		}
	}
	switch q.State {
	case certs.StateApproved, certs.StateSubmitting, certs.StateSubmitted, certs.StateCompleted, certs.StateFailed:
		// Calls, not tasks: a synchronous call has none.
		p := q.Progress()
		if p.Calls > 0 {
			fmt.Fprintf(&sb, "\nSailPoint calls: %s %d/%d done", bar(float64(p.Done)/float64(p.Calls)), p.Done, p.Calls)
			for _, n := range []struct {
				calls int
				what  string
			}{{p.Running, "running"}, {p.Failed, "failed"}, {p.Unknown, "outcome unknown"}, {p.NotSent, "not sent"}} {
				if n.calls > 0 {
					fmt.Fprintf(&sb, ", %d %s", n.calls, n.what)
				}
			}
			fmt.Fprintf(&sb, " · %s moved", count(p.ItemsMoved, "item"))
		}
	case certs.StatePending:
		fmt.Fprintf(&sb, "\nExpires %s", slackDate(q.ExpiresAt))
	case certs.StateExpired:
		sb.WriteString("\nNobody decided in time; nothing was changed. Ask again if it is still needed.")
	}
	if q.Error != "" {
		sb.WriteString("\n:warning: " + esc(q.Error))
	}
	for _, t := range q.Tasks {
		if len(t.Errors) == 0 {
			continue
		}
		what := fmt.Sprintf("call %d", t.Call+1)
		if t.TaskID != "" {
			what = fmt.Sprintf("task `%s`", t.TaskID)
		}
		fmt.Fprintf(&sb, "\n:x: %s: %s", what, esc(strings.Join(t.Errors, "; ")))
	}
	return sb.String()
}

// approval is the request's message in the approvals channel. Only a
// pending request has buttons; once decided or expired they are gone.
func (r *renderer) approval(q *certs.Request) message {
	blocks := []slack.Block{
		header(fmt.Sprintf("Reassignment request: %s to %s", count(q.Plan.ItemCount, "item"), q.Plan.To.Name)),
		section(fmt.Sprintf("%s asks to move review work.", who(q.Requester))),
	}
	blocks = append(blocks, r.planSummary(&q.Plan)...)
	blocks = append(blocks, section(r.outcome(q)))
	if q.State == certs.StatePending {
		approve := slack.NewButtonBlockElement(actionApprove, q.ID, plain("Approve")).WithStyle(slack.StylePrimary).
			WithConfirm(slack.NewConfirmationBlockObject(plain("Approve this reassignment?"),
				plain(fmt.Sprintf("%s will move to %s in SailPoint.", count(q.Plan.ItemCount, "review item"), q.Plan.To.Name)),
				plain("Approve"), plain("Back")))
		deny := slack.NewButtonBlockElement(actionDeny, q.ID, plain("Deny")).WithStyle(slack.StyleDanger)
		blocks = append(blocks, slack.NewActionBlock("decide", approve, deny))
	}
	blocks = append(blocks, contextLine(r.requestRef(q)))
	text := fmt.Sprintf("Reassignment request %s: %s of %s to %s — %s", q.ID, count(q.Plan.ItemCount, "item"), q.Plan.CertificationName, q.Plan.To.Name, stateWords(q.State))
	return message{Text: text, Blocks: blocks}
}

// requestRef names a request and when it was filed. A request's id is its
// plan's, so the plan is named only if it ever differs.
func (r *renderer) requestRef(q *certs.Request) string {
	ref := fmt.Sprintf("Request `%s` · filed %s", q.ID, r.ago(q.Created))
	if q.Plan.ID != "" && q.Plan.ID != q.ID {
		ref += fmt.Sprintf(" · plan `%s`", q.Plan.ID)
	}
	return ref
}

func (r *renderer) requestStatus(q *certs.Request) message {
	if q.Plan.KindOf() != certs.KindReassign {
		return r.reviewStatus(q)
	}
	blocks := []slack.Block{section(fmt.Sprintf("*Reassignment request* `%s`, filed by %s %s", q.ID, who(q.Requester), r.ago(q.Created)))}
	blocks = append(blocks, r.planSummary(&q.Plan)...)
	blocks = append(blocks, section(r.outcome(q)))
	return message{Text: fmt.Sprintf("Reassignment request %s: %s", q.ID, stateWords(q.State)), Blocks: blocks}
}

// requesterNotice is the DM the requester gets when their request is
// decided or done.
func (r *renderer) requesterNotice(q *certs.Request, e certs.Event, permalink string) (message, bool) {
	what := fmt.Sprintf("your request `%s` to move %s of %s to %s", q.ID, count(q.Plan.ItemCount, "review item"), esc(q.Plan.CertificationName), identityName(q.Plan.To))
	by := ""
	if q.DecidedBy != nil {
		by = " by " + who(*q.DecidedBy)
	}
	var text string
	switch e.Action {
	case certs.ActionRequestApproved:
		text = fmt.Sprintf(":thumbsup: %s was approved%s; SailPoint is moving the items.", what, by)
	case certs.ActionRequestDenied:
		text = fmt.Sprintf(":no_entry_sign: %s was denied%s.", what, by)
		if q.DecisionReason != "" {
			text += fmt.Sprintf(" Reason: “%s”", esc(q.DecisionReason))
		}
	case certs.ActionRequestExpired:
		text = fmt.Sprintf(":alarm_clock: %s expired before anyone decided; nothing changed.", what)
	case certs.ActionCompleted:
		text = fmt.Sprintf(":white_check_mark: %s is done: %s moved.", what, count(q.Progress().ItemsMoved, "item"))
	case certs.ActionFailed:
		reason := q.Error
		if reason == "" {
			reason = e.Detail
		}
		text = fmt.Sprintf(":x: %s failed: %s", what, esc(reason))
	default:
		return message{}, false
	}
	text = capitalize(text)
	more := fmt.Sprintf("`%s status %s`", r.command, q.ID)
	if permalink != "" {
		more = fmt.Sprintf("<%s|See the request> · %s", permalink, more)
	}
	return message{Text: text, Blocks: []slack.Block{section(text), contextLine(more)}}, true
}

// approvedNow says where an approved request stands, as a sentence.
func approvedNow(q *certs.Request) string {
	switch q.State {
	case certs.StateSubmitted:
		return "SailPoint is moving the items."
	case certs.StateCompleted:
		return fmt.Sprintf("It is done: %s moved.", count(q.Progress().ItemsMoved, "item"))
	case certs.StateFailed:
		if q.Error != "" {
			return "It failed: " + esc(q.Error)
		}
		return "It failed."
	}
	return "certops is sending it to SailPoint."
}

// whatMoves says what a request moves: "3 review items of Q4 review to
// Carol Owner (carol@example.com)".
func whatMoves(q *certs.Request) string {
	return fmt.Sprintf("%s of %s to %s", count(q.Plan.ItemCount, "review item"), esc(q.Plan.CertificationName), identityName(q.Plan.To))
}

// approvedByYou tells the approver whose click approved the request what
// it did; the approval message changes for everyone a moment later.
func (r *renderer) approvedByYou(q *certs.Request) message {
	text := fmt.Sprintf(":white_check_mark: You approved request `%s`: %s. %s", q.ID, whatMoves(q), approvedNow(q))
	if !q.State.Final() {
		text += " The approval message follows SailPoint's progress."
	}
	return r.notice(text)
}

// deniedByYou tells the approver who denied the request what they did.
func (r *renderer) deniedByYou(q *certs.Request) message {
	text := fmt.Sprintf(":no_entry_sign: You denied request `%s`: %s. Nothing changes in SailPoint.", q.ID, whatMoves(q))
	if q.Requester.Frontend == certs.FrontendSlack && q.Requester.ID != "" {
		told := " is told in a DM"
		if q.DecisionReason != "" {
			told += ", with your reason"
		}
		text += " " + who(q.Requester) + told + "."
	}
	return r.notice(text)
}

// decidedAlready answers a click on a request decided before it: who
// decided it (a mention; "you" when it was this person's own earlier
// click, a double click), when, and where it stands now. at is when it was
// decided (zero: not known). ok is false for a request still pending.
func (r *renderer) decidedAlready(q *certs.Request, a certs.Actor, at time.Time) (message, bool) {
	mine := q.DecidedBy != nil && a.Same(*q.DecidedBy)
	by := "someone"
	if q.DecidedBy != nil {
		by = who(*q.DecidedBy)
	}
	when := ""
	if !at.IsZero() {
		when = " " + slackDate(at)
	}
	id := "`" + q.ID + "`"
	var text string
	switch {
	case q.State == certs.StateExpired || q.State == certs.StatePending && !r.now().Before(q.ExpiresAt):
		text = fmt.Sprintf(":alarm_clock: Request %s expired %s before anyone decided it; nothing changed. Ask again if it is still needed.", id, slackDate(q.ExpiresAt))
	case q.State == certs.StatePending:
		return message{}, false
	case q.State == certs.StateDenied && mine:
		text = fmt.Sprintf(":no_entry_sign: You already denied request %s%s; this click changed nothing.", id, when)
	case q.State == certs.StateDenied:
		text = fmt.Sprintf(":no_entry_sign: Request %s was already denied by %s%s.", id, by, when)
		if q.DecisionReason != "" {
			text += fmt.Sprintf(" Reason: “%s”", esc(q.DecisionReason))
		}
	case q.State == certs.StateCancelled && mine:
		text = fmt.Sprintf(":wastebasket: You cancelled request %s%s; nothing changed.", id, when)
	case q.State == certs.StateCancelled:
		text = fmt.Sprintf(":wastebasket: Request %s was cancelled by %s%s; nothing changed.", id, by, when)
	case mine:
		text = fmt.Sprintf(":information_source: You already approved request %s%s; this click changed nothing. %s", id, when, approvedNow(q))
	default:
		text = fmt.Sprintf(":information_source: Request %s was already approved by %s%s. %s", id, by, when, approvedNow(q))
	}
	return r.notice(text), true
}

// denyModal asks an approver for an optional reason.
func (r *renderer) denyModal(requestID, metadata string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(plain("Why not? The requester will see this."), denyAction).
		WithMultiline(true).WithMaxLength(certs.MaxReasonLength)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackDeny,
		Title:           plain("Deny reassignment"),
		Submit:          plain("Deny"),
		Close:           plain("Back"),
		PrivateMetadata: metadata,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf("Deny request `%s`? Nothing will change in SailPoint.", requestID)),
			slack.NewInputBlock(denyBlock, plain("Reason (optional)"), nil, input).WithOptional(true),
		}},
	}
}
