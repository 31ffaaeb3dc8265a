package console

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
)

type testNames map[string]string

func (n testNames) userName(id string) string    { return n["@"+id] }
func (n testNames) channelName(id string) string { return n["#"+id] }

func TestMrkdwnIsMadePlain(t *testing.T) {
	t.Parallel()
	n := testNames{"@UALICE": "Alice Ferguson", "#CAPPROVE": "certops-approvals"}
	for _, tc := range []struct{ name, in, want string }{
		{"bold and italic markers", "*Approved* by _Alice_, see `db_admin`", "Approved by Alice, see `db_admin`"},
		{"underscores inside words stay", "REVOKE_ONLY_DECISIONS and snake_case_name", "REVOKE_ONLY_DECISIONS and snake_case_name"},
		{"a known user", "asked by <@UALICE>", "asked by @Alice Ferguson"},
		{"an unknown user with a label", "<@UBOB|bob>", "@bob"},
		{"a channel", "in <#CAPPROVE>", "in #certops-approvals"},
		{"a link with text", "<https://example.com/x|the request>", "the request (https://example.com/x)"},
		{"a bare link", "<https://example.com/x>", "https://example.com/x"},
		{"an email", "<mailto:a@b.example|a@b.example>", "a@b.example"},
		{"a date with its fallback", "<!date^1796437060^{date_short_pretty}|2026-12-05 02:17 UTC>", "2026-12-05 02:17 UTC"},
		{"entities", "a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"},
		{"escaped brackets stay text", "&lt;@UALICE&gt;", "<@UALICE>"},
		{"emoji", ":white_check_mark: done :unknown_one:", "✅ done :unknown_one:"},
		{"a quote", ">why\n*Status*", ">why\nStatus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, mrkdwn(tc.in, n))
		})
	}
}

func TestBlocksAreDrawnWithNumberedButtons(t *testing.T) {
	t.Parallel()
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	approve := slack.NewButtonBlockElement("certops.request.approve", "req-1", plain("Approve")).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Approve?"), plain("It moves."), plain("Approve"), plain("Back")))
	deny := slack.NewButtonBlockElement("certops.request.deny", "req-1", plain("Deny"))
	link := slack.NewButtonBlockElement("", "", plain("Open in SailPoint"))
	link.URL = "https://acme.identitynow.com/x"
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("Reassignment request")),
		slack.NewSectionBlock(md("*Why*\n>Carol owns payroll"), []*slack.TextBlockObject{md("*From*\nAlice"), md("*To*\nCarol")}, nil),
		slack.NewDividerBlock(),
		slack.NewActionBlock("decide", approve, deny, link),
		slack.NewContextBlock("", md("Request `req-1`")),
		slack.NewInputBlock("reason", plain("Reason"), plain("The requester sees it."), slack.NewPlainTextInputBlockElement(nil, "reason")).WithOptional(true),
		slack.NewInputBlock("end", plain("Remove the access on"), nil, slack.NewDatePickerBlockElement("end")),
	}
	next := 6
	d := drawBlocks(blocks, testNames{}, func(button) int { next++; return next })
	assert.Equal(t, strings.Join([]string{
		"Reassignment request",
		"====================",
		"Why",
		">Carol owns payroll",
		"  From: Alice",
		"  To: Carol",
		strings.Repeat("-", 40),
		"  [7 Approve]  [8 Deny]  [Open in SailPoint ↗ https://acme.identitynow.com/x]",
		"  · Request `req-1`",
		"> Reason (optional)",
		"  The requester sees it.",
		"> Remove the access on [a date, YYYY-MM-DD]",
	}, "\n"), strings.Join(d.lines, "\n"))
	if assert.Len(t, d.buttons, 3) {
		assert.Equal(t, button{ActionID: "certops.request.approve", BlockID: "decide", Value: "req-1", Text: "Approve", Confirm: approve.Confirm}, d.buttons[0])
		assert.Equal(t, "https://acme.identitynow.com/x", d.buttons[2].URL)
	}
}
