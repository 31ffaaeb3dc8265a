package certs

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Reminders: certops as the reminder system ISC lacks (ISC sends a weekly
// "Certification Due" email after a campaign's first week, none for shorter
// campaigns, and never escalates).
//
// A ladder (CERTOPS_REMINDERS, e.g. "7d,3d,1d,due,overdue:1d") names the
// days, counted from a certification's due date in the reviewer's time zone,
// on which its reviewer should hear about it: "7d" seven days before, "due"
// on the day, "overdue:1d" every day after it. Campaigns may have their own
// ladder (ReminderSchedule.Campaigns, matched on ISC's campaign id or name).
//
// A reviewer gets one digest a day at most, of every open certification they
// review, on a day when a step of any of them has come since their last
// digest: the window (last digest's day, today] catches steps that fell on
// a weekend or outside working hours, and collapses several steps into one
// message. Digests go out on working days in working hours in the
// reviewer's time zone (Mon–Fri 09:00–17:00 by default). Steps before a
// certification was created are skipped, so a 5-day campaign with the
// default ladder gets 3d, 1d, due and overdue reminders. The steps are
// worked out from the due date as it is now, so a due date moved later
// brings its steps back; one moved earlier fires those now passed.
//
// A person may ask for less (ReminderPrefs): weekly (at most one digest in
// 7 days), off, or a snooze until a time. Nothing open, nothing sent.
//
// Escalation (CERTOPS_ESCALATION, e.g. "1d:manager,3d:manager+channel")
// tells the reviewer's manager and/or the admins' channel that a
// certification is late: each step at its offset from the due date
// (negative: before it), once per certification, due date and step; when
// several steps have passed, only the latest is sent.
//
// What is sent is decided here, from the state given; service_reminders.go
// reads ISC once per sweep and keeps the store's record that makes each
// message go out once.

// LadderStep is one rung of a reminder ladder.
type LadderStep struct {
	// Days before the due date (0: the due day). Ignored when Overdue.
	Days int
	// Overdue steps repeat every Every days after the due day.
	Overdue bool
	Every   int
}

func (s LadderStep) String() string {
	switch {
	case s.Overdue:
		return fmt.Sprintf("overdue:%dd", s.Every)
	case s.Days == 0:
		return "due"
	}
	return fmt.Sprintf("%dd", s.Days)
}

// Ladder is a list of steps; Off sends no reminders at all.
type Ladder struct {
	Steps []LadderStep
	Off   bool
}

func (l Ladder) String() string {
	if l.Off {
		return "off"
	}
	parts := make([]string, len(l.Steps))
	for i, s := range l.Steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// DefaultLadder is the ladder when none is configured.
var DefaultLadder = Ladder{Steps: []LadderStep{{Days: 7}, {Days: 3}, {Days: 1}, {Days: 0}, {Overdue: true, Every: 1}}}

// ParseLadder reads "7d,3d,1d,due,overdue:1d" (or "off"). Days are whole
// days ("7d" or "7"); "overdue" alone means every day.
func ParseLadder(s string) (Ladder, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return Ladder{Off: true}, nil
	}
	var l Ladder
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		var st LadderStep
		switch {
		case p == "":
			continue
		case p == "due":
		case p == "overdue":
			st = LadderStep{Overdue: true, Every: 1}
		case strings.HasPrefix(p, "overdue:"):
			n, err := parseDays(strings.TrimPrefix(p, "overdue:"))
			if err != nil || n < 1 {
				return Ladder{}, Errorf(EINVALID, "reminder step %q: overdue:<days> repeats every so many days, at least 1 (e.g. overdue:1d)", part)
			}
			st = LadderStep{Overdue: true, Every: n}
		default:
			n, err := parseDays(p)
			if err != nil || n < 0 {
				return Ladder{}, Errorf(EINVALID, "reminder step %q is not a number of days before the due date (7d), due or overdue:<days>", part)
			}
			st = LadderStep{Days: n}
		}
		if seen[st.String()] {
			continue
		}
		seen[st.String()] = true
		l.Steps = append(l.Steps, st)
	}
	if len(l.Steps) == 0 {
		return Ladder{}, Errorf(EINVALID, "no reminder steps in %q (e.g. 7d,3d,1d,due,overdue:1d, or off)", s)
	}
	if n := len(slices.DeleteFunc(slices.Clone(l.Steps), func(s LadderStep) bool { return !s.Overdue })); n > 1 {
		return Ladder{}, Errorf(EINVALID, "reminder steps %q have %d overdue steps; give one (overdue:<days>)", s, n)
	}
	return l, nil
}

func parseDays(s string) (int, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "d")
	return strconv.Atoi(s)
}

// CampaignLadder is a ladder for the campaigns Match names: an ISC
// campaign id, or a name (case-insensitive, * and ? as wildcards).
type CampaignLadder struct {
	Match  string
	Ladder Ladder
}

// ParseCampaignLadders reads "Q4 SOX*=3d,1d,due;2c91…=off": per campaign
// ladders, separated by ";", each "<campaign id or name>=<ladder>".
func ParseCampaignLadders(s string) ([]CampaignLadder, error) {
	var out []CampaignLadder
	for part := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		match, ladder, ok := strings.Cut(part, "=")
		match = strings.TrimSpace(match)
		if !ok || match == "" {
			return nil, Errorf(EINVALID, "campaign reminders %q: write <campaign id or name>=<steps>", part)
		}
		if _, err := path.Match(strings.ToLower(match), ""); err != nil {
			return nil, Errorf(EINVALID, "campaign reminders %q: bad pattern", match)
		}
		l, err := ParseLadder(ladder)
		if err != nil {
			return nil, err
		}
		out = append(out, CampaignLadder{Match: match, Ladder: l})
	}
	return out, nil
}

// WorkingHours says when digests may be sent, in the reviewer's time zone.
type WorkingHours struct {
	// Start and End are minutes after local midnight; [Start, End).
	Start, End int
	// Days are the working weekdays.
	Days [7]bool
}

// DefaultWorkingHours is Monday to Friday, 09:00 to 17:00.
var DefaultWorkingHours = WorkingHours{Start: 9 * 60, End: 17 * 60,
	Days: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWorkingHours reads hours "09:00-17:00" (or "any") and days
// "Mon-Fri" or "Mon,Tue,Thu" (or "any"); empty parts keep the default.
func ParseWorkingHours(hours, days string) (WorkingHours, error) {
	w := DefaultWorkingHours
	switch h := strings.TrimSpace(hours); {
	case h == "":
	case strings.EqualFold(h, "any"):
		w.Start, w.End = 0, 24*60
	default:
		a, b, ok := strings.Cut(h, "-")
		s, err1 := parseClock(a)
		e, err2 := parseClock(b)
		if !ok || err1 != nil || err2 != nil || e <= s {
			return w, Errorf(EINVALID, "working hours %q: write HH:MM-HH:MM, e.g. 09:00-17:00", hours)
		}
		w.Start, w.End = s, e
	}
	switch d := strings.ToLower(strings.TrimSpace(days)); {
	case d == "":
	case d == "any":
		w.Days = [7]bool{true, true, true, true, true, true, true}
	default:
		w.Days = [7]bool{}
		for part := range strings.SplitSeq(d, ",") {
			a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
			from, ok1 := weekdays[strings.TrimSpace(a)[:min(3, len(strings.TrimSpace(a)))]]
			to := from
			ok2 := true
			if isRange {
				bb := strings.TrimSpace(b)
				to, ok2 = weekdays[bb[:min(3, len(bb))]]
			}
			if !ok1 || !ok2 {
				return w, Errorf(EINVALID, "working days %q: write Mon-Fri or Mon,Tue,Wed", days)
			}
			for wd := from; ; wd = (wd + 1) % 7 {
				w.Days[wd] = true
				if wd == to {
					break
				}
			}
		}
	}
	return w, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

// Working reports whether t (in its location) is a working day and hour.
func (w WorkingHours) Working(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	return w.Days[t.Weekday()] && m >= w.Start && m < w.End
}

// NextStart is the first start of working hours after t's day, in t's
// location: "tomorrow" for a snooze (skipping days off).
func (w WorkingHours) NextStart(t time.Time) time.Time {
	d := day(t)
	for range 8 {
		d = d.AddDate(0, 0, 1)
		if w.Days[d.Weekday()] {
			break
		}
	}
	return d.Add(time.Duration(w.Start) * time.Minute)
}

// NextWeekStart is the start of working hours on the first working day of
// next week (weeks start on Monday), in t's location.
func (w WorkingHours) NextWeekStart(t time.Time) time.Time {
	d := day(t)
	d = d.AddDate(0, 0, 7-(int(d.Weekday())+6)%7) // next Monday
	for range 7 {
		if w.Days[d.Weekday()] {
			break
		}
		d = d.AddDate(0, 0, 1)
	}
	return d.Add(time.Duration(w.Start) * time.Minute)
}

// day is t's local midnight.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// days between two local midnights (b - a), whole days across DST.
func daysBetween(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua).Hours() / 24)
}

// EscalationStep tells someone that a certification is late.
type EscalationStep struct {
	// After is the offset from the due date (negative: before it).
	After time.Duration
	// Manager: the reviewer's manager (ISC identity's manager); Channel:
	// the admins' channel.
	Manager, Channel bool
}

func (e EscalationStep) String() string {
	var to []string
	if e.Manager {
		to = append(to, "manager")
	}
	if e.Channel {
		to = append(to, "channel")
	}
	return formatOffset(e.After) + ":" + strings.Join(to, "+")
}

func formatOffset(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%dh", int(d/time.Hour))
}

// ParseEscalation reads "1d:manager,3d:manager+channel,-12h:channel": each
// step an offset from the due date in days (d) or hours (h), negative for
// before it, and whom to tell. Empty: no escalation.
func ParseEscalation(s string) ([]EscalationStep, error) {
	var out []EscalationStep
	for part := range strings.SplitSeq(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		if p == "" {
			continue
		}
		off, to, ok := strings.Cut(p, ":")
		if !ok {
			return nil, Errorf(EINVALID, "escalation step %q: write <offset from the due date>:<manager|channel|manager+channel>, e.g. 1d:manager", part)
		}
		var d time.Duration
		switch {
		case strings.HasSuffix(off, "h"):
			n, err := strconv.Atoi(strings.TrimSuffix(off, "h"))
			if err != nil {
				return nil, Errorf(EINVALID, "escalation step %q: bad offset %q", part, off)
			}
			d = time.Duration(n) * time.Hour
		default:
			n, err := parseDays(off)
			if err != nil {
				return nil, Errorf(EINVALID, "escalation step %q: bad offset %q", part, off)
			}
			d = time.Duration(n) * 24 * time.Hour
		}
		st := EscalationStep{After: d}
		for who := range strings.SplitSeq(to, "+") {
			switch strings.TrimSpace(who) {
			case "manager":
				st.Manager = true
			case "channel", "admins":
				st.Channel = true
			default:
				return nil, Errorf(EINVALID, "escalation step %q: tell manager, channel or manager+channel", part)
			}
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b EscalationStep) int { return int((a.After - b.After) / time.Minute) })
	return out, nil
}

// ReminderSchedule is the whole reminder configuration.
type ReminderSchedule struct {
	Ladder     Ladder
	Campaigns  []CampaignLadder
	Hours      WorkingHours
	Escalation []EscalationStep
}

// DefaultReminderSchedule is the default ladder and working hours, no
// escalation.
func DefaultReminderSchedule() ReminderSchedule {
	return ReminderSchedule{Ladder: DefaultLadder, Hours: DefaultWorkingHours}
}

// LadderFor is the ladder of a campaign: the first CampaignLadder whose
// Match is its id or matches its name, else the default.
func (s ReminderSchedule) LadderFor(c Campaign) Ladder {
	for _, cl := range s.Campaigns {
		if cl.Match == c.ID {
			return cl.Ladder
		}
		if ok, _ := path.Match(strings.ToLower(cl.Match), strings.ToLower(c.Name)); ok {
			return cl.Ladder
		}
	}
	return s.Ladder
}

// DigestKey names a reviewer's digest of a local day.
func DigestKey(subject string, localDay time.Time) string {
	return "digest/" + subject + "/" + localDay.Format(time.DateOnly)
}

// EscalationKey names one escalation step of a certification due at due.
func EscalationKey(certID string, due time.Time, st EscalationStep) string {
	return "escalation/" + certID + "/" + due.UTC().Format(time.RFC3339) + "/" + st.String()
}

// DigestDue is a digest to send now.
type DigestDue struct {
	Key string
	// Steps says, per certification id, which ladder step made it due
	// (certifications with none are in the digest too: it lists them all).
	Steps map[string]string
}

// DigestDue says whether subject's digest is due at now, in loc (the
// reviewer's time zone), given their open certifications, preferences and
// last digest sent (nil: none).
func (s ReminderSchedule) DigestDue(now time.Time, loc *time.Location, subject string, open []Certification, prefs ReminderPrefs, last *Reminder) (DigestDue, bool) {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	if len(open) == 0 || prefs.Mode == ReminderModeOff || now.Before(prefs.SnoozeUntil) || !s.Hours.Working(local) {
		return DigestDue{}, false
	}
	today := day(local)
	var lastDay time.Time
	if last != nil && !last.Finished.IsZero() {
		lastDay = day(last.Finished.In(loc))
		if !lastDay.Before(today) {
			return DigestDue{}, false
		}
		if prefs.Mode == ReminderModeWeekly && daysBetween(lastDay, today) < 7 {
			return DigestDue{}, false
		}
	}
	// A step fires when its day is in (lastDay, today].
	inWindow := func(d time.Time) bool {
		return !d.After(today) && (lastDay.IsZero() || d.After(lastDay))
	}
	steps := map[string]string{}
	for _, c := range open {
		l := s.LadderFor(c.Campaign)
		if l.Off || c.Due == nil || c.Completed {
			continue
		}
		dueDay := day(c.Due.In(loc))
		createdDay := day(c.Created.In(loc))
		for _, st := range l.Steps {
			if st.Overdue {
				n := daysBetween(dueDay, today)
				if n < st.Every {
					continue
				}
				latest := dueDay.AddDate(0, 0, n/st.Every*st.Every)
				if inWindow(latest) {
					steps[c.ID] = st.String()
				}
				continue
			}
			d := dueDay.AddDate(0, 0, -st.Days)
			if d.Before(createdDay) && !c.Created.IsZero() {
				continue // the campaign is shorter than this step
			}
			if inWindow(d) {
				steps[c.ID] = st.String() // the latest fired step wins: steps go from far to near
			}
		}
	}
	if len(steps) == 0 {
		return DigestDue{}, false
	}
	return DigestDue{Key: DigestKey(subject, today), Steps: steps}, true
}

// EscalationDue is an escalation to send now.
type EscalationDue struct {
	Key  string
	Step EscalationStep
}

// EscalationDue says which escalation of an open certification is due at
// now: the latest step whose time (due date + After) has passed, if any.
// Like digests, escalations go out in working hours of loc (the reviewer's
// time zone).
func (s ReminderSchedule) EscalationDue(now time.Time, loc *time.Location, c Certification) (EscalationDue, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if c.Due == nil || c.Completed || len(s.Escalation) == 0 || !s.Hours.Working(now.In(loc)) {
		return EscalationDue{}, false
	}
	var out EscalationDue
	found := false
	for _, st := range s.Escalation {
		if !now.Before(c.Due.Add(st.After)) {
			out, found = EscalationDue{Key: EscalationKey(c.ID, *c.Due, st), Step: st}, true
		}
	}
	return out, found
}

// SnapshotOf is what a digest records of the certifications it shows.
func SnapshotOf(open []Certification) []ReminderCert {
	out := make([]ReminderCert, len(open))
	for i, c := range open {
		out[i] = ReminderCert{ID: c.ID, Name: c.Name, Due: c.Due, DecisionsMade: c.DecisionsMade, DecisionsTotal: c.DecisionsTotal}
	}
	return out
}

// DigestChanges says, per certification, what changed since the digest
// that showed prev: "new", "N decisions made", "due date moved"; and lists
// the certifications prev showed that are no longer open and theirs (done,
// or reassigned).
func DigestChanges(prev []ReminderCert, open []Certification) (changes map[string]string, gone []ReminderCert) {
	changes = map[string]string{}
	if prev == nil {
		return changes, nil
	}
	before := map[string]ReminderCert{}
	for _, p := range prev {
		before[p.ID] = p
	}
	for _, c := range open {
		p, ok := before[c.ID]
		delete(before, c.ID)
		var what []string
		switch {
		case !ok:
			what = append(what, "new")
		default:
			if n := c.DecisionsMade - p.DecisionsMade; n > 0 {
				what = append(what, plural(n, "decision", "decisions")+" made")
			}
			if (p.Due == nil) != (c.Due == nil) || (p.Due != nil && c.Due != nil && !p.Due.Equal(*c.Due)) {
				what = append(what, "due date moved")
			}
		}
		if len(what) > 0 {
			changes[c.ID] = strings.Join(what, ", ")
		}
	}
	for _, p := range prev {
		if _, ok := before[p.ID]; ok {
			gone = append(gone, p)
		}
	}
	return changes, gone
}
