package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/tools"
)

// envSettings lists the environment variables certops' Go code reads
// through envconfig struct tags (all settings go through envconfig), and
// those it requires.
func envSettings(t *testing.T) (read, required map[string]bool) {
	t.Helper()
	tag := regexp.MustCompile(`envconfig:"([A-Z][A-Z0-9_]*)"([^` + "`" + `]*)`)
	read, required = map[string]bool{}, map[string]bool{}
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "manifests") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range tag.FindAllStringSubmatch(string(src), -1) {
			read[m[1]] = true
			if strings.Contains(m[2], `required:"true"`) {
				required[m[1]] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, read, "no envconfig tags found")
	return read, required
}

// TestManifestsSetOnlySettingsTheCodeReads catches a misspelt variable in
// the manifests or in DEPLOY.md's kubectl commands, which the binaries would
// silently ignore, and a required setting that the deployment never provides.
func TestManifestsSetOnlySettingsTheCodeReads(t *testing.T) {
	t.Parallel()
	read, required := envSettings(t)

	provided := map[string]string{} // name → where it is set
	for _, r := range renderings() {
		o := renderRendering(t, r)
		for _, w := range o.workloads() {
			for _, c := range w.template.Spec.Containers {
				if len(c.Command) == 0 || !strings.HasPrefix(c.Command[0], binDir) {
					continue // PostgreSQL
				}
				for _, e := range c.Env {
					provided[e.Name] = r.name + " " + w.name + " env"
				}
			}
		}
		for _, cm := range o.configMaps {
			for k := range cm.Data {
				provided[k] = r.name + " ConfigMap " + cm.Name
			}
		}
	}
	deploy, err := os.ReadFile(filepath.Join(manifestsDir(t), "DEPLOY.md"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`--from-(?:literal|file)=([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(string(deploy), -1) {
		provided[m[1]] = "DEPLOY.md kubectl create"
	}

	for name, where := range provided {
		assert.True(t, read[name], "%s (set in %s) is not read by any certops binary", name, where)
	}
	for name := range required {
		if strings.HasPrefix(name, "SANDBOX_") {
			continue
		}
		_, ok := provided[name]
		assert.True(t, ok, "required setting %s is neither set by the manifests nor in DEPLOY.md's kubectl commands", name)
	}
}

// TestDeployTokensExampleParses checks that the tokens file DEPLOY.md tells
// operators to write is one the MCP server accepts.
func TestDeployTokensExampleParses(t *testing.T) {
	t.Parallel()
	deploy, err := os.ReadFile(filepath.Join(manifestsDir(t), "DEPLOY.md"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)cat > mcp-tokens\.yaml <<EOF\n(.*?)\nEOF\n`).FindSubmatch(deploy)
	require.NotNil(t, m, "DEPLOY.md has no mcp-tokens.yaml example")
	const token = "example-token"
	example := strings.ReplaceAll(string(m[1]), "$HASH", tools.HashToken(token))

	parsed, err := tools.ParseTokens([]byte(example))
	require.NoError(t, err, "the example tokens file:\n%s", example)
	require.Len(t, parsed, 1)
	assert.Equal(t, tools.HashToken(token), parsed[0].SHA256)
	assert.Contains(t, string(deploy), `HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)`,
		"the documented hash is the hex SHA-256 of the token, as tools.HashToken computes it")
}
