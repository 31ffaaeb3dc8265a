package export_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

// sample is a chained export whose values are hard on CSV and JSON: commas,
// quotes, line breaks, formulas, apostrophes, non-ASCII text, empty fields.
func sample() []certs.EvidenceRecord {
	base := certs.EvidenceRecord{CertificationID: "cert-1", CertificationName: "Q3, Manager Review – Bob", Campaign: "Q3",
		ReviewerID: "id-bob", ReviewerName: "Bob Smith", Kind: certs.EvidenceKindDecision, Source: certs.EvidenceSourceCertops}
	one := base
	one.ItemID, one.IdentityName, one.Decision = "item-1", "Ana Silva", "REVOKE"
	one.Comments = "left the team, \"really\"\nsecond line"
	one.DecidedBy, one.Frontend, one.Role, one.PlanDigest, one.Call, one.AuditSeq = "Bob Smith", "slack", "reviewer", "0123456789abcdef", 1, 42
	one.EvidenceShown, one.Peers, one.Privileged, one.NewAccess = true, 3, true, true
	one.Remarks = "privileged and new since the last review [access.privileged is true; newAccess is true]"
	two := base
	two.ItemID, two.Decision = "item-2", "APPROVE"
	two.Comments = `=HYPERLINK("http://example.com","x")`
	two.AccessName, two.Manager, two.Note = "+cmd|' /C calc'!A0", "@someone", "'quoted already"
	two.Reassigned = "-1 from Carol"
	three := base
	three.ItemID, three.Decision, three.IdentityName = "item-3", "APPROVE", "Zoë Ñandú 山田"
	three.Remarks = "a | b [x; y]"
	three.Source, three.Current = certs.EvidenceSourceISC, true
	four := base
	four.Kind, four.Current, four.DecidedAt = certs.EvidenceKindSignOff, true, "2026-11-23T14:00:00.123456Z"
	recs := []certs.EvidenceRecord{one, two, three, four}
	certs.ChainEvidence(recs)
	return recs
}

func TestWriteRead_roundTrip(t *testing.T) {
	recs := sample()
	for _, f := range export.Formats {
		t.Run(string(f), func(t *testing.T) {
			b, err := export.Bytes(f, recs)
			require.NoError(t, err)
			for _, as := range []export.Format{f, ""} { // given, and detected
				file, err := export.Read(bytes.NewReader(b), as)
				require.NoError(t, err)
				assert.Equal(t, f, file.Format)
				assert.Equal(t, recs, file.Records)
			}
			file, chain, err := export.Verify(bytes.NewReader(b), "")
			require.NoError(t, err)
			assert.Equal(t, certs.EvidenceChain{Records: 4, CertificationID: "cert-1", Head: recs[3].Hash}, chain)
			if f == export.CSV {
				assert.Equal(t, []int{2, 4, 5, 6}, file.Lines, "the first record spans two lines")
			} else {
				assert.Equal(t, []int{1, 2, 3, 4}, file.Lines)
			}
		})
	}
}

func TestPage_partsConcatenateToTheFile(t *testing.T) {
	recs := sample()
	for _, f := range export.Formats {
		whole, err := export.Bytes(f, recs)
		require.NoError(t, err)
		var parts []byte
		for i := 0; i < len(recs); i += 3 {
			p, err := export.Page(f, recs[i:min(i+3, len(recs))], i == 0)
			require.NoError(t, err)
			parts = append(parts, p...)
		}
		assert.Equal(t, string(whole), string(parts), "%s", f)
	}
}

func TestWrite_csvDefusesFormulas(t *testing.T) {
	b, err := export.Bytes(export.CSV, sample())
	require.NoError(t, err)
	text := string(b)
	assert.True(t, strings.HasPrefix(text, strings.Join(certs.EvidenceColumns(), ",")+"\n"), "the header, then LF line ends")
	for _, v := range []string{`"'=HYPERLINK(""http://example.com"",""x"")"`, `'+cmd|' /C calc'!A0`, `'@someone`, `''quoted already`, `'-1 from Carol`} {
		assert.Contains(t, text, ","+v+",")
	}
	assert.NotContains(t, text, ",=HYPERLINK")
}

func TestWrite_jsonlKeysAreTheColumns(t *testing.T) {
	b, err := export.Bytes(export.JSONL, sample()[:1])
	require.NoError(t, err)
	line := string(b)
	assert.True(t, strings.HasSuffix(line, "}\n"))
	assert.Equal(t, 1, strings.Count(line, "\n"), "one line per record")
	assert.Contains(t, line, `"seq":1,"total":4,"certification_id":"cert-1"`)
	assert.Contains(t, line, `"privileged":true`)
	assert.Contains(t, line, `"comments":"left the team, \"really\"\nsecond line"`)
}

// lines splits text into lines, each with its line feed.
func lines(text string) []string { return strings.SplitAfter(text, "\n") }

// spans returns each record's lines [from, to) (0-based) in text.
func spans(t *testing.T, f export.Format, text string) [][2]int {
	t.Helper()
	file, err := export.Read(strings.NewReader(text), f)
	require.NoError(t, err)
	n := len(lines(strings.TrimSuffix(text, "\n")))
	out := make([][2]int, len(file.Lines))
	for i, l := range file.Lines {
		end := n
		if i+1 < len(file.Lines) {
			end = file.Lines[i+1] - 1
		}
		out[i] = [2]int{l - 1, end}
	}
	return out
}

// records returns the record's text in the file (0-based record).
func recordText(ls []string, s [2]int) []string { return append([]string(nil), ls[s[0]:s[1]]...) }

func TestVerify_detectsTampering(t *testing.T) {
	recs := sample()
	for _, f := range export.Formats {
		b, err := export.Bytes(f, recs)
		require.NoError(t, err)
		text := string(b)
		sp := spans(t, f, text)
		rebuild := func(order ...int) string {
			ls := lines(text)
			var out []string
			if f == export.CSV {
				out = append(out, ls[0])
			}
			for _, i := range order {
				out = append(out, recordText(ls, sp[i])...)
			}
			return strings.Join(out, "")
		}
		tests := []struct {
			name     string
			tampered string
			record   int
			line     int
			reason   string
		}{
			{"a record removed", rebuild(0, 2, 3), 2, sp[2][0] - (sp[1][1] - sp[1][0]) + 1, "record 2, which came before it, is missing"},
			{"the first record removed", rebuild(1, 2, 3), 1, sp[0][0] + 1, "does not start with its first record"},
			{"the last record removed", rebuild(0, 1, 2), 4, 0, "ends after 3: record 4 is missing"},
			{"records swapped", rebuild(0, 2, 1, 3), 2, sp[1][0] + 1, "out of order"},
			{"a comment altered", strings.Replace(text, "left the team", "stayed in the team", 1), 1, sp[0][0] + 1, "altered"},
			{"a decision altered", strings.Replace(text, "REVOKE", "APPROVE", 1), 1, sp[0][0] + 1, "altered"},
			{"a hash altered", strings.Replace(text, recs[2].Hash, strings.Repeat("0", 64), 1), 3, sp[2][0] + 1, "altered"},
		}
		for _, tt := range tests {
			t.Run(string(f)+"/"+tt.name, func(t *testing.T) {
				require.NotEqual(t, text, tt.tampered)
				_, _, err := export.Verify(strings.NewReader(tt.tampered), "")
				var be *export.BrokenError
				require.ErrorAs(t, err, &be, "%v", err)
				assert.Equal(t, tt.record, be.Break.Record, err.Error())
				assert.Equal(t, tt.line, be.Line, err.Error())
				assert.Contains(t, err.Error(), tt.reason)
				if tt.line > 0 {
					assert.True(t, strings.HasPrefix(err.Error(), "line "), err.Error())
				}
			})
		}
	}
}

func TestRead_refusesWhatIsNotAnExport(t *testing.T) {
	csvText, err := export.Bytes(export.CSV, sample())
	require.NoError(t, err)
	jsonText, err := export.Bytes(export.JSONL, sample())
	require.NoError(t, err)
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"empty", "", 0, "the file is empty"},
		{"a renamed column", strings.Replace(string(csvText), "comments", "comment", 1), 1, `column 20 is "comment", not "comments"`},
		{"a row with a field fewer", string(csvText) + "1,2,3\n", 7, "3 fields, not the header's 46"},
		{"a boolean that is not", strings.Replace(string(csvText), ",true,", ",yes,", 1), 2, "column evidence_shown"},
		{"broken CSV quoting", string(csvText) + "\"unterminated\n", 7, "not valid CSV"},
		{"a JSON field added", strings.Replace(string(jsonText), `{"seq":2,`, `{"seq":2,"extra":1,`, 1), 2, `unknown field "extra"`},
		{"a JSON field missing", strings.Replace(string(jsonText), `"note":"",`, ``, 1), 1, "missing note"},
		{"a JSON number as text", strings.Replace(string(jsonText), `{"seq":3,`, `{"seq":"3",`, 1), 3, "not an evidence record"},
		{"not JSON", string(jsonText) + "{oops\n", 5, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := export.Verify(strings.NewReader(tt.text), "")
			var re *export.ReadError
			require.ErrorAs(t, err, &re, "%v", err)
			assert.Equal(t, tt.line, re.Line, err.Error())
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]export.Format{"csv": export.CSV, "CSV": export.CSV, "jsonl": export.JSONL, "ndjson": export.JSONL, " jsonlines ": export.JSONL} {
		got, err := export.ParseFormat(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := export.ParseFormat("xlsx")
	assert.ErrorContains(t, err, `"xlsx" is neither csv nor jsonl`)
	assert.Equal(t, "review-evidence-cert-1.jsonl", export.FileName("cert-1", export.JSONL))
	assert.Equal(t, "text/csv", export.CSV.MediaType())
}

// TestDocListsTheColumns keeps the package doc's column list the columns
// the records have, in order.
func TestDocListsTheColumns(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	_, list, ok := strings.Cut(string(doc), "// The columns:\n")
	require.True(t, ok)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^//\t([a-z_]+)`).FindAllStringSubmatch(list, -1) {
		names = append(names, m[1])
	}
	assert.Equal(t, certs.EvidenceColumns(), names)
}
