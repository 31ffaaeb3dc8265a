package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// deps is what every tool handler needs.
type deps struct {
	svc Service
	log *slog.Logger
	// requireApproval mirrors certs.Policy.RequireApproval so that the
	// reassign tool can tell the person, before they confirm, that their
	// confirmation files a request for approvers rather than moving items.
	requireApproval bool
	// pollEvery is how often reassign re-reads a request while waiting.
	pollEvery time.Duration
	// clock tells the time (time.Now when nil), to flag overdue work.
	clock func() time.Time
}

func (d deps) now() time.Time {
	if d.clock != nil {
		return d.clock()
	}
	return time.Now()
}

// toolFunc is a handler that has an actor and returns domain errors; handle
// turns those into error results.
type toolFunc func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error)

// handle adapts fn to mcp-go: it finds the caller's actor in ctx and turns
// every error fn returns into an isError result the model can act on.
func (d deps) handle(name string, fn toolFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		a, ok := ActorFrom(ctx)
		if !ok {
			// A wiring bug: every transport sets the actor. Refuse rather
			// than act as nobody.
			return errorResult(ctx, d.log, name, &certs.Error{Code: certs.EFORBIDDEN, Message: "this connection carries no identity; the server is misconfigured"}), nil
		}
		res, err := fn(ctx, a, req)
		if err != nil {
			return errorResult(ctx, d.log, name, err), nil
		}
		return res, nil
	}
}

// bind decodes a tool call's arguments into T, refusing unknown arguments
// and naming the argument whose type is wrong.
func bind[T any](req mcp.CallToolRequest) (T, error) {
	var v T
	var raw []byte
	switch {
	case len(req.Params.RawArguments) > 0:
		raw = req.Params.RawArguments
	case req.Params.Arguments == nil:
		raw = []byte("{}")
	default:
		b, err := json.Marshal(req.Params.Arguments)
		if err != nil {
			return v, invalid("arguments must be a JSON object")
		}
		raw = b
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			want := jsonKind(typeErr.Type.Kind().String())
			if f, ok := fieldByJSONName(reflect.TypeOf(v), typeErr.Field); ok && f.Type.Kind() == reflect.Slice && typeErr.Type.Kind() != reflect.Slice {
				want = "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(f.Type.Elem().Kind().String()), "a "), "an ") + "s"
			}
			return v, invalid("argument %s must be %s, not %s", typeErr.Field, want, typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return v, invalid("unknown argument %s; see the tool's input schema for the arguments it takes", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.As(err, &typeErr):
			return v, invalid("arguments must be a JSON object")
		default:
			return v, invalid("arguments are not valid JSON: %v", err)
		}
	}
	return v, nil
}

// fieldByJSONName finds the struct field that decodes the argument name.
func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64":
		return "an integer"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// result returns a successful result with structured content and its
// compact text rendering for clients that read only text.
func result(structured any, text string) *mcp.CallToolResult {
	return mcp.NewToolResultStructured(structured, text)
}

// checkID validates an id argument (charset and length, certs.ValidateID),
// naming the argument in the message.
func checkID(arg, v string) error {
	if err := certs.ValidateID(arg, v); err != nil {
		return err
	}
	return nil
}

// checkIDs validates a list of ids: at most max, each a valid id, no
// duplicates.
func checkIDs(arg string, ids []string, max int) error {
	if len(ids) > max {
		return invalid("%s has %d entries; at most %d are allowed", arg, len(ids), max)
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if err := certs.ValidateID(fmt.Sprintf("%s[%d]", arg, i), id); err != nil {
			return err
		}
		if seen[id] {
			return invalid("%s lists %q twice", arg, id)
		}
		seen[id] = true
	}
	return nil
}

// checkText applies a free-text argument's schema bound (at most max
// characters, as its input schema says) and leaves what the text may
// contain to certs' one text policy for single-line text (no control or
// invisible characters, no line breaks, valid UTF-8), naming the argument.
func checkText(arg, v string, max int) error {
	if n := utf8.RuneCountInString(v); n > max {
		return invalid("%s is %d characters; at most %d are allowed", arg, n, max)
	}
	return certs.ValidateName(arg, v)
}

// pageLimit applies the default and bounds of a limit argument.
func pageLimit(limit *int, def, max int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > max {
		return 0, invalid("limit must be between 1 and %d, got %d", max, *limit)
	}
	return *limit, nil
}

// completedFilter maps a status argument (open, completed, all) to
// certs' tri-state.
func completedFilter(status, def string) (*bool, string, error) {
	if status == "" {
		status = def
	}
	switch status {
	case statusOpen:
		f := false
		return &f, status, nil
	case statusCompleted:
		t := true
		return &t, status, nil
	case statusAll:
		return nil, status, nil
	}
	return nil, "", invalid("status must be one of open, completed, all; got %q", status)
}

const (
	statusOpen      = "open"
	statusCompleted = "completed"
	statusAll       = "all"
)

// Limits of list tools: pages stay small so that results fit a model's
// context; ISC's own maximum is 250.
const (
	defaultLimit = 25
	maxLimit     = 100
	maxFilterLen = 200
)

func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func day(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "no due date"
	}
	return t.UTC().Format("2006-01-02")
}

func pct(made, total int) int {
	if total == 0 {
		return 0
	}
	return made * 100 / total
}

// Common schema fragments, so every tool describes the same argument the
// same way, in as few words as a model needs: every byte is in every
// tools/list. What an argument may hold is the handler's to check, with a
// message naming the argument (bind, checkID, checkText), so the schemas
// leave out ids' pattern and length (certs.ValidateID).

// idArg is an id argument; what says which id, and where it comes from
// when that is not obvious.
func idArg(name, what string, required bool) mcp.ToolOption {
	opts := []mcp.PropertyOption{mcp.Description(what)}
	if required {
		opts = append(opts, mcp.Required())
	}
	return mcp.WithString(name, opts...)
}

func limitArg() mcp.ToolOption {
	return mcp.WithInteger("limit",
		mcp.Description(fmt.Sprintf("Default %d.", defaultLimit)),
		mcp.Min(1), mcp.Max(maxLimit))
}

func cursorArg() mcp.ToolOption {
	return mcp.WithString("cursor", mcp.Description("The last page's nextCursor."))
}

// statusArg is a status filter; what is what open means.
func statusArg(def, what string) mcp.ToolOption {
	return mcp.WithString("status",
		mcp.Description(fmt.Sprintf("Default %s (not yet %s).", def, what)),
		mcp.Enum(statusOpen, statusCompleted, statusAll))
}

// prefixArg is a filter by the start of a text.
func prefixArg(name, what string) mcp.ToolOption {
	return mcp.WithString(name, mcp.Description(what+" starts with this."), mcp.MaxLength(maxFilterLen))
}

// readOnly and the other annotation sets say the truth about each kind of
// tool: reads change nothing; every tool reaches the SailPoint tenant, an
// external system.
func readAnnotations(title string, idempotent bool) mcp.ToolOption {
	return mcp.WithToolAnnotation(mcp.ToolAnnotation{
		Title:           title,
		ReadOnlyHint:    mcp.ToBoolPtr(true),
		DestructiveHint: mcp.ToBoolPtr(false),
		IdempotentHint:  mcp.ToBoolPtr(idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(true),
	})
}

// newTool is mcp.NewTool with additionalProperties false (tools take only
// the arguments they describe, and the schema the model sees says so), a
// display title, and a lean output schema (leanOutput).
func newTool(name string, opts ...mcp.ToolOption) mcp.Tool {
	t := mcp.NewTool(name, append(opts, mcp.WithSchemaAdditionalProperties(false))...)
	// Clients show Title (2025-06-18 and later) or the annotation's title
	// (before); keep them the same.
	if t.Title == "" {
		t.Title = t.Annotations.Title
	}
	leanOutput(&t)
	return t
}

// leanOutput trims an output schema generated from a Go type, since every
// byte of it is in every tools/list a model reads. It keeps what a client
// needs to find its way in a result: the result's fields with their types
// and descriptions, and the fields of the objects and array items directly
// in it, with their types. Deeper objects are just "object" (the text
// tells what they hold), and it drops what repeats the property names or
// constrains only a writer: required lists, additionalProperties, and the
// "null" of nullable arrays and objects. Every result still validates: the
// schema only says less (the server validates each result against it, and
// cmd/mcp-server's tests validate them again as a client).
func leanOutput(t *mcp.Tool) {
	if t.OutputSchema.Type == "" {
		return
	}
	props := make(map[string]any, len(t.OutputSchema.Properties))
	for name, p := range t.OutputSchema.Properties {
		if m, ok := p.(map[string]any); ok {
			props[name] = leanSchema(m, 1)
		}
	}
	raw, err := json.Marshal(map[string]any{"type": "object", "properties": props})
	if err != nil {
		panic(fmt.Sprintf("tools: %s's output schema: %v", t.Name, err)) // maps of JSON values always encode
	}
	// mcp-go sends and validates against the raw schema, which has no
	// required list to repeat the names.
	t.RawOutputSchema, t.OutputSchema = raw, mcp.ToolOutputSchema{}
}

// outputDepth is how many levels of properties an output schema keeps.
const outputDepth = 2

// leanSchema is the lean form of a property's schema at depth (1: a field
// of the result).
func leanSchema(m map[string]any, depth int) map[string]any {
	out := map[string]any{}
	switch t := m["type"].(type) {
	case string:
		out["type"] = t
	case []any:
		// ["null", "array"]: the items say it is an array.
		if len(t) == 2 && slices.Contains(t, any("null")) {
			for _, x := range t {
				if x != "null" {
					out["type"] = x
				}
			}
		}
	}
	if d, ok := m["description"]; ok && depth == 1 {
		out["description"] = d
	}
	if e, ok := m["enum"]; ok {
		out["enum"] = e
	}
	if props, ok := m["properties"].(map[string]any); ok && depth < outputDepth {
		kept := make(map[string]any, len(props))
		for name, p := range props {
			if pm, ok := p.(map[string]any); ok {
				kept[name] = leanSchema(pm, depth+1)
			}
		}
		out["properties"] = kept
	}
	if items, ok := m["items"].(map[string]any); ok {
		// An array's items are at the array's depth: a list of rows keeps
		// the rows' fields.
		if _, nested := items["properties"]; !nested || depth < outputDepth {
			out["items"] = leanSchema(items, depth)
		}
	}
	return out
}
