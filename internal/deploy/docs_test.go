package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The Markdown files whose commands operators copy, relative to the
// repository root.
var deployDocs = []string{"README.md", "manifests/DEPLOY.md"}

// docCommand is one simple command of a Markdown file: from a sh code block,
// or an inline code span that starts with kubectl.
type docCommand struct {
	file string
	line int
	// dir is where it runs, relative to the repository root: a cd earlier
	// on the same line moves it.
	dir   string
	words []string
}

func (c docCommand) String() string {
	return fmt.Sprintf("%s:%d: %s", c.file, c.line, strings.Join(c.words, " "))
}

// shellLexer splits shell lines into simple commands, the way sh would for
// the plain commands documentation holds: quotes group, blanks separate,
// &&, ||, ;, and | end a command, # starts a comment, redirections are
// dropped with their target, $NAME expands to what an earlier assignment
// set (split into words when unquoted) and stays as written otherwise, and
// $( … ) is kept as written.
type shellLexer struct{ vars map[string]string }

func (l shellLexer) commands(s string) ([][]string, error) {
	var (
		cmds     [][]string
		words    []string
		cur      strings.Builder
		inWord   bool
		dropNext bool
		quote    rune
		r        = []rune(s)
	)
	endWord := func() {
		if !inWord {
			return
		}
		if dropNext {
			dropNext = false
		} else {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	endCommand := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' && quote == 0:
			quote, inWord = c, true
		case c == '"':
			if quote == '"' {
				quote = 0
			} else {
				quote, inWord = '"', true
			}
		case c == '\\' && i+1 < len(r):
			i++
			cur.WriteRune(r[i])
			inWord = true
		case c == '$' && i+1 < len(r) && r[i+1] == '(':
			depth, j := 0, i+1
			for ; j < len(r); j++ {
				if r[j] == '(' {
					depth++
				} else if r[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated $( in %q", s)
			}
			cur.WriteString(string(r[i : j+1]))
			inWord, i = true, j
		case c == '$':
			name, n := varName(r[i+1:])
			if n == 0 {
				cur.WriteRune(c)
				inWord = true
				continue
			}
			v, known := l.vars[name]
			if !known {
				v = string(r[i : i+1+n])
			}
			i += n
			// A value kept as written ($( … )) stands for one word.
			if known && quote == 0 && !strings.Contains(v, "$(") {
				for k, f := range strings.Fields(v) {
					if k > 0 {
						endWord()
					}
					cur.WriteString(f)
					inWord = true
				}
				continue
			}
			cur.WriteString(v)
			inWord = true
		case quote == '"':
			cur.WriteRune(c)
		case c == '#' && !inWord:
			i = len(r)
		case c == ' ' || c == '\t':
			endWord()
		case c == '|' || c == ';' || c == '&':
			endCommand()
			if i+1 < len(r) && r[i+1] == c {
				i++
			}
		case c == '>' || c == '<':
			endWord()
			for i+1 < len(r) && strings.ContainsRune("<>&", r[i+1]) {
				i++
			}
			dropNext = true
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	endCommand()
	return cmds, nil
}

var (
	fence       = regexp.MustCompile("^\\s*```(\\S*)")
	heredoc     = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_]+)['"]?`)
	inlineCode  = regexp.MustCompile("`([^`\n]+)`")
	shellFences = []string{"sh", "bash", "shell"}
)

// docCommands reads the simple commands of one Markdown file, in order:
// assignments (NS="-n certops") carry on to later blocks and spans, as
// they would in the shell a reader pastes them into.
func docCommands(t *testing.T, rel string) []docCommand {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	lex := shellLexer{vars: map[string]string{}}
	var out []docCommand
	add := func(line int, text string) {
		cmds, err := lex.commands(text)
		require.NoError(t, err, "%s:%d", rel, line)
		dir := "."
		for _, words := range cmds {
			// Leading NAME=value words set variables (alone) or the
			// command's environment (before a command).
			n := 0
			for n < len(words) {
				if _, _, ok := assignment(words[n]); !ok {
					break
				}
				n++
			}
			if n == len(words) {
				for _, w := range words {
					// A command's output ($( … )) is not known here: the
					// variable stays as written wherever it is used.
					if name, value, _ := assignment(w); !strings.Contains(value, "$(") {
						lex.vars[name] = value
					}
				}
				continue
			}
			words = words[n:]
			out = append(out, docCommand{file: rel, line: line, dir: dir, words: words})
			if words[0] == "cd" && len(words) == 2 {
				dir = filepath.Join(dir, words[1])
			}
		}
	}

	lines := strings.Split(string(data), "\n")
	inBlock, shell := false, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fence.FindStringSubmatch(line); m != nil {
			if inBlock {
				inBlock = false
			} else {
				inBlock, shell = true, slices.Contains(shellFences, m[1])
			}
			continue
		}
		if inBlock {
			if !shell || strings.TrimSpace(line) == "" {
				continue
			}
			start := i
			text := line
			for strings.HasSuffix(strings.TrimRight(text, " "), `\`) && i+1 < len(lines) {
				text = strings.TrimSuffix(strings.TrimRight(text, " "), `\`) + " " + lines[i+1]
				i++
			}
			if m := heredoc.FindStringSubmatch(text); m != nil {
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != m[1] {
					i++
				}
				i++ // the delimiter
			}
			add(start+1, text)
			continue
		}
		for _, m := range inlineCode.FindAllStringSubmatch(line, -1) {
			// Spans like `kubectl exec` name a command in prose; those
			// to copy have arguments.
			if strings.HasPrefix(m[1], "kubectl ") && len(strings.Fields(m[1])) >= 3 {
				add(i+1, m[1])
			}
		}
	}
	return out
}

func TestShellLexer(t *testing.T) {
	t.Parallel()
	lex := shellLexer{vars: map[string]string{"NS": "-n certops", "JOB": "job-$(date +%s)"}}
	for _, tc := range []struct {
		in   string
		want [][]string
	}{
		{"kubectl $NS get pods", [][]string{{"kubectl", "-n", "certops", "get", "pods"}}},
		{`kubectl "$NS"`, [][]string{{"kubectl", "-n certops"}}},
		{"a && b | c; d", [][]string{{"a"}, {"b"}, {"c"}, {"d"}}},
		{"create job $JOB --from=x   # a comment", [][]string{{"create", "job", "job-$(date +%s)", "--from=x"}}},
		{"TOKEN=$(openssl rand -base64 32 | tr '+/' '-_')", [][]string{{"TOKEN=$(openssl rand -base64 32 | tr '+/' '-_')"}}},
		{`curl -H "Authorization: Bearer $TOKEN" x`, [][]string{{"curl", "-H", "Authorization: Bearer $TOKEN", "x"}}},
		{"printf x > out.txt && cat <<EOF", [][]string{{"printf", "x"}, {"cat"}}},
		{`--from-literal=URL='postgres://a?b=c' x#y`, [][]string{{"--from-literal=URL=postgres://a?b=c", "x#y"}}},
	} {
		got, err := lex.commands(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	_, err := lex.commands(`echo "unterminated`)
	assert.Error(t, err)
}

// kubectlArgs is a kubectl command line: its namespace, the -k, -f and -l
// values, other flags, and the rest in order (the subcommand first).
type kubectlArgs struct {
	namespace, kustomization, file, selector string
	flags                                    map[string]string
	args                                     []string
}

func parseKubectl(words []string) kubectlArgs {
	k := kubectlArgs{flags: map[string]string{}}
	takesValue := map[string]bool{"-n": true, "--namespace": true, "-k": true, "--kustomize": true, "-f": true, "--filename": true,
		"-l": true, "--selector": true, "-o": true, "--output": true, "--timeout": true, "--from": true, "--for": true}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			k.args = append(k.args, w)
			continue
		}
		name, value, eq := strings.Cut(w, "=")
		if !eq && takesValue[name] && i+1 < len(words) {
			value = words[i+1]
			i++
		}
		switch name {
		case "-n", "--namespace":
			k.namespace = value
		case "-k", "--kustomize":
			k.kustomization = value
		case "-f", "--filename":
			k.file = value
		case "-l", "--selector":
			k.selector = value
		default:
			k.flags[name] = value
		}
	}
	return k
}

// docsNamespace is where the docs put certops: the namespace overlays/trial
// and overlays/production use.
const docsNamespace = "certops"

// TestDocumentedCommands runs the kustomize rendering of every kubectl
// apply -k and kubectl kustomize in README.md and DEPLOY.md, and checks
// their other kubectl commands against the renderings: the namespace, the
// Secrets created (names, keys, and that every one the pods need is
// created), the objects named (Deployments, Services and their ports,
// CronJobs, label selectors), and that every repository path they name
// exists.
func TestDocumentedCommands(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var cmds []docCommand
	for _, f := range deployDocs {
		cmds = append(cmds, docCommands(t, f)...)
	}
	require.NotEmpty(t, cmds)

	// Renderings first: the other commands name their objects.
	rendered := map[string]objects{}
	var applied []string // kustomizations applied, in order
	for _, c := range cmds {
		if c.words[0] != "kubectl" {
			continue
		}
		k := parseKubectl(c.words)
		dir := k.kustomization
		if len(k.args) == 2 && k.args[0] == "kustomize" {
			dir = k.args[1]
		}
		if dir == "" {
			continue
		}
		dir = filepath.Join(c.dir, dir)
		if !assert.DirExists(t, filepath.Join(root, dir), "%s", c) {
			continue
		}
		if _, ok := rendered[dir]; !ok {
			rendered[dir] = render(t, filepath.Join(root, dir))
		}
		if len(k.args) > 0 && k.args[0] == "apply" && !slices.Contains(applied, dir) {
			applied = append(applied, dir)
		}
	}
	require.Contains(t, applied, "manifests/overlays/trial", "the docs apply the trial")
	require.Contains(t, applied, "manifests/overlays/production", "the docs apply the production overlay")
	all := func(yield func(objects) bool) {
		for _, dir := range applied {
			if !yield(rendered[dir]) {
				return
			}
		}
	}

	created := map[string][]string{} // Secret → keys
	jobs := map[string]bool{}
	for _, c := range cmds {
		t.Run(fmt.Sprintf("%s:%d", c.file, c.line), func(t *testing.T) {
			checkRepoPaths(t, root, c)
			if c.words[0] != "kubectl" {
				return
			}
			k := parseKubectl(c.words)
			require.NotEmpty(t, k.args, "%s", c)
			needsNamespace := true
			switch sub := k.args[0]; sub {
			case "apply", "delete", "kustomize":
				if k.kustomization == "" && sub != "kustomize" {
					if len(k.args) > 1 && k.args[1] == "edit-last-applied" {
						checkNamed(t, c, all, k.args[2:])
					} else {
						assert.Equal(t, "-", k.file, "%s: kubectl apply -k or -f -", c)
					}
					break
				}
				dir := k.kustomization
				if sub == "kustomize" {
					dir, needsNamespace = k.args[1], false
				}
				o, ok := rendered[filepath.Join(c.dir, dir)]
				if !ok {
					return // reported above
				}
				ns := ""
				for _, obj := range o.all {
					if _, isNS := obj.(*corev1.Namespace); !isNS && obj.GetNamespace() != "" {
						ns = obj.GetNamespace()
					}
				}
				if ns != "" {
					assert.Equal(t, docsNamespace, ns, "%s puts certops in another namespace", c)
					assert.Contains(t, []string{"", docsNamespace}, k.namespace, "%s: kubectl refuses a -n unlike the objects' namespace", c)
					needsNamespace = false
				}
				if k.selector != "" {
					sel, err := labels.Parse(k.selector)
					require.NoError(t, err, "%s", c)
					n := 0
					for _, obj := range o.all {
						if sel.Matches(labels.Set(obj.GetLabels())) {
							n++
						}
					}
					assert.NotZero(t, n, "%s selects nothing", c)
				}
			case "create":
				require.GreaterOrEqual(t, len(k.args), 3, "%s", c)
				kind, name := k.args[1], k.args[len(k.args)-1]
				switch kind {
				case "namespace":
					assert.Equal(t, docsNamespace, name, "%s", c)
					needsNamespace = false
				case "secret":
					keys := secretKeys(c.words)
					if k.args[2] == "tls" {
						keys = []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey}
					}
					assert.NotEmpty(t, keys, "%s creates a Secret with no keys", c)
					created[name] = append(created[name], keys...)
					if want, ok := externalSecrets[name]; ok {
						assert.Subset(t, want, keys, "%s: keys the manifests read from %s", c, name)
					}
					used := false
					for o := range all {
						used = used || slices.Contains(referencedSecrets(o), name)
					}
					assert.True(t, used, "%s: no documented rendering reads Secret %s", c, name)
				case "configmap":
					used := false
					for o := range all {
						for _, w := range o.workloads() {
							for _, ct := range w.template.Spec.Containers {
								for _, ef := range ct.EnvFrom {
									used = used || (ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == name)
								}
							}
						}
					}
					assert.True(t, used, "%s: no documented rendering reads ConfigMap %s", c, name)
				case "job":
					from := strings.TrimPrefix(k.flags["--from"], "cronjob/")
					found := false
					for o := range all {
						found = found || o.cronJob(from) != nil
					}
					assert.True(t, found, "%s: no CronJob %s", c, from)
					jobs[k.args[2]] = true
				default:
					t.Errorf("%s: kubectl create %s is not checked; teach this test", c, kind)
				}
			case "rollout":
				require.GreaterOrEqual(t, len(k.args), 3, "%s", c)
				assert.Contains(t, []string{"status", "restart", "undo", "history"}, k.args[1], "%s", c)
				checkNamed(t, c, all, k.args[2:])
			case "wait":
				for _, ref := range k.args[1:] {
					if name, ok := strings.CutPrefix(ref, "job/"); ok {
						assert.True(t, jobs[name], "%s waits for Job %s, which no earlier command creates", c, name)
						continue
					}
					checkNamed(t, c, all, []string{ref})
				}
			case "port-forward":
				require.Len(t, k.args, 3, "%s", c)
				checkPortForward(t, c, all, k.args[1], k.args[2])
			case "exec":
				// kubectl exec <workload> -- <binary> …: the workload exists,
				// and what it runs is one of the image's binaries (the image
				// has no shell, nor anything else to run).
				require.GreaterOrEqual(t, len(k.args), 2, "%s", c)
				checkNamed(t, c, all, k.args[1:2])
				i := slices.Index(c.words, "--")
				if assert.True(t, i > 0 && i+1 < len(c.words), "%s: kubectl exec <workload> -- <command>", c) {
					assert.Contains(t, binaries, strings.TrimPrefix(c.words[i+1], binDir), "%s: exec one of the image's binaries", c)
				}
			case "logs":
				sel, err := labels.Parse(k.selector)
				require.NoError(t, err, "%s", c)
				assert.False(t, sel.Empty(), "%s: logs -l", c)
				n := 0
				for o := range all {
					for _, w := range o.workloads() {
						if sel.Matches(labels.Set(w.template.Labels)) {
							n++
						}
					}
				}
				assert.NotZero(t, n, "%s: the selector matches no pods", c)
			default:
				t.Errorf("%s: kubectl %s is not checked; teach this test", c, sub)
			}
			if needsNamespace {
				assert.Equal(t, docsNamespace, k.namespace, "%s: -n %s (kubectl would use the current context's namespace)", c, docsNamespace)
			}
		})
	}

	// Every Secret an applied rendering reads and does not generate is
	// created in the docs, with the keys the pods need.
	for _, dir := range applied {
		o := rendered[dir]
		for name, keys := range requiredSecretKeys(o) {
			if o.secret(name) != nil {
				continue
			}
			if assert.Contains(t, created, name, "%s reads Secret %s, which the docs never create", dir, name) {
				assert.Subset(t, created[name], keys, "%s needs these keys of %s", dir, name)
			}
		}
	}
}

// secretKeys are the keys a kubectl create secret generic command writes.
func secretKeys(words []string) []string {
	var keys []string
	for _, w := range words {
		for _, prefix := range []string{"--from-literal=", "--from-file="} {
			if v, ok := strings.CutPrefix(w, prefix); ok {
				key, _, _ := strings.Cut(v, "=")
				keys = append(keys, key)
			}
		}
	}
	return keys
}

// referencedSecrets are the Secrets a rendering's pods and Ingresses read.
func referencedSecrets(o objects) []string {
	var names []string
	for _, w := range o.workloads() {
		for name := range secretRefs(w.template.Spec) {
			names = append(names, name)
		}
	}
	for _, ing := range o.ingresses {
		for _, tls := range ing.Spec.TLS {
			names = append(names, tls.SecretName)
		}
	}
	return names
}

// requiredSecretKeys are, per Secret a rendering reads, the keys without
// which a pod does not start: those read by name (secretKeyRef, volume
// items), the files *_FILE variables name in a whole-Secret volume, and an
// Ingress's certificate.
func requiredSecretKeys(o objects) map[string][]string {
	req := map[string][]string{}
	note := func(name string, keys ...string) { req[name] = append(req[name], keys...) }
	for _, w := range o.workloads() {
		spec := w.template.Spec
		for name, keys := range secretRefs(spec) {
			note(name, keys...)
		}
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				f, ok := secretFiles[e.Name]
				if !ok {
					continue
				}
				for _, v := range spec.Volumes {
					if v.Secret != nil && v.Secret.SecretName == o.resolver()(f.secret) && len(v.Secret.Items) == 0 {
						note(v.Secret.SecretName, f.key)
					}
				}
			}
		}
	}
	for _, ing := range o.ingresses {
		for _, tls := range ing.Spec.TLS {
			note(tls.SecretName, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
		}
	}
	return req
}

// checkNamed asserts that kind/name references (deployment/x, deploy/x,
// cronjob/x, svc/x) name objects of a documented rendering.
func checkNamed(t *testing.T, c docCommand, all func(func(objects) bool), refs []string) {
	t.Helper()
	for _, ref := range refs {
		kind, name, ok := strings.Cut(ref, "/")
		if !assert.True(t, ok, "%s: %s is not kind/name", c, ref) {
			continue
		}
		found := false
		for o := range all {
			switch kind {
			case "deployment", "deploy", "deployments":
				found = found || o.deployment(name) != nil
			case "cronjob", "cronjobs":
				found = found || o.cronJob(name) != nil
			case "service", "svc":
				found = found || o.service(name) != nil
			default:
				t.Errorf("%s: %s references are not checked; teach this test", c, kind)
				return
			}
		}
		assert.True(t, found, "%s: no documented rendering has %s", c, ref)
	}
}

// checkPortForward asserts the target exists and has the remote port.
func checkPortForward(t *testing.T, c docCommand, all func(func(objects) bool), target, ports string) {
	t.Helper()
	local, remote, ok := strings.Cut(ports, ":")
	if !ok {
		remote = local
	}
	port, err := strconv.Atoi(remote)
	require.NoError(t, err, "%s", c)
	kind, name, _ := strings.Cut(target, "/")
	found := false
	for o := range all {
		switch kind {
		case "svc", "service":
			if s := o.service(name); s != nil {
				found = found || slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == port })
			}
		case "deploy", "deployment":
			if d := o.deployment(name); d != nil {
				for _, ct := range d.Spec.Template.Spec.Containers {
					found = found || slices.ContainsFunc(ct.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port })
				}
			}
		default:
			t.Errorf("%s: port-forward to %s is not checked; teach this test", c, kind)
			return
		}
	}
	assert.True(t, found, "%s: %s has no port %d in a documented rendering", c, target, port)
}

// repoPath matches a word that names a file or directory of the repository.
var repoPath = regexp.MustCompile(`^(?:\./)?(?:manifests|api|cmd|internal)/[A-Za-z0-9_./-]*$`)

// checkRepoPaths asserts every repository path a command names exists.
func checkRepoPaths(t *testing.T, root string, c docCommand) {
	t.Helper()
	for _, w := range c.words {
		if i := strings.LastIndex(w, "="); i >= 0 {
			w = w[i+1:]
		}
		if repoPath.MatchString(w) {
			// A Go package pattern (./cmd/...) names the directory before it.
			w = strings.TrimSuffix(w, "/...")
			_, err := os.Stat(filepath.Join(root, c.dir, w))
			assert.NoError(t, err, "%s names %s", c, w)
		}
	}
}

// mdLink is a Markdown link to a local file, with an optional anchor.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocumentedPathsExist checks the links and code spans of the deploy
// docs that name repository files (`overlays/trial/kustomization.yaml`,
// [DEPLOY.md](manifests/DEPLOY.md#7-read-the-metrics)): the files exist,
// and so do the headings the anchors point to.
func TestDocumentedPathsExist(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	span := regexp.MustCompile(`^(?:manifests|overlays|components|base|api|cmd|internal)/[A-Za-z0-9_./-]*$`)
	for _, rel := range deployDocs {
		data, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		dir := filepath.Dir(rel)
		for n, line := range strings.Split(string(data), "\n") {
			for _, m := range inlineCode.FindAllStringSubmatch(line, -1) {
				if !span.MatchString(m[1]) {
					continue
				}
				found := false
				for _, base := range []string{".", "manifests", dir} {
					_, err := os.Stat(filepath.Join(root, base, m[1]))
					found = found || err == nil
				}
				assert.True(t, found, "%s:%d names %s, which does not exist", rel, n+1, m[1])
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := filepath.Join(root, rel)
				if file != "" {
					path = filepath.Join(root, dir, file)
					if !assert.FileExists(t, path, "%s:%d links to %s", rel, n+1, target) {
						continue
					}
				}
				if anchor != "" {
					assert.Contains(t, headingAnchors(t, path), anchor, "%s:%d links to %s: no such heading", rel, n+1, target)
				}
			}
		}
	}
}

// headingAnchors are the anchors GitHub gives a Markdown file's headings.
func headingAnchors(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var anchors []string
	inBlock := false
	for _, line := range strings.Split(string(data), "\n") {
		if fence.MatchString(line) {
			inBlock = !inBlock
		}
		h, ok := strings.CutPrefix(line, "#")
		if inBlock || !ok {
			continue
		}
		h = strings.TrimLeft(h, "#")
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(h)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		anchors = append(anchors, b.String())
	}
	return anchors
}
