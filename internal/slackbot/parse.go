package slackbot

import (
	"regexp"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// Slack escapes a user mention in command text as <@U123|name> (or <@U123>
// when the app does not ask for escaping) and an email as
// <mailto:a@b.c|a@b.c>.
var (
	mentionRE = regexp.MustCompile(`^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$`)
	mailtoRE  = regexp.MustCompile(`^<mailto:([^|>]+)(?:\|[^>]*)?>$`)
)

// userMention returns the Slack user id of a <@U…> token.
func userMention(tok string) (string, bool) {
	m := mentionRE.FindStringSubmatch(tok)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// emailArg returns the address of a plain or <mailto:…> email token.
func emailArg(tok string) (string, bool) {
	if m := mailtoRE.FindStringSubmatch(tok); m != nil {
		tok = m[1]
	}
	at := strings.IndexByte(tok, '@')
	if at <= 0 || at == len(tok)-1 || strings.ContainsAny(tok, "<>| \t") {
		return "", false
	}
	return tok, true
}

// usageError is a malformed command: the user sees msg and the usage line of
// the subcommand.
type usageError struct {
	cmd *command
	msg string
}

func (e *usageError) Error() string { return e.msg }

// idArg validates an id argument at the edge, before any call.
func idArg(c *command, what, v string) (string, error) {
	if err := certs.ValidateID(what, v); err != nil {
		return "", &usageError{cmd: c, msg: certs.ErrorMessage(err)}
	}
	return v, nil
}

// userArg is a person named in a command: a Slack user (mapped to an ISC
// identity by email when the command runs), an email, or an identity id.
type userArg struct {
	SlackID string
	Email   string
	ID      string
}

func (u userArg) String() string {
	switch {
	case u.SlackID != "":
		return "<@" + u.SlackID + ">"
	case u.Email != "":
		return u.Email
	}
	return u.ID
}

// splitWord cuts the first whitespace-separated word from s.
func splitWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

// cutKeyword splits s around the first standalone word kw (case-insensitive).
func cutKeyword(s, kw string) (before, after string, found bool) {
	fields := strings.Fields(s)
	pos := 0
	for _, f := range fields {
		i := strings.Index(s[pos:], f) + pos
		if strings.EqualFold(f, kw) {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(f):]), true
		}
		pos = i + len(f)
	}
	return s, "", false
}
