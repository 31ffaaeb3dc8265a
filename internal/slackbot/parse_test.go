package slackbot

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserMention(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"<@U123ABC|bob>":  "U123ABC",
		"<@W012A3CDE>":    "W012A3CDE",
		"@bob":            "",
		"<@U123 x>":       "",
		"<#C123|general>": "",
	} {
		got, ok := userMention(in)
		assert.Equal(t, want != "", ok, in)
		assert.Equal(t, want, got, in)
	}
}

func TestEmailArg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"carol@example.com":                            "carol@example.com",
		"<mailto:carol@example.com|carol@example.com>": "carol@example.com",
		"carol":         "",
		"@example.com":  "",
		"carol@":        "",
		"<@U1|carol@x>": "",
	} {
		got, ok := emailArg(in)
		assert.Equal(t, want != "", ok, in)
		assert.Equal(t, want, got, in)
	}
}

func TestParseReassign(t *testing.T) {
	t.Parallel()
	c := &command{Name: "reassign"}
	for _, tc := range []struct {
		name string
		in   string
		want reassignArgs
	}{
		{"items and a mention", "c1 i1,i2 to <@U9|carol> because she owns it", reassignArgs{CertID: "c1", ItemIDs: []string{"i1", "i2"}, To: userArg{SlackID: "U9"}, Reason: "she owns it"}},
		{"items with spaces after commas", "c1 i1, i2 ,i3 to carol@example.com because x", reassignArgs{CertID: "c1", ItemIDs: []string{"i1", "i2", "i3"}, To: userArg{Email: "carol@example.com"}, Reason: "x"}},
		{"identity", "c1 identity id-7 to <@U9> because moved", reassignArgs{CertID: "c1", IdentityID: "id-7", To: userArg{SlackID: "U9"}, Reason: "moved"}},
		{"all-of", "c1 all-of <@U8|bob> to <@U9> because moved", reassignArgs{CertID: "c1", AllOf: "U8", To: userArg{SlackID: "U9"}, Reason: "moved"}},
		{"keywords in any case; 'to' inside the reason", "c1 i1 TO <@U9> Because I want to", reassignArgs{CertID: "c1", ItemIDs: []string{"i1"}, To: userArg{SlackID: "U9"}, Reason: "I want to"}},
		{"reason keeps its words and lines", "c1 i1 to <@U9> because a  b\nc because d", reassignArgs{CertID: "c1", ItemIDs: []string{"i1"}, To: userArg{SlackID: "U9"}, Reason: "a  b\nc because d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReassignArgs(c, tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, *got)
		})
	}
	for name, in := range map[string]string{
		"no reason":             "c1 i1 to <@U9>",
		"no target":             "c1 i1 because x",
		"no items":              "c1 to <@U9> because x",
		"two targets":           "c1 i1 to <@U9> <@U8> because x",
		"bad item id":           "c1 i1,../x to <@U9> because x",
		"identity without id":   "c1 identity to <@U9> because x",
		"all-of a name":         "c1 all-of bob to <@U9> because x",
		"target is a bare word": "c1 i1 to carol because x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseReassignArgs(c, in)
			var ue *usageError
			require.ErrorAs(t, err, &ue)
		})
	}
}

func TestCutKeyword(t *testing.T) {
	t.Parallel()
	before, after, ok := cutKeyword("a tomato to b", "to")
	assert.True(t, ok)
	assert.Equal(t, "a tomato", before)
	assert.Equal(t, "b", after)
	_, _, ok = cutKeyword("tomato", "to")
	assert.False(t, ok)
}
