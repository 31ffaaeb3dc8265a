// Package console is Slack without Slack: a terminal in which a person
// types /certs commands, reads the bot's Block Kit answers as text and
// presses their buttons, playing every part (the reviewer, the requester,
// the approver) against the emulated tenant, with no Slack workspace.
//
// The bot it talks to is the real one, unchanged: each command and click is
// the form or payload Slack sends, signed with v0 signing, POSTed to the
// bot's HTTP request URLs (/slack/commands, /slack/interactions); the bot
// answers through the Web API of an in-process fake Slack
// (internal/slackbot/slackfake: chat.postMessage, chat.update,
// chat.postEphemeral, views.open, users.info, files.*) and through the
// response_url of each payload, which the console serves. Whatever reaches
// either is drawn in the terminal (blocks.go); a modal the bot opens
// (a revoke's comment, a denial's reason) asks for its inputs one line at
// a time and is submitted as Slack's view_submission.
//
// Every person is a sandbox identity; the console gives each a Slack user
// id (SlackID) and answers users.info with their email, so the bot maps
// them to their identity as it maps real Slack users.
package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/slackbot/slackfake"
)

// Channels of the console's workspace.
const (
	// Channel is where commands are typed.
	Channel     = "C0CONSOLE1"
	channelName = "console"
	// ApprovalsChannel is where the bot posts requests for approval.
	ApprovalsChannel     = "C0APPROVAL"
	approvalsChannelName = "certops-approvals"
	team                 = "T0CONSOLE1"
)

// Person is someone the console plays: a sandbox identity with the Slack
// user id the console gives it.
type Person struct {
	SlackID    string
	Name       string
	Email      string
	IdentityID string
}

// SlackID is the Slack user id the console gives the identity: U and the
// start of its id, so the same identity is the same Slack user every run.
func SlackID(identityID string) string {
	id := strings.ToUpper(identityID)
	if len(id) > 10 {
		id = id[:10]
	}
	return "U" + id
}

// Directory finds the sandbox's people.
type Directory interface {
	// Find returns the people with this email or identity id or, for
	// anything else, whose name or email starts with query.
	Find(ctx context.Context, query string) ([]Person, error)
}

// Config configures a Console.
type Config struct {
	// Command is the slash command ("/certs").
	Command string
	// People finds whom `as` and @mentions name.
	People Directory
	// You is whom the console plays first; Approver is the configured
	// approver (give the bot Approver.SlackID as its approver).
	You, Approver Person
	// Now is the clock requests are signed with (time.Now when nil).
	Now func() time.Time
	// Echo writes each line read after the prompt, for input that is not
	// a terminal (a script, a test), so that the output reads as a session.
	Echo bool
}

// Console is the terminal and the Slack it stands for. Create it with New,
// give the bot API(), serve the bot, then Run.
type Console struct {
	cfg    Config
	slack  *slackfake.Server
	hooks  *http.Server
	hookLn net.Listener
	client *http.Client

	events  chan event
	printed chan struct{} // closed when the printer has drained events
	closing sync.Once

	botURL, secret string

	mu        sync.Mutex
	out       io.Writer
	people    map[string]Person // by Slack id
	you       string
	msgs      map[string]*msg // by key
	order     []string
	byTS      map[string]string // channel/ts → key
	buttons   map[int]pressable
	nextBtn   int
	nextMsg   int
	hookCtx   map[string]hookContext // response_url id → where it answers
	triggers  map[string]string      // trigger_id → Slack user id
	modals    map[string]*modal      // open modal by Slack user id
	confirm   *pressable             // a press waiting for its dialog's answer
	seq       int
	lastFiles int
}

type msg struct {
	Key, Channel, TS string
	// EphemeralTo is the only user who sees an ephemeral message.
	EphemeralTo string
	Text        string
	Blocks      json.RawMessage
	Deleted     bool
}

type pressable struct {
	Key string
	Btn button
	As  string // who was shown the dialog
}

type hookContext struct{ User, Channel, Key string }

type modal struct {
	User    string
	View    slack.ModalViewRequest
	ViewID  string
	Inputs  []*slack.InputBlock
	Values  map[string]string // by block id
	Next    int
	Summary string
}

type event struct {
	call *slackfake.Call
	hook *hookPost
}

type hookPost struct {
	ID   string
	Body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
	}
}

// New starts the console's Slack: the fake Web API and the response_url
// endpoint, both on loopback ports.
func New(cfg Config) (*Console, error) {
	if cfg.Command == "" {
		cfg.Command = "/certs"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{
		cfg: cfg, client: &http.Client{Timeout: 30 * time.Second},
		events: make(chan event, 4096), printed: make(chan struct{}),
		out: io.Discard, people: map[string]Person{}, msgs: map[string]*msg{}, byTS: map[string]string{},
		buttons: map[int]pressable{}, hookCtx: map[string]hookContext{}, triggers: map[string]string{}, modals: map[string]*modal{},
	}
	for _, p := range []Person{cfg.You, cfg.Approver} {
		if p.SlackID != "" {
			c.people[p.SlackID] = p
		}
	}
	c.you = cfg.You.SlackID
	s, err := slackfake.Start(
		slackfake.LookupUsers(c.lookupUser),
		slackfake.OnCall(func(call slackfake.Call) { c.events <- event{call: &call} }),
	)
	if err != nil {
		return nil, err
	}
	c.slack = s
	c.hookLn, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("console: response_url listener: %w", err)
	}
	c.hooks = &http.Server{Handler: http.HandlerFunc(c.serveHook), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.hooks.Serve(c.hookLn) }()
	return c, nil
}

// API is the Slack Web API client the bot is given: the fake's.
func (c *Console) API() *slack.Client { return c.slack.Client("xoxb-console") }

// Slack is the fake Slack, for tests.
func (c *Console) Slack() *slackfake.Server { return c.slack }

func (c *Console) lookupUser(id string) (slackfake.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.people[id]
	return slackfake.User{Email: p.Email, RealName: p.Name}, ok
}

func (c *Console) serveHook(w http.ResponseWriter, r *http.Request) {
	var h hookPost
	h.ID = strings.TrimPrefix(r.URL.Path, "/hook/")
	if err := json.NewDecoder(r.Body).Decode(&h.Body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	c.events <- event{hook: &h}
	_, _ = io.WriteString(w, "ok")
}

// Run reads lines from in until its end, "quit" or ctx's end, drawing to
// out what the bot sends; the bot serves its request URLs at botURL
// (http://host:port) and verifies them with secret.
func (c *Console) Run(ctx context.Context, botURL, secret string, in io.Reader, out io.Writer) error {
	c.mu.Lock()
	c.out, c.botURL, c.secret = out, strings.TrimSuffix(botURL, "/"), secret
	c.banner()
	c.prompt()
	c.mu.Unlock()
	go c.print()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if c.cfg.Echo {
				c.mu.Lock()
				fmt.Fprintln(c.out, line)
				c.mu.Unlock()
			}
			if !c.handle(ctx, strings.TrimSpace(line)) {
				return nil
			}
		}
	}
}

// Close stops the console's Slack, after drawing what it was sent.
func (c *Console) Close() {
	c.closing.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.hooks.Shutdown(ctx)
		c.slack.Stop()
		close(c.events)
		c.mu.Lock()
		running := c.botURL != ""
		c.mu.Unlock()
		if running {
			<-c.printed
		}
	})
}

// ---- what the person types

const help = `Type a slash command as in Slack, e.g. /certs list, /certs help.
  press N          press button N (or just N); a button with a dialog asks yes/no
  as WHO           be someone else: an email, an identity id or the start of a name
  who              who you are, and the people met so far
  show mN          draw message mN again (with fresh button numbers)
  messages         the messages you can see, one line each
  help             this; quit (or end of input) leaves
In a command, @WHO (an email, id or start of a name) mentions a person.`

// handle does one line; false ends the console.
func (c *Console) handle(ctx context.Context, line string) bool {
	c.mu.Lock()
	if m := c.modals[c.you]; m != nil {
		c.mu.Unlock()
		c.modalInput(ctx, m, line)
		return true
	}
	if p := c.confirm; p != nil {
		c.confirm = nil
		c.mu.Unlock()
		if strings.EqualFold(line, "y") || strings.EqualFold(line, "yes") {
			c.click(ctx, *p)
		} else {
			c.say("Not sent.")
		}
		return true
	}
	c.mu.Unlock()

	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case line == "":
		c.say("")
	case strings.HasPrefix(line, "/"):
		c.command(ctx, line)
	case word == "press" || word == "p":
		c.press(ctx, rest)
	case isNumber(line):
		c.press(ctx, line)
	case word == "as":
		c.become(ctx, rest)
	case word == "who" || word == "whoami" || word == "people":
		c.who()
	case word == "show":
		c.show(rest)
	case word == "messages" || word == "ls":
		c.list()
	case word == "help" || word == "?":
		c.say(help)
	case word == "quit" || word == "exit":
		return false
	default:
		c.say(fmt.Sprintf("%q is not something the console does; type help, or a slash command like %s help", word, c.cfg.Command))
	}
	return true
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// say prints a line of the console's own, then the prompt.
func (c *Console) say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != "" {
		fmt.Fprintln(c.out, s)
	}
	c.prompt()
}

func (c *Console) banner() {
	you := c.people[c.you]
	fmt.Fprintf(c.out, "certops Slack console: the bot runs as in Slack, against the emulated tenant; you type and click for everyone.\n")
	fmt.Fprintf(c.out, "You are %s (%s), a reviewer. The approver is %s (%s): `as %s` to be them.\n",
		you.Name, you.Email, c.cfg.Approver.Name, c.cfg.Approver.Email, c.cfg.Approver.Email)
	fmt.Fprintf(c.out, "Try %s list, then %s review <cert>. help lists what else the console does.\n", c.cfg.Command, c.cfg.Command)
}

// prompt shows who is typing, or the modal's next input. Called with c.mu.
func (c *Console) prompt() {
	you := c.people[c.you]
	if m := c.modals[c.you]; m != nil && m.Next < len(m.Inputs) {
		in := m.Inputs[m.Next]
		label := plainText(in.Label, c)
		if in.Optional {
			label += " (optional, Enter to skip)"
		}
		fmt.Fprintf(c.out, "%s › %s: ", you.Name, label)
		return
	}
	if c.confirm != nil {
		fmt.Fprintf(c.out, "%s › yes or no: ", you.Name)
		return
	}
	fmt.Fprintf(c.out, "%s › ", you.Name)
}

func (c *Console) token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTrigger is a trigger_id for a payload of user, remembered so that a
// views.open with it is shown to them.
func (c *Console) newTrigger(user string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := fmt.Sprintf("%d.%d.%s", c.seq, time.Now().Unix(), c.token())
	c.triggers[t] = user
	return t
}

// newHook is a response_url for a payload of user in channel; key is the
// message clicked ("" for a command).
func (c *Console) newHook(user, channel, key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.token()
	c.hookCtx[id] = hookContext{User: user, Channel: channel, Key: key}
	return "http://" + c.hookLn.Addr().String() + "/hook/" + id
}

func (c *Console) person() Person {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.people[c.you]
}

// command sends a slash command, typed in the console's channel, as Slack
// sends it.
func (c *Console) command(ctx context.Context, line string) {
	name, text, _ := strings.Cut(line, " ")
	if name != c.cfg.Command {
		c.say(fmt.Sprintf("The bot answers %s only.", c.cfg.Command))
		return
	}
	text, err := c.mentions(ctx, strings.TrimSpace(text))
	if err != nil {
		c.say(err.Error())
		return
	}
	you := c.person()
	form := map[string]string{
		"token": "console", "team_id": team, "team_domain": "console", "channel_id": Channel, "channel_name": channelName,
		"user_id": you.SlackID, "user_name": userName(you), "command": name, "text": text,
		"response_url": c.newHook(you.SlackID, Channel, ""), "trigger_id": c.newTrigger(you.SlackID), "api_app_id": "A0CERTOPS1",
	}
	status, body, err := c.post(ctx, "/slack/commands", encodeForm(form))
	if err != nil || status != http.StatusOK {
		c.say(fmt.Sprintf("The bot did not take the command: %s", failure(status, err)))
		return
	}
	c.ack(you.SlackID, body)
}

// ack draws a non-empty acknowledgement: an ephemeral message.
func (c *Console) ack(user string, body []byte) {
	var a struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if len(strings.TrimSpace(string(body))) == 0 || json.Unmarshal(body, &a) != nil || (a.Text == "" && len(a.Blocks) == 0) {
		c.say("")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.addMsg(Channel, "", user, a.Text, a.Blocks)
	c.draw(m, false)
	c.prompt()
}

// mentions turns @WHO in text into Slack's escaped mention <@U…|name>.
func (c *Console) mentions(ctx context.Context, text string) (string, error) {
	words := strings.Fields(text)
	for i, w := range words {
		q, ok := strings.CutPrefix(w, "@")
		if !ok || q == "" {
			continue
		}
		p, err := c.find(ctx, q)
		if err != nil {
			return "", err
		}
		words[i] = fmt.Sprintf("<@%s|%s>", p.SlackID, userName(p))
	}
	return strings.Join(words, " "), nil
}

// find names one person, and adds them to the workspace.
func (c *Console) find(ctx context.Context, q string) (Person, error) {
	found, err := c.cfg.People.Find(ctx, q)
	if err != nil {
		return Person{}, fmt.Errorf("finding %q: %w", q, err)
	}
	switch {
	case len(found) == 0:
		return Person{}, fmt.Errorf("no one in the sandbox is %q: give an email, an identity id or the start of a name", q)
	case len(found) > 1:
		var names []string
		for _, p := range found[:min(len(found), 8)] {
			names = append(names, fmt.Sprintf("%s (%s)", p.Name, p.Email))
		}
		return Person{}, fmt.Errorf("%q could be %s; say which with more of the name, or the email", q, strings.Join(names, ", "))
	}
	p := found[0]
	if p.SlackID == "" {
		p.SlackID = SlackID(p.IdentityID)
	}
	c.mu.Lock()
	c.people[p.SlackID] = p
	c.mu.Unlock()
	return p, nil
}

func userName(p Person) string {
	if at := strings.IndexByte(p.Email, '@'); at > 0 {
		return p.Email[:at]
	}
	return strings.ToLower(strings.ReplaceAll(p.Name, " ", "."))
}

func (c *Console) become(ctx context.Context, q string) {
	if q == "" {
		c.say("as whom? an email, an identity id or the start of a name")
		return
	}
	p, err := c.find(ctx, q)
	if err != nil {
		c.say(err.Error())
		return
	}
	c.mu.Lock()
	c.you = p.SlackID
	role := ""
	if p.SlackID == c.cfg.Approver.SlackID {
		role = ", the approver"
	}
	fmt.Fprintf(c.out, "You are now %s (%s%s).\n", p.Name, p.Email, role)
	if m := c.modals[c.you]; m != nil {
		fmt.Fprintf(c.out, "Your form %q is still open.\n", m.Summary)
	}
	c.prompt()
	c.mu.Unlock()
}

func (c *Console) who() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.people))
	for id := range c.people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := c.people[id]
		mark := "  "
		if id == c.you {
			mark = "→ "
		}
		role := ""
		if id == c.cfg.Approver.SlackID {
			role = " · approver"
		}
		fmt.Fprintf(c.out, "%s%s <%s> · identity %s · Slack %s%s\n", mark, p.Name, p.Email, p.IdentityID, id, role)
	}
	c.prompt()
}

// ---- buttons

func (c *Console) press(ctx context.Context, arg string) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(arg), "#"))
	c.mu.Lock()
	p, ok := c.buttons[n]
	if err != nil || !ok {
		c.mu.Unlock()
		c.say(fmt.Sprintf("No button %q: press one of the numbers shown in [brackets].", arg))
		return
	}
	m := c.msgs[p.Key]
	switch {
	case m == nil || m.Deleted:
		c.mu.Unlock()
		c.say("That message is gone.")
		return
	case !c.visible(m, c.you):
		who := c.people[m.EphemeralTo].Name
		if who == "" {
			who = c.people[m.Channel].Name
		}
		c.mu.Unlock()
		c.say(fmt.Sprintf("Only %s sees %s; `as %s` first.", who, m.Key, who))
		return
	case !hasButton(m, p.Btn):
		fmt.Fprintf(c.out, "Button %d is no longer on %s (it was redrawn); here it is now:\n", n, m.Key)
		c.draw(m, false)
		c.prompt()
		c.mu.Unlock()
		return
	}
	if p.Btn.URL != "" {
		c.mu.Unlock()
		c.say("That button opens " + p.Btn.URL + " in a browser.")
		return
	}
	if cf := p.Btn.Confirm; cf != nil {
		p.As = c.you
		c.confirm = &p
		fmt.Fprintf(c.out, "%s\n  %s\n  yes: %s · no: %s\n", plainText(cf.Title, c), plainText(cf.Text, c), plainText(cf.Confirm, c), plainText(cf.Deny, c))
		c.prompt()
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.click(ctx, p)
}

// hasButton reports whether m still has the button.
func hasButton(m *msg, b button) bool {
	for _, got := range blocksButtons(m.Blocks) {
		if got.ActionID == b.ActionID && got.Value == b.Value {
			return true
		}
	}
	return false
}

func blocksButtons(raw json.RawMessage) []button {
	var bs slack.Blocks
	if len(raw) == 0 || json.Unmarshal(raw, &bs) != nil {
		return nil
	}
	return drawBlocks(bs.BlockSet, noNames{}, func(button) int { return 0 }).buttons
}

type noNames struct{}

func (noNames) userName(string) string    { return "" }
func (noNames) channelName(string) string { return "" }

// click sends the block_actions payload Slack sends for a click on the
// button, carrying the message as it is now.
func (c *Console) click(ctx context.Context, p pressable) {
	c.mu.Lock()
	m := *c.msgs[p.Key]
	you := c.people[c.you]
	c.mu.Unlock()
	ephemeral := m.EphemeralTo != ""
	message := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "bot_id": "B0CERTOPS1", "user": "U0CERTOPS1"}
	if !ephemeral && len(m.Blocks) > 0 {
		message["blocks"] = m.Blocks
	}
	payload := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team, "domain": "console"},
		"user":       map[string]any{"id": you.SlackID, "username": userName(you), "name": userName(you), "team_id": team},
		"api_app_id": "A0CERTOPS1", "token": "console",
		"container":    map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": ephemeral},
		"trigger_id":   c.newTrigger(you.SlackID),
		"channel":      map[string]any{"id": m.Channel, "name": c.channelName(m.Channel)},
		"message":      message,
		"response_url": c.newHook(you.SlackID, m.Channel, m.Key),
		"actions": []map[string]any{{
			"action_id": p.Btn.ActionID, "block_id": p.Btn.BlockID, "value": p.Btn.Value, "type": "button",
			"text":      map[string]any{"type": "plain_text", "text": p.Btn.Text, "emoji": true},
			"action_ts": fmt.Sprintf("%d.%06d", c.cfg.Now().Unix(), c.count()),
		}},
	}
	raw, _ := json.Marshal(payload)
	// Said before it is sent: what the bot answers may come back before
	// the acknowledgement does.
	c.note(fmt.Sprintf("(pressed %s)", mrkdwn(p.Btn.Text, c)))
	status, _, err := c.post(ctx, "/slack/interactions", encodeForm(map[string]string{"payload": string(raw)}))
	if err != nil || status != http.StatusOK {
		c.say("The bot did not take the click: " + failure(status, err))
	}
}

// note prints a line of the console's own, without a prompt: what the bot
// does next prints one.
func (c *Console) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.out, s)
}

func (c *Console) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return c.seq
}

// ---- modals

// modalInput takes one answer for the open modal, and submits it after the
// last input.
func (c *Console) modalInput(ctx context.Context, m *modal, line string) {
	c.mu.Lock()
	if strings.EqualFold(line, "cancel") {
		delete(c.modals, m.User)
		c.mu.Unlock()
		c.say("Form closed; nothing sent.")
		return
	}
	in := m.Inputs[m.Next]
	if line == "" && !in.Optional {
		fmt.Fprintln(c.out, "This one is required (cancel closes the form).")
		c.prompt()
		c.mu.Unlock()
		return
	}
	m.Values[in.BlockID] = line
	m.Next++
	if m.Next < len(m.Inputs) {
		c.prompt()
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.submit(ctx, m)
}

// submit sends the view_submission Slack sends for the modal, and shows
// the errors the bot answers in it, asking those inputs again.
func (c *Console) submit(ctx context.Context, m *modal) {
	c.mu.Lock()
	you := c.people[m.User]
	values := map[string]any{}
	for _, in := range m.Inputs {
		v := m.Values[in.BlockID]
		switch e := in.Element.(type) {
		case *slack.DatePickerBlockElement:
			values[in.BlockID] = map[string]any{e.ActionID: map[string]any{"type": "datepicker", "selected_date": nullable(v)}}
		case *slack.PlainTextInputBlockElement:
			values[in.BlockID] = map[string]any{e.ActionID: map[string]any{"type": "plain_text_input", "value": nullable(v)}}
		}
	}
	c.mu.Unlock()
	view := map[string]any{
		"id": m.ViewID, "type": "modal", "callback_id": m.View.CallbackID, "private_metadata": m.View.PrivateMetadata,
		"hash": c.token(), "title": m.View.Title, "blocks": m.View.Blocks, "state": map[string]any{"values": values},
	}
	payload := map[string]any{
		"type": "view_submission", "team": map[string]any{"id": team, "domain": "console"},
		"user":       map[string]any{"id": you.SlackID, "username": userName(you), "name": userName(you), "team_id": team},
		"api_app_id": "A0CERTOPS1", "token": "console", "trigger_id": c.newTrigger(you.SlackID),
		"view": view, "response_urls": []any{},
	}
	raw, _ := json.Marshal(payload)
	// Closed and said before it is sent (what the bot then does may be
	// drawn before its answer arrives); opened again if the bot answers
	// with errors in it.
	c.mu.Lock()
	delete(c.modals, m.User)
	fmt.Fprintf(c.out, "(submitted %q)\n", m.Summary)
	c.mu.Unlock()
	status, body, err := c.post(ctx, "/slack/interactions", encodeForm(map[string]string{"payload": string(raw)}))
	if err != nil || status != http.StatusOK {
		c.say("The bot did not take the form: " + failure(status, err))
		return
	}
	var answer struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(body, &answer)
	c.mu.Lock()
	defer c.mu.Unlock()
	if answer.ResponseAction == "errors" && len(answer.Errors) > 0 {
		c.modals[m.User] = m
		fmt.Fprintln(c.out, "The form is still open:")
		first := -1
		for i, in := range m.Inputs {
			if e, ok := answer.Errors[in.BlockID]; ok {
				fmt.Fprintf(c.out, "  ✗ %s: %s\n", plainText(in.Label, c), e)
				if first < 0 {
					first = i
				}
			}
		}
		m.Next = max(first, 0)
		c.prompt()
		return
	}
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// ---- what the bot sends

// print draws each event, in the order the fake Slack and the response_url
// endpoint received them, until Close.
func (c *Console) print() {
	defer close(c.printed)
	for e := range c.events {
		c.mu.Lock()
		switch {
		case e.call != nil:
			c.onCall(*e.call)
		case e.hook != nil:
			c.onHook(*e.hook)
		}
		c.mu.Unlock()
	}
}

// onCall draws a Web API call. Called with c.mu.
func (c *Console) onCall(call slackfake.Call) {
	switch call.Method {
	case "chat.postMessage":
		ch := call.Form.Get("channel")
		m := c.addMsg(ch, call.TS, "", call.Form.Get("text"), json.RawMessage(call.Form.Get("blocks")))
		c.byTS[ch+"/"+call.TS] = m.Key
		c.draw(m, false)
	case "chat.update":
		key, ok := c.byTS[call.Form.Get("channel")+"/"+call.Form.Get("ts")]
		if !ok {
			return
		}
		m := c.msgs[key]
		m.Text, m.Blocks = call.Form.Get("text"), json.RawMessage(call.Form.Get("blocks"))
		c.draw(m, true)
	case "chat.postEphemeral":
		m := c.addMsg(call.Form.Get("channel"), call.TS, call.Form.Get("user"), call.Form.Get("text"), json.RawMessage(call.Form.Get("blocks")))
		c.draw(m, false)
	case "views.open":
		c.openModal(call.JSON)
	case "files.completeUploadExternal":
		c.drawFiles()
	default:
		return
	}
	c.prompt()
}

// onHook draws a response_url post. Called with c.mu.
func (c *Console) onHook(h hookPost) {
	hc, ok := c.hookCtx[h.ID]
	if !ok {
		return
	}
	b := h.Body
	orig := c.msgs[hc.Key]
	switch {
	case b.DeleteOriginal && orig != nil:
		orig.Deleted = true
		fmt.Fprintf(c.out, "\n── %s deleted ──\n", orig.Key)
	case b.ReplaceOriginal && orig != nil:
		orig.Text, orig.Blocks = b.Text, b.Blocks
		c.draw(orig, true)
	default:
		to := hc.User
		if b.ResponseType == "in_channel" {
			to = ""
		}
		c.draw(c.addMsg(hc.Channel, "", to, b.Text, b.Blocks), false)
	}
	c.prompt()
}

// addMsg records a new message. Called with c.mu.
func (c *Console) addMsg(channel, ts, ephemeralTo, text string, blocks json.RawMessage) *msg {
	c.nextMsg++
	m := &msg{Key: fmt.Sprintf("m%d", c.nextMsg), Channel: channel, TS: ts, EphemeralTo: ephemeralTo, Text: text, Blocks: blocks}
	c.msgs[m.Key] = m
	c.order = append(c.order, m.Key)
	return m
}

// visible reports whether user sees m: an ephemeral message is its user's,
// a DM (the bot posts to a user id) its user's, a channel everyone's.
func (c *Console) visible(m *msg, user string) bool {
	if m.EphemeralTo != "" {
		return m.EphemeralTo == user
	}
	if _, dm := c.people[m.Channel]; dm || strings.HasPrefix(m.Channel, "U") || strings.HasPrefix(m.Channel, "D") {
		return m.Channel == user
	}
	return true
}

// where says where a message is and who sees it. Called with c.mu.
func (c *Console) where(m *msg) string {
	switch {
	case m.EphemeralTo != "" && (strings.HasPrefix(m.Channel, "U") || strings.HasPrefix(m.Channel, "D")):
		return fmt.Sprintf("DM from certops to %s · only %s sees this", c.nameOf(m.Channel), c.nameOf(m.EphemeralTo))
	case m.EphemeralTo != "":
		return fmt.Sprintf("#%s · only %s sees this", c.channelName(m.Channel), c.nameOf(m.EphemeralTo))
	case strings.HasPrefix(m.Channel, "U") || strings.HasPrefix(m.Channel, "D"):
		return fmt.Sprintf("DM from certops to %s", c.nameOf(m.Channel))
	default:
		return "#" + c.channelName(m.Channel)
	}
}

func (c *Console) nameOf(id string) string {
	if p, ok := c.people[id]; ok {
		return p.Name
	}
	return id
}

// draw prints m with its buttons numbered. Called with c.mu.
func (c *Console) draw(m *msg, updated bool) {
	head := m.Key + " · " + c.where(m)
	if updated {
		head += " · updated"
	}
	fmt.Fprintf(c.out, "\n── %s ──\n", head)
	var bs slack.Blocks
	if len(m.Blocks) == 0 || json.Unmarshal(m.Blocks, &bs) != nil || len(bs.BlockSet) == 0 {
		fmt.Fprintln(c.out, mrkdwn(m.Text, c))
		return
	}
	d := drawBlocks(bs.BlockSet, c, func(b button) int {
		if b.URL != "" {
			return 0
		}
		c.nextBtn++
		c.buttons[c.nextBtn] = pressable{Key: m.Key, Btn: b}
		return c.nextBtn
	})
	for _, l := range d.lines {
		fmt.Fprintln(c.out, l)
	}
}

// show draws a message again.
func (c *Console) show(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.msgs[strings.TrimPrefix(key, "#")]
	switch {
	case !ok || m.Deleted:
		fmt.Fprintf(c.out, "No message %q; `messages` lists them.\n", key)
	case !c.visible(m, c.you):
		fmt.Fprintf(c.out, "You do not see %s.\n", m.Key)
	default:
		c.draw(m, false)
	}
	c.prompt()
}

// list prints one line per message the current person sees.
func (c *Console) list() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.order {
		m := c.msgs[k]
		if m.Deleted || !c.visible(m, c.you) {
			continue
		}
		text := mrkdwn(m.Text, c)
		if r := []rune(text); len(r) > 70 {
			text = string(r[:69]) + "…"
		}
		fmt.Fprintf(c.out, "%-4s %-40s %s\n", m.Key, c.where(m), strings.ReplaceAll(text, "\n", " "))
	}
	c.prompt()
}

// openModal shows a modal the bot opened, and asks its inputs of the person
// who clicked. Called with c.mu.
func (c *Console) openModal(raw json.RawMessage) {
	var open struct {
		TriggerID string                 `json:"trigger_id"`
		View      slack.ModalViewRequest `json:"view"`
	}
	if err := json.Unmarshal(raw, &open); err != nil {
		fmt.Fprintf(c.out, "\n(the bot opened a form the console cannot read: %v)\n", err)
		return
	}
	user := c.triggers[open.TriggerID]
	m := &modal{User: user, View: open.View, ViewID: "V" + strings.ToUpper(c.token()[:10]), Values: map[string]string{}}
	m.Summary = plainText(open.View.Title, c)
	for _, bl := range open.View.Blocks.BlockSet {
		if in, ok := bl.(*slack.InputBlock); ok {
			m.Inputs = append(m.Inputs, in)
		}
	}
	fmt.Fprintf(c.out, "\n── form · %s · for %s ──\n", m.Summary, c.nameOf(user))
	d := drawBlocks(open.View.Blocks.BlockSet, c, func(button) int { return 0 })
	for _, l := range d.lines {
		fmt.Fprintln(c.out, l)
	}
	submit := "Submit"
	if open.View.Submit != nil {
		submit = open.View.Submit.Text
	}
	fmt.Fprintf(c.out, "Answer each input below; after the last the form is sent (%s). cancel closes it.\n", submit)
	if len(m.Inputs) == 0 {
		return
	}
	c.modals[user] = m
}

// drawFiles shows the files shared since last time. Called with c.mu.
func (c *Console) drawFiles() {
	files := c.slack.Files()
	for _, f := range files[c.lastFiles:] {
		if !f.Completed {
			continue
		}
		to := f.Channel
		if len(f.Channels) > 0 {
			to = strings.Join(f.Channels, ",")
		}
		fmt.Fprintf(c.out, "\n── file · %s · shared with %s ──\n%s (%d bytes)\n", f.Title, c.nameOf(to), f.Name, len(f.Content))
		if f.Comment != "" {
			fmt.Fprintln(c.out, mrkdwn(f.Comment, c))
		}
		lines := strings.SplitN(string(f.Content), "\n", 4)
		for _, l := range lines[:min(len(lines), 3)] {
			fmt.Fprintln(c.out, "  | "+l)
		}
	}
	c.lastFiles = len(files)
}

// userName and channelName name Slack ids in mrkdwn (blocks.go's names).
func (c *Console) userName(id string) string {
	if p, ok := c.people[id]; ok {
		return p.Name
	}
	return ""
}

func (c *Console) channelName(id string) string {
	switch id {
	case Channel:
		return channelName
	case ApprovalsChannel:
		return approvalsChannelName
	}
	if p, ok := c.people[id]; ok {
		return "DM " + p.Name
	}
	return ""
}

// ---- HTTP to the bot

// post sends body to the bot's path, signed as Slack signs it.
func (c *Console) post(ctx context.Context, path, body string) (int, []byte, error) {
	req, err := slackfake.SignedRequest(ctx, c.botURL+path, c.secret, body, c.cfg.Now())
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

func failure(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
}

func encodeForm(f map[string]string) string {
	v := url.Values{}
	for k, x := range f {
		v.Set(k, x)
	}
	return v.Encode()
}
