// Package deploy holds tests about certops' deployment artefacts: the
// Dockerfile and .dockerignore at the repository root and the kustomize
// manifests under manifests/. It has no code of its own.
package deploy

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"), "repository root not found")
	return root
}

// instruction is one Dockerfile instruction with its continuation lines
// joined: RUN --mount=a \ go build … becomes Cmd "RUN", Flags ["--mount=a"],
// Args "go build …".
type instruction struct {
	Line  int // where it starts, 1-based
	Cmd   string
	Flags []string
	Args  string
}

// stage is one FROM … AS name section of a Dockerfile.
type stage struct {
	Name         string
	Base         string
	Flags        []string
	Instructions []instruction
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	GlobalArgs []instruction // ARGs before the first FROM
	Stages     []stage
}

// stage returns the stage with the given name.
func (d dockerfile) stage(name string) (stage, bool) {
	for _, s := range d.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return stage{}, false
}

// final is the stage the image is made of: the last one.
func (d dockerfile) final() stage { return d.Stages[len(d.Stages)-1] }

// all returns the stage's instructions named cmd.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile reads the subset of the Dockerfile syntax that certops'
// Dockerfile uses: comments, line continuations, instruction flags and stages
// (no heredocs, no escape directive). It is hand-written because BuildKit's
// parser would pull BuildKit's whole dependency tree into go.mod for a test.
func parseDockerfile(r io.Reader) (dockerfile, error) {
	var (
		d       dockerfile
		sc      = bufio.NewScanner(r)
		lineNo  int
		pending strings.Builder
		start   int
	)
	flush := func() error {
		text := strings.TrimSpace(pending.String())
		pending.Reset()
		if text == "" {
			return nil
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(cmd)}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			flag, after, _ := strings.Cut(rest, " ")
			in.Flags = append(in.Flags, flag)
			rest = strings.TrimSpace(after)
		}
		in.Args = rest
		switch {
		case in.Cmd == "FROM":
			f := strings.Fields(in.Args)
			s := stage{Base: f[0], Flags: in.Flags}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.Name = f[2]
			} else if len(f) != 1 {
				return fmt.Errorf("line %d: cannot read FROM %q", in.Line, in.Args)
			}
			d.Stages = append(d.Stages, s)
		case len(d.Stages) == 0:
			if in.Cmd != "ARG" {
				return fmt.Errorf("line %d: %s before the first FROM", in.Line, in.Cmd)
			}
			d.GlobalArgs = append(d.GlobalArgs, in)
		default:
			last := &d.Stages[len(d.Stages)-1]
			last.Instructions = append(last.Instructions, in)
		}
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		// Comment lines are dropped, also in the middle of a continuation.
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if pending.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = lineNo
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			pending.WriteString(cont)
			pending.WriteString(" ")
			continue
		}
		pending.WriteString(line)
		if err := flush(); err != nil {
			return d, err
		}
	}
	if err := sc.Err(); err != nil {
		return d, err
	}
	if err := flush(); err != nil {
		return d, err
	}
	if len(d.Stages) == 0 {
		return d, fmt.Errorf("no FROM")
	}
	return d, nil
}

// readDockerfile parses the repository's Dockerfile.
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	d, err := parseDockerfile(f)
	require.NoError(t, err, "parse Dockerfile")
	return d
}

// shellWords splits a simple shell command into words as sh would: blanks
// separate words, single and double quotes group, and $NAME or ${NAME}
// expands through lookup outside single quotes. Operators (&&, ;, |, >, <,
// backquotes, $( ) are refused rather than half-understood: the Dockerfile's
// build line is kept to one plain command so that this test can replay it.
func shellWords(s string, lookup func(string) string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		runes   = []rune(s)
		endWord = func() {
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		}
	)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			if quote == c {
				quote = 0
			} else if quote == 0 {
				quote, inWord = c, true
			} else {
				cur.WriteRune(c)
			}
		case c == '\\' && i+1 < len(runes):
			i++
			cur.WriteRune(runes[i])
			inWord = true
		case c == '$':
			name, n := varName(runes[i+1:])
			if n == 0 {
				return nil, fmt.Errorf("unsupported $ expression at %q", string(runes[i:]))
			}
			cur.WriteString(lookup(name))
			inWord = true
			i += n
		case quote == 0 && (c == ' ' || c == '\t'):
			endWord()
		case quote == 0 && strings.ContainsRune("&;|<>`()", c):
			return nil, fmt.Errorf("shell operator %q: keep the command a single plain command", c)
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	endWord()
	return words, nil
}

// varName reads NAME or {NAME} after a $ and says how many runes it took.
func varName(r []rune) (string, int) {
	isName := func(c rune) bool {
		return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if len(r) > 0 && r[0] == '{' {
		for j := 1; j < len(r); j++ {
			if r[j] == '}' {
				return string(r[1:j]), j + 1
			}
			if !isName(r[j]) {
				return "", 0
			}
		}
		return "", 0
	}
	j := 0
	for j < len(r) && isName(r[j]) {
		j++
	}
	return string(r[:j]), j
}

// assignment splits NAME=value; ok is false for anything else.
func assignment(word string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(word, "=")
	if !ok || name == "" {
		return "", "", false
	}
	if n, _ := varName([]rune(name)); n != name {
		return "", "", false
	}
	return name, value, true
}

func TestParseDockerfile(t *testing.T) {
	t.Parallel()
	src := `# syntax=docker/dockerfile:1
ARG BASE=golang:1.26
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN --mount=type=cache,target=/a \
    # a comment inside a continuation
    go build \
      -o /out/ ./cmd/x

from scratch
COPY --from=build /out/x /x
`
	d, err := parseDockerfile(strings.NewReader(src))
	require.NoError(t, err)
	require.Len(t, d.GlobalArgs, 1)
	require.Len(t, d.Stages, 2)
	build := d.Stages[0]
	if assert.Equal(t, "build", build.Name) && assert.Equal(t, 1, len(build.Instructions)) {
		run := build.Instructions[0]
		assert.Equal(t, 4, run.Line)
		assert.Equal(t, []string{"--mount=type=cache,target=/a"}, run.Flags)
		assert.Equal(t, []string{"go", "build", "-o", "/out/", "./cmd/x"}, strings.Fields(run.Args))
	}
	assert.Equal(t, "scratch", d.final().Base)
	assert.Equal(t, []string{"--from=build"}, d.final().Instructions[0].Flags)
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"OS": "linux", "EMPTY": ""}
	lookup := func(k string) string { return vars[k] }
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{name: "plain words", in: "go build  ./x", want: []string{"go", "build", "./x"}},
		{name: "double quotes group", in: `-ldflags="-s -w"`, want: []string{"-ldflags=-s -w"}},
		{name: "single quotes group", in: `-ldflags '-s -w'`, want: []string{"-ldflags", "-s -w"}},
		{name: "variables expand", in: "GOOS=$OS GOARCH=${OS}x", want: []string{"GOOS=linux", "GOARCH=linuxx"}},
		{name: "no expansion in single quotes", in: `'$OS'`, want: []string{"$OS"}},
		{name: "empty variable leaves an empty assignment", in: "A=$EMPTY b", want: []string{"A=", "b"}},
		{name: "and-list refused", in: "go build && rm x", wantErr: true},
		{name: "pipe refused", in: "go build | tee", wantErr: true},
		{name: "command substitution refused", in: "X=$(date) go build", wantErr: true},
		{name: "unterminated quote refused", in: `"abc`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellWords(tc.in, lookup)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
