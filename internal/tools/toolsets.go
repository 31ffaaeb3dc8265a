package tools

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/server"
)

// readTools are the tools that change nothing in ISC. Every one of them must
// carry ReadOnlyHint true (checked by TestToolsetsMatchReadOnlyHints).
func readTools(d deps) []server.ServerTool {
	return []server.ServerTool{
		listCertifications(d),
		getCertification(d),
		listReviewers(d),
		findPeople(d),
		listReviewItems(d),
		getItemPermissions(d),
		planReassignment(d),
		getReassignmentStatus(d),
		listPendingTasks(d),
		getReviewItem(d),
		planDecisions(d),
		exportReviewEvidence(d),
	}
}

// writeTools are the tools that change ISC. Every one carries ReadOnlyHint
// false; --read-only leaves them all out.
func writeTools(d deps) []server.ServerTool {
	return []server.ServerTool{
		reassign(d),
		decide(d),
		signOff(d),
	}
}

// ToolNames lists every tool's name, read tools first.
func ToolNames() []string {
	var names []string
	for _, t := range append(readTools(deps{}), writeTools(deps{})...) {
		names = append(names, t.Tool.Name)
	}
	return names
}

// Selection says which tools a server offers.
type Selection struct {
	// ReadOnly leaves out every write tool.
	ReadOnly bool
	// Allow, when not empty, offers only these tools.
	Allow []string
	// Deny leaves these tools out.
	Deny []string
}

// selectTools applies a Selection. Unknown names in Allow or Deny are an
// error, so that a typo cannot silently leave a tool on or off.
func selectTools(d deps, sel Selection) ([]server.ServerTool, error) {
	all := append(readTools(d), writeTools(d)...)
	known := make(map[string]bool, len(all))
	for _, t := range all {
		known[t.Tool.Name] = true
	}
	var unknown []string
	for _, n := range append(slices.Clone(sel.Allow), sel.Deny...) {
		if !known[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown tool name(s) %s; known tools: %s", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	candidates := readTools(d)
	if !sel.ReadOnly {
		candidates = append(candidates, writeTools(d)...)
	}
	var out []server.ServerTool
	for _, t := range candidates {
		if len(sel.Allow) > 0 && !slices.Contains(sel.Allow, t.Tool.Name) {
			continue
		}
		if slices.Contains(sel.Deny, t.Tool.Name) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the tool selection leaves no tools to offer")
	}
	return out, nil
}

// ParseToolList splits a comma-separated list of tool names (as in
// CERTOPS_MCP_TOOLS), trimming blanks.
func ParseToolList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
