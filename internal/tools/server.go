package tools

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// Options configures the MCP server.
type Options struct {
	Service Service
	Logger  *slog.Logger
	// Version is reported to clients as the server's version.
	Version string
	// Tools selects the tools offered.
	Tools Selection
	// RequireApproval says the Service's policy files requests for
	// approvers instead of submitting (certs.Policy.RequireApproval); the
	// tools tell the person so before they confirm.
	RequireApproval bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Metrics counts tool calls (none when nil; *metrics.Metrics fits).
	Metrics Metrics
}

// Metrics receives one record per tool call: the tool's name and the
// outcome, "ok" or the certs error code of an error result.
type Metrics interface {
	ToolCall(tool, outcome string)
}

const instructions = `certops reads SailPoint Identity Security Cloud certifications (access reviews), moves review work between reviewers, and lets reviewers decide their items and sign off.
Read tools change nothing. To move work: plan_reassignment (changes nothing, returns a plan with a summary and digest), show the summary to the person, then reassign with the plan id once they agree. find_people finds a person's identity id and email by name.
To review: get_review_item shows the facts for items (certops never recommends a decision); plan_decisions (changes nothing) returns what would be approved and revoked; show it, then decide with the plan id once the person agrees. When every item is decided, sign_off (final) signs the certification off; revoked access is removed only then.
Errors are tool results whose text starts with what kind of failure it is; "invalid argument" names the argument and what is allowed.`

// New returns the MCP server with the selected tools and the review prompt.
func New(opts Options) (*server.MCPServer, error) {
	if opts.Service == nil {
		return nil, fmt.Errorf("tools.New: Service is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	d := deps{svc: opts.Service, log: log, requireApproval: opts.RequireApproval, clock: opts.Now}
	selected, err := selectTools(d, opts.Tools)
	if err != nil {
		return nil, err
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	s := server.NewMCPServer("certops", version,
		server.WithTitle("certops: SailPoint certifications"),
		server.WithInstructions(instructions),
		server.WithToolCapabilities(false),
		server.WithPromptCapabilities(false),
		// Each handler validates its own arguments (handler.go: bind and
		// the check helpers) rather than mcp-go's schema validator, whose
		// messages ("&{Got:1000/1 Want:100/1}") a model cannot act on.
		// Results are still checked against each tool's output schema.
		server.WithStrictInputSchemaDefault(),
		server.WithOutputSchemaValidation(),
		server.WithToolHandlerMiddleware(recoverTool(log)),
		server.WithToolHandlerMiddleware(logTool(log, opts.Metrics)),
	)
	s.AddTools(selected...)
	s.AddPrompts(reviewPrompt(promptTools{reassign: offers(selected, "reassign"), decide: offers(selected, "decide"), signOff: offers(selected, "sign_off")}))
	return s, nil
}

func offers(tools []server.ServerTool, name string) bool {
	for _, t := range tools {
		if t.Tool.Name == name {
			return true
		}
	}
	return false
}

// recoverTool turns a panic in a handler into an error result, so that one
// bad call never takes the server down, and logs the stack.
func recoverTool(log *slog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			defer func() {
				if p := recover(); p != nil {
					log.ErrorContext(ctx, "tool handler panicked", "tool", req.Params.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					res, err = mcp.NewToolResultError(errorPrefixes[certs.EINTERNAL]+": the tool failed unexpectedly; the failure was logged"), nil
				}
			}()
			return next(ctx, req)
		}
	}
}

// logTool logs and counts each call: who, which tool, how long, whether it
// failed. Arguments are not logged: they may carry names and emails. Only
// registered tools reach a middleware, so the tool label is a fixed set.
func logTool(log *slog.Logger, met Metrics) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			res, err := next(ctx, req)
			a, _ := ActorFrom(ctx)
			log.DebugContext(ctx, "tool call", "tool", req.Params.Name, "actor", a.ID, "role", a.Role,
				"duration", time.Since(start), "is_error", res != nil && res.IsError, "err", err)
			if met != nil {
				met.ToolCall(req.Params.Name, resultOutcome(res, err))
			}
			return res, err
		}
	}
}

// outcomeOK is the outcome of a successful call (metrics.OutcomeOK).
const outcomeOK = "ok"

// resultOutcome is a call's outcome label: "ok", or the certs error code
// whose prefix (errorPrefixes) starts the error result's text. A Go error
// (a protocol-level failure) or an unrecognised text counts as internal.
func resultOutcome(res *mcp.CallToolResult, err error) string {
	switch {
	case err != nil || res == nil:
		return certs.EINTERNAL
	case !res.IsError:
		return outcomeOK
	}
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			for code, prefix := range errorPrefixes {
				if strings.HasPrefix(tc.Text, prefix+":") {
					return code
				}
			}
		}
	}
	return certs.EINTERNAL
}
