package console

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

// Rendering Block Kit as text a person reads in a terminal: headers
// underlined, sections and fields as paragraphs, context lines dimmed with
// a leading "·", dividers as a rule, buttons numbered ([3 Approve]) so that
// `press 3` clicks them, and Slack's mrkdwn made plain: *bold* and _italic_
// markers dropped, <@U…> mentions, <#C…> channels and <url|text> links
// spelled out, the emoji the bot uses shown as characters.

// button is a button as drawn: what a press of its number sends.
type button struct {
	ActionID, BlockID, Value, Text, URL string
	// Confirm is the button's confirmation dialog (Slack shows it before
	// sending the click), nil when it has none.
	Confirm *slack.ConfirmationBlockObject
}

// names turns Slack ids into names for people and channels.
type names interface {
	userName(id string) string
	channelName(id string) string
}

// drawing is blocks made into lines, with the buttons in drawing order.
type drawing struct {
	lines   []string
	buttons []button
}

// drawBlocks renders blocks; number gives each button the number shown.
func drawBlocks(blocks []slack.Block, n names, number func(button) int) drawing {
	var d drawing
	add := func(s string) {
		d.lines = append(d.lines, strings.Split(s, "\n")...)
	}
	for _, bl := range blocks {
		switch b := bl.(type) {
		case *slack.HeaderBlock:
			t := plainText(b.Text, n)
			add(t)
			add(strings.Repeat("=", min(len([]rune(t)), 72)))
		case *slack.SectionBlock:
			if b.Text != nil {
				add(plainText(b.Text, n))
			}
			for _, f := range b.Fields {
				add("  " + strings.ReplaceAll(plainText(f, n), "\n", ": "))
			}
			if b.Accessory != nil && b.Accessory.ButtonElement != nil {
				btn := buttonOf(b.Accessory.ButtonElement, b.BlockID)
				add("  " + drawButton(btn, number(btn), n))
				d.buttons = append(d.buttons, btn)
			}
		case *slack.ContextBlock:
			var parts []string
			for _, el := range b.ContextElements.Elements {
				switch e := el.(type) {
				case *slack.TextBlockObject:
					parts = append(parts, plainText(e, n))
				case *slack.ImageBlockElement:
					parts = append(parts, "["+e.AltText+"]")
				}
			}
			add("  · " + strings.Join(parts, " "))
		case *slack.DividerBlock:
			add(strings.Repeat("-", 40))
		case *slack.ActionBlock:
			var parts []string
			if b.Elements != nil {
				for _, el := range b.Elements.ElementSet {
					switch e := el.(type) {
					case *slack.ButtonBlockElement:
						btn := buttonOf(e, b.BlockID)
						parts = append(parts, drawButton(btn, number(btn), n))
						d.buttons = append(d.buttons, btn)
					default:
						parts = append(parts, fmt.Sprintf("[%s: not in the console]", el.ElementType()))
					}
				}
			}
			add("  " + strings.Join(parts, "  "))
		case *slack.InputBlock:
			add(inputPrompt(b, n))
		case *slack.ImageBlock:
			add("[image: " + b.AltText + "]")
		default:
			add(fmt.Sprintf("[%s block]", bl.BlockType()))
		}
	}
	return d
}

func buttonOf(e *slack.ButtonBlockElement, blockID string) button {
	b := button{ActionID: e.ActionID, BlockID: blockID, Value: e.Value, URL: e.URL, Confirm: e.Confirm}
	if e.Text != nil {
		b.Text = e.Text.Text
	}
	return b
}

func drawButton(b button, num int, n names) string {
	label := mrkdwn(b.Text, n)
	if b.URL != "" {
		return fmt.Sprintf("[%s ↗ %s]", label, b.URL)
	}
	return fmt.Sprintf("[%d %s]", num, label)
}

// inputPrompt describes an input block of a modal: its label, whether it is
// optional, and its hint.
func inputPrompt(b *slack.InputBlock, n names) string {
	s := "> " + plainText(b.Label, n)
	if b.Optional {
		s += " (optional)"
	}
	if _, ok := b.Element.(*slack.DatePickerBlockElement); ok {
		s += " [a date, YYYY-MM-DD]"
	}
	if b.Hint != nil {
		s += "\n  " + plainText(b.Hint, n)
	}
	return s
}

func plainText(t *slack.TextBlockObject, n names) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.PlainTextType {
		return emoji(t.Text)
	}
	return mrkdwn(t.Text, n)
}

var (
	entityRE = regexp.MustCompile(`<([^<>]+)>`)
	boldRE   = regexp.MustCompile(`(^|[\s(“"'])\*([^*\n]+)\*`)
	italicRE = regexp.MustCompile(`(^|[\s(“"'])_([^_\n]+)_($|[\s).,:;!?”"'])`)
	strikeRE = regexp.MustCompile(`(^|[\s(])~([^~\n]+)~`)
	emojiRE  = regexp.MustCompile(`:([a-z0-9_+-]+):`)
)

// mrkdwn makes Slack's mrkdwn plain: entities spelled out, emphasis markers
// dropped (code spans keep their backticks: they hold ids to copy).
func mrkdwn(s string, n names) string {
	s = entityRE.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if name := n.userName(target[1:]); name != "" {
				return "@" + name
			}
			if label != "" {
				return "@" + label
			}
			return "@" + target[1:]
		case strings.HasPrefix(target, "#"):
			if name := n.channelName(target[1:]); name != "" {
				return "#" + name
			}
			if label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			if d, ok := strings.CutPrefix(target, "!date^"); ok { // <!date^1700000000^{date}|fallback>
				return d
			}
			return "@" + strings.TrimPrefix(target, "!")
		case strings.HasPrefix(target, "mailto:"):
			if label != "" {
				return label
			}
			return strings.TrimPrefix(target, "mailto:")
		default: // a link
			if label != "" && label != target {
				return label + " (" + target + ")"
			}
			return target
		}
	})
	s = boldRE.ReplaceAllString(s, "$1$2")
	s = italicRE.ReplaceAllString(s, "$1$2$3")
	s = strikeRE.ReplaceAllString(s, "$1$2")
	return emoji(html.UnescapeString(s))
}

// emojis are the emoji the bot uses, as characters; others stay :named:.
var emojis = map[string]string{
	"warning": "⚠️", "x": "❌", "white_check_mark": "✅", "hourglass_flowing_sand": "⏳", "hourglass": "⌛",
	"information_source": "ℹ️", "wastebasket": "🗑️", "new": "🆕", "closed_lock_with_key": "🔐", "lock": "🔒",
	"white_circle": "⚪", "tada": "🎉", "question": "❓", "grey_question": "❔", "no_entry_sign": "🚫", "no_entry": "⛔",
	"arrows_counterclockwise": "🔄", "alarm_clock": "⏰", "thumbsup": "👍", "+1": "👍", "snail": "🐌",
	"page_facing_up": "📄", "outbox_tray": "📤", "mag": "🔍", "cloud": "☁️", "clipboard": "📋",
	"busts_in_silhouette": "👥", "bust_in_silhouette": "👤", "boom": "💥", "arrow_forward": "▶️",
	"large_green_circle": "🟢", "red_circle": "🔴", "heavy_check_mark": "✔️", "bell": "🔔", "house": "🏠",
}

func emoji(s string) string {
	return emojiRE.ReplaceAllStringFunc(s, func(m string) string {
		if e, ok := emojis[m[1:len(m)-1]]; ok {
			return e
		}
		return m
	})
}
