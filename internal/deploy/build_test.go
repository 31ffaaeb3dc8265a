package deploy

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binaries are what the image ships, each built from cmd/<name>.
var binaries = []string{"mcp-server", "slackbot", "sandbox", "certops-audit"}

// listenFlag is each server binary's listen-address flag (the manifests and
// DEPLOY.md pass --http to mcp-server and --addr to slackbot); certops-audit
// is a command, not a server, and has none.
var listenFlag = map[string]string{"mcp-server": "http", "slackbot": "addr", "sandbox": "addr"}

const (
	runtimeBase = "gcr.io/distroless/static-debian12:nonroot"
	nonRootUser = "65532:65532"
	binDir      = "/usr/local/bin/"
)

// goBuild is the Dockerfile's `go build` command, with its variables expanded
// as BuildKit would for a linux image on this machine's architecture.
type goBuild struct {
	Line     int
	Env      map[string]string // the stage's ENV and the command's NAME=value prefix
	Flags    []string          // between "go build" and the packages, -o excluded
	Output   string            // the -o value
	Packages []string
}

// ldflags is the value of the -ldflags flag.
func (b goBuild) ldflags() string {
	for i, f := range b.Flags {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			return v
		}
		if f == "-ldflags" && i+1 < len(b.Flags) {
			return b.Flags[i+1]
		}
	}
	return ""
}

// command is the go command's arguments with output and packages replaced.
func (b goBuild) command(output string, packages []string) []string {
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-o", output)
	return append(args, packages...)
}

// buildCommand finds the build stage's single `go build` RUN and reads it.
func buildCommand(t *testing.T, d dockerfile) goBuild {
	t.Helper()
	build, ok := d.stage("build")
	require.True(t, ok, "Dockerfile has no stage named build")

	// BuildKit's automatic platform arguments, for a linux image built here.
	auto := map[string]string{
		"TARGETOS": "linux", "TARGETARCH": runtime.GOARCH, "TARGETPLATFORM": "linux/" + runtime.GOARCH,
		"BUILDOS": runtime.GOOS, "BUILDARCH": runtime.GOARCH, "BUILDPLATFORM": runtime.GOOS + "/" + runtime.GOARCH,
	}
	args := map[string]string{}
	for _, in := range d.GlobalArgs {
		declareArgs(t, in, auto, args)
	}
	env := map[string]string{}
	lookup := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		return args[name]
	}

	var found []goBuild
	for _, in := range build.Instructions {
		switch in.Cmd {
		case "ARG":
			declareArgs(t, in, auto, args)
		case "ENV":
			words, err := shellWords(in.Args, lookup)
			require.NoError(t, err, "Dockerfile:%d ENV", in.Line)
			for _, w := range words {
				name, value, ok := assignment(w)
				require.True(t, ok, "Dockerfile:%d: write ENV as NAME=value, got %q", in.Line, w)
				env[name] = value
			}
		case "RUN":
			if !strings.Contains(in.Args, "go build") {
				continue
			}
			words, err := shellWords(in.Args, lookup)
			require.NoError(t, err, "Dockerfile:%d: the go build RUN", in.Line)
			b := goBuild{Line: in.Line, Env: map[string]string{}}
			for k, v := range env {
				b.Env[k] = v
			}
			for len(words) > 0 {
				name, value, ok := assignment(words[0])
				if !ok {
					break
				}
				b.Env[name] = value
				words = words[1:]
			}
			require.GreaterOrEqual(t, len(words), 2, "Dockerfile:%d", in.Line)
			require.Equal(t, []string{"go", "build"}, words[:2], "Dockerfile:%d: the RUN must be a plain go build", in.Line)
			for i := 2; i < len(words); i++ {
				w := words[i]
				switch {
				case w == "-o" && i+1 < len(words):
					b.Output = words[i+1]
					i++
				case strings.HasPrefix(w, "-o="):
					b.Output = strings.TrimPrefix(w, "-o=")
				case strings.HasPrefix(w, "-"):
					b.Flags = append(b.Flags, w)
					// Flags that take a separate value (the rest are booleans or -x=y).
					if slices.Contains([]string{"-ldflags", "-gcflags", "-tags", "-mod", "-p"}, w) && i+1 < len(words) {
						b.Flags = append(b.Flags, words[i+1])
						i++
					}
				default:
					b.Packages = append(b.Packages, w)
				}
			}
			found = append(found, b)
		}
	}
	require.Len(t, found, 1, "the build stage must have exactly one RUN with go build")
	return found[0]
}

// declareArgs records an ARG instruction's names: NAME=default, or NAME
// alone, which takes BuildKit's automatic value or an earlier declaration's.
func declareArgs(t *testing.T, in instruction, auto, args map[string]string) {
	t.Helper()
	words, err := shellWords(in.Args, func(name string) string { return args[name] })
	require.NoError(t, err, "Dockerfile:%d ARG", in.Line)
	for _, w := range words {
		if name, value, ok := assignment(w); ok {
			args[name] = value
			continue
		}
		if v, ok := auto[w]; ok {
			args[w] = v
		}
	}
}

// TestDockerfile checks the image's shape without a Docker engine: a Go
// builder matching go.mod, a static build, a distroless non-root runtime with
// the four binaries, /data for SQLite, OCI labels and an exec-form command.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)

	t.Run("builder Go version matches go.mod", func(t *testing.T) {
		gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
		require.NoError(t, err)
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
		require.NotNil(t, m, "go.mod has no go line")
		build, ok := d.stage("build")
		require.True(t, ok, "Dockerfile has no stage named build")
		assert.Equal(t, "golang:"+string(m[1]), build.Base,
			"the builder image must be the Go release go.mod asks for (no digest, so security fixes arrive)")
	})

	t.Run("static, reproducible build of every binary", func(t *testing.T) {
		b := buildCommand(t, d)
		assert.Equal(t, "0", b.Env["CGO_ENABLED"], "CGO_ENABLED=0 keeps the binaries static")
		assert.Contains(t, b.Flags, "-trimpath")
		assert.ElementsMatch(t, []string{"-s", "-w"}, strings.Fields(b.ldflags()), "-ldflags")
		assert.Equal(t, "/out/", b.Output)
		var want []string
		for _, name := range binaries {
			want = append(want, "./cmd/"+name)
		}
		assert.Equal(t, want, b.Packages)
		assert.Equal(t, "linux", b.Env["GOOS"])
	})

	final := d.final()
	t.Run("distroless non-root runtime", func(t *testing.T) {
		assert.Equal(t, runtimeBase, final.Base)
		users := final.all("USER")
		require.NotEmpty(t, users, "the runtime stage sets no USER")
		assert.Equal(t, nonRootUser, users[len(users)-1].Args)
		assert.Empty(t, final.all("RUN"), "the runtime image has no shell to RUN with")
	})

	t.Run("binaries in /usr/local/bin", func(t *testing.T) {
		var copied []string
		for _, in := range final.all("COPY") {
			if !slices.Contains(in.Flags, "--from=build") {
				continue
			}
			f := strings.Fields(in.Args)
			if f[len(f)-1] != binDir {
				continue
			}
			for _, src := range f[:len(f)-1] {
				copied = append(copied, strings.TrimPrefix(src, "/out/"))
			}
		}
		assert.ElementsMatch(t, binaries, copied)
	})

	t.Run("writable /data volume", func(t *testing.T) {
		var volumes []string
		for _, in := range final.all("VOLUME") {
			var v []string
			if json.Unmarshal([]byte(in.Args), &v) != nil {
				v = strings.Fields(in.Args)
			}
			volumes = append(volumes, v...)
		}
		assert.Contains(t, volumes, "/data")
		owned := false
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.Args)
			if slices.Contains(in.Flags, "--chown="+nonRootUser) && f[len(f)-1] == "/data" {
				owned = true
			}
		}
		assert.True(t, owned, "/data must be copied in owned by %s so the app can write SQLite there", nonRootUser)
	})

	t.Run("OCI labels", func(t *testing.T) {
		labels := map[string]string{}
		for _, in := range final.all("LABEL") {
			words, err := shellWords(in.Args, func(name string) string { return "${" + name + "}" })
			require.NoError(t, err, "Dockerfile:%d LABEL", in.Line)
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				require.True(t, ok, "Dockerfile:%d: label %q", in.Line, w)
				labels[k] = v
			}
		}
		for _, key := range []string{"title", "description", "source", "version", "revision"} {
			assert.NotEmpty(t, labels["org.opencontainers.image."+key], "label org.opencontainers.image.%s", key)
		}
	})

	t.Run("exec-form command", func(t *testing.T) {
		for _, cmd := range []string{"CMD", "ENTRYPOINT"} {
			for _, in := range final.all(cmd) {
				var argv []string
				require.NoError(t, json.Unmarshal([]byte(in.Args), &argv),
					"Dockerfile:%d: %s must be a JSON array: the image has no shell", in.Line, cmd)
				require.NotEmpty(t, argv)
				assert.True(t, strings.HasPrefix(argv[0], binDir), "%s runs %s", cmd, argv[0])
			}
		}
		cmds := final.all("CMD")
		require.Len(t, cmds, 1)
		assert.JSONEq(t, `["/usr/local/bin/mcp-server", "--http", "0.0.0.0:8080"]`, cmds[0].Args)
	})
}

// buildContext reads .dockerignore into the matcher Docker itself uses.
func buildContext(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), ".dockerignore"))
	require.NoError(t, err)
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	return pm
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	pm := buildContext(t)
	for _, tc := range []struct {
		path string
		sent bool
	}{
		{"go.mod", true},
		{"go.sum", true},
		{"cmd/mcp-server/main.go", true},
		{"internal/certs/service.go", true},
		{"api/sailpoint/v3.yaml", true}, // embedded by the sailpointapi package
		{".git/config", false},
		{".env", false},
		{"deploy/.env.production", false},
		{"certops.db", false},
		{"data/certops.db-wal", false},
		{"internal/store/tls.key", false},
		{"manifests/base/kustomization.yaml", false},
		{"internal/certs/service_test.go", false},
		{"internal/slackbot/testdata/command.json", false},
	} {
		ignored, err := pm.MatchesOrParentMatches(tc.path)
		require.NoError(t, err)
		assert.Equal(t, tc.sent, !ignored, "%s sent to the build: %v", tc.path, !ignored)
	}
}

// TestImageBinariesAreStatic builds the binaries the way the Dockerfile does,
// from the files .dockerignore lets into the build context, and checks that
// they are static, stripped Linux executables that carry the build settings.
func TestImageBinariesAreStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image's binaries (a minute or more on a cold cache); skipped in -short mode")
	}
	t.Parallel()
	root := repoRoot(t)
	b := buildCommand(t, readDockerfile(t))

	var packages []string
	missing := map[string]bool{}
	for _, pkg := range b.Packages {
		if _, err := os.Stat(filepath.Join(root, pkg, "main.go")); err != nil {
			missing[filepath.Base(pkg)] = true
			continue
		}
		packages = append(packages, pkg)
	}
	if len(packages) == 0 {
		t.Skipf("none of %v has a main.go yet", b.Packages)
	}

	buildDir := copyBuildContext(t, root, buildContext(t))
	out := filepath.Join(t.TempDir(), "out") // not there yet, like /out/ in the image build
	cmd := exec.CommandContext(t.Context(), "go", b.command(out+string(filepath.Separator), packages)...)
	cmd.Dir = buildDir
	cmd.Env = imageBuildEnv(b.Env)
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s (Dockerfile:%d) failed:\n%s", strings.Join(cmd.Args[1:], " "), b.Line, output)

	for _, name := range binaries {
		t.Run(name, func(t *testing.T) {
			if missing[name] {
				t.Skipf("cmd/%s has no main.go yet", name)
			}
			path := filepath.Join(out, name)
			f, err := elf.Open(path)
			require.NoError(t, err, "not an ELF executable")
			defer f.Close()
			assert.Equal(t, elf.ET_EXEC, f.Type, "a position-dependent static executable")
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "has a program interpreter: dynamically linked")
				assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "has a dynamic segment")
			}
			assert.Nil(t, f.Section(".dynamic"), "has a .dynamic section")
			assert.Nil(t, f.Section(".symtab"), "has a symbol table: -s was not applied")
			for _, s := range f.Sections {
				assert.False(t, strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"),
					"has DWARF section %s: -w was not applied", s.Name)
			}

			info, err := buildinfo.ReadFile(path)
			require.NoError(t, err)
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			assert.Equal(t, "0", settings["CGO_ENABLED"])
			assert.Equal(t, "true", settings["-trimpath"])
			// Go leaves -ldflags out of the build info under -trimpath (go.dev/issue/52372);
			// the section checks above stand for it.
			assert.Equal(t, "linux", settings["GOOS"])
			assert.Equal(t, "github.com/certops/certops/cmd/"+name, info.Path)

			// It runs with an empty environment, as in the image, and has the
			// listen flag the manifests pass it (a command prints its usage).
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a guard against a binary that ignores -h
			defer cancel()
			run := exec.CommandContext(ctx, path, "-h")
			run.Env = []string{}
			usage, _ := run.CombinedOutput() // -h exits non-zero after printing usage
			if flag, ok := listenFlag[name]; ok {
				assert.Contains(t, string(usage), "-"+flag+" ", "%s -h:\n%s", name, usage)
			} else {
				assert.Contains(t, string(usage), "usage: "+name, "%s -h:\n%s", name, usage)
			}
		})
	}
}

// imageBuildEnv is this process's environment (for PATH, HOME and the module
// cache) with the Go settings the golang image has and the Dockerfile's own.
func imageBuildEnv(dockerEnv map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := dockerEnv[name]; ok || name == "GOFLAGS" || name == "GOTOOLCHAIN" || name == "GOEXPERIMENT" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GOTOOLCHAIN=local") // as in the golang image: no toolchain download
	for k, v := range dockerEnv {
		env = append(env, k+"="+v)
	}
	return env
}

// copyBuildContext copies the files Docker would send (those .dockerignore
// does not exclude) to a temporary directory, so the build proves the image's
// context holds everything the binaries need.
func copyBuildContext(t *testing.T, root string, pm *patternmatcher.PatternMatcher) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		ignored, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		switch {
		case ignored && d.IsDir() && !pm.Exclusions():
			return filepath.SkipDir
		case ignored:
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	require.NoError(t, err, "copy the build context")
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
