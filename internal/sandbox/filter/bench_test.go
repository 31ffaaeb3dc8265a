package filter

import (
	"strings"
	"testing"
)

// benchFilters are shaped like what certops and its users send.
var benchFilters = map[string]string{
	"simple":      `campaign.id eq "2c9180846e85e4b8016eafeba20c1314"`,
	"composite":   `not (phase eq "SIGNED" or completed eq true) and name sw "Manager" and decisionsMade ge 10`,
	"permissions": `target sw "sys" and rights ca ("READ","write")`,
	"in250":       `id in (` + strings.TrimSuffix(strings.Repeat(`"2c9180846e85e4b8016eafeba20c1314",`, 250), ",") + `)`,
	// The costliest shape that fits MaxLength: ~1,500 comparisons.
	"max": maxFilter(),
}

func maxFilter() string {
	const term = `a eq "x" or `
	s := strings.Repeat(term, (MaxLength-len(`a eq "x"`))/len(term)) + `a eq "x"`
	return s
}

// BenchmarkParse: go test -run '^$' -bench . -benchmem ./internal/sandbox/filter
func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"simple", "composite", "permissions", "in250", "max"} {
		s := benchFilters[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEval evaluates each filter against one record, as the sandbox
// does per record of a collection.
func BenchmarkEval(b *testing.B) {
	for _, name := range []string{"simple", "composite", "permissions", "in250", "max"} {
		e, err := Parse(benchFilters[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Eval(e, get)
			}
		})
	}
}
