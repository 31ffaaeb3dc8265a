// Package settings reads certops's configuration from the environment and
// reports every missing or malformed setting at once, in one wording for
// every binary:
//
//	configuration: 3 settings to fix:
//	  - SAIL_BASE_URL is required
//	  - SAIL_CLIENT_ID is required
//	  - CERTOPS_REQUEST_TTL must be a duration such as 30s or 1m
//	No SailPoint tenant at hand? Run with --sandbox: …
//
// Each problem names its variable. A value that does not parse is not
// echoed: it may be a secret pasted into the wrong variable.
//
// Why not envconfig.Process alone: it stops at the first problem, so a
// person fixing a fresh configuration would run the binary once per missing
// variable; and it takes a variable set to blanks as set (a required one
// passes, a duration fails to parse), where certops takes blanks as unset.
// Process reads the same struct tags (envconfig, default, required,
// ignored).
//
// The package imports nothing of certops, so every binary and adapter may
// use it.
package settings

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Problem is one setting that is missing or wrong.
type Problem struct {
	// Name is the variable (or flag) to fix, e.g. SAIL_BASE_URL.
	Name string
	// Missing is set when the setting is required and unset or blank.
	Missing bool
	// Detail says what is wrong and what is allowed, after the name:
	// "is required", "must be a duration such as 30s or 1m".
	Detail string
}

func (p *Problem) Error() string {
	if strings.HasPrefix(p.Detail, ":") {
		return p.Name + p.Detail
	}
	return p.Name + " " + p.Detail
}

// Missingf reports a required setting that is unset or blank: "NAME is
// required" followed by the formatted text, if any (e.g. "(or NAME_FILE)").
func Missingf(name, format string, args ...any) *Problem {
	detail := "is required"
	if format != "" {
		detail += " " + fmt.Sprintf(format, args...)
	}
	return &Problem{Name: name, Missing: true, Detail: detail}
}

// Invalidf reports a setting whose value is wrong: "NAME " followed by the
// formatted text, which says what is allowed ("must be positive, got -1s").
func Invalidf(name, format string, args ...any) *Problem {
	return &Problem{Name: name, Detail: fmt.Sprintf(format, args...)}
}

// Named returns err as a *Problem when its text starts with the variable it
// is about, as certops's errors about a setting do ("SLACK_BOT_TOKEN_FILE:
// secret file /x is empty", "DATABASE_URL and DATABASE_URL_FILE are both
// set"), so that settings.Errors can report each variable once; other
// errors are returned as they are.
func Named(err error) error {
	if err == nil {
		return nil
	}
	if p, ok := err.(*Problem); ok {
		return p
	}
	msg := err.Error()
	i := strings.IndexFunc(msg, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' })
	if i <= 0 || (msg[i] != ' ' && msg[i] != ':') {
		return err
	}
	return &Problem{Name: msg[:i], Detail: strings.TrimPrefix(msg[i:], " ")}
}

// Process reads spec, a pointer to a struct, from the environment, field by
// field, and returns every problem found (an errors.Join of *Problem), or
// nil. Fields are read as envconfig reads them: the `envconfig` tag names the
// variable (prefixed with PREFIX_ when prefix is not empty), `default` is
// used when it is unset or blank, `required:"true"` makes a blank one a
// problem, `ignored:"true"` and unexported fields are skipped. Lists are
// comma-separated; their items are trimmed and empty ones dropped.
//
// A field whose value does not parse keeps its default (or zero), so a
// caller may go on checking the rest.
func Process(prefix string, spec any) error {
	return process(prefix, spec, os.LookupEnv)
}

func process(prefix string, spec any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("settings: Process needs a pointer to a struct, not %T", spec))
	}
	v = v.Elem()
	var errs []error
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Tag.Get("ignored") == "true" {
			continue
		}
		name := Key(prefix, f)
		raw, _ := lookup(name)
		value := strings.TrimSpace(raw)
		if value == "" {
			if f.Tag.Get("required") == "true" {
				errs = append(errs, Missingf(name, ""))
				continue
			}
			value = f.Tag.Get("default")
			if value == "" {
				continue
			}
		}
		if err := decode(v.Field(i), value); err != nil {
			errs = append(errs, Invalidf(name, "must be %s", kindOf(f.Type)))
			if def := f.Tag.Get("default"); def != "" {
				_ = decode(v.Field(i), def)
			}
		}
	}
	return errors.Join(errs...)
}

// Key is the variable a struct field is read from: its `envconfig` tag (or
// its name), upper-cased, after PREFIX_ when prefix is not empty.
func Key(prefix string, f reflect.StructField) string {
	key := f.Tag.Get("envconfig")
	if key == "" {
		key = f.Name
	}
	if prefix != "" {
		key = prefix + "_" + key
	}
	return strings.ToUpper(key)
}

var durationType = reflect.TypeFor[time.Duration]()

// decode sets v from s.
func decode(v reflect.Value, s string) error {
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			v.Set(reflect.Zero(v.Type()))
			return u.UnmarshalText([]byte(s))
		}
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetFloat(n)
	case reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decode(out.Index(i), item); err != nil {
				return err
			}
		}
		v.Set(out)
	default:
		panic(fmt.Sprintf("settings: cannot read a %s from the environment", v.Type()))
	}
	return nil
}

// kindOf says what a value of type t looks like.
func kindOf(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s or 1m"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a comma-separated list of " + strings.TrimPrefix(kindOf(t.Elem()), "a ") + "s"
	}
	return "a valid " + t.String()
}

// Errors collects the problems of a binary's settings. The zero value is
// ready to use.
type Errors struct {
	problems []error
	hints    []string
}

// Add records errs: nil ones are skipped, errors.Join trees and *Error are
// taken apart into their problems (an *Error's hints are kept), and a
// *Problem naming a setting that already has one is dropped, so each
// setting is reported once, by the first check that found it wrong.
func (e *Errors) Add(errs ...error) {
	for _, err := range errs {
		switch x := err.(type) {
		case nil:
		case *Error:
			e.Add(x.Problems...)
			for _, h := range x.Hints {
				e.Hint(h)
			}
		case interface{ Unwrap() []error }:
			e.Add(x.Unwrap()...)
		case *Problem:
			if !e.Has(x.Name) {
				e.problems = append(e.problems, x)
			}
		default:
			e.problems = append(e.problems, err)
		}
	}
}

// Has reports whether a problem with the setting name was recorded.
func (e *Errors) Has(name string) bool {
	for _, err := range e.problems {
		if p, ok := err.(*Problem); ok && p.Name == name {
			return true
		}
	}
	return false
}

// Missing reports whether a setting whose name starts with prefix was
// reported missing.
func (e *Errors) Missing(prefix string) bool {
	for _, err := range e.problems {
		if p, ok := err.(*Problem); ok && p.Missing && strings.HasPrefix(p.Name, prefix) {
			return true
		}
	}
	return false
}

// Hint adds a line said after the problems, once however often it is added.
func (e *Errors) Hint(h string) {
	for _, have := range e.hints {
		if have == h {
			return
		}
	}
	e.hints = append(e.hints, h)
}

// Err returns the problems as an *Error, or nil when there are none.
func (e *Errors) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return &Error{Problems: e.problems, Hints: e.hints}
}

// Error is every problem of a binary's settings, and what to do about them.
type Error struct {
	Problems []error
	Hints    []string
}

// Error says "configuration: " and the one problem, or the number of
// problems and each on its own line; then each hint on its own line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("configuration: ")
	if len(e.Problems) == 1 {
		b.WriteString(e.Problems[0].Error())
	} else {
		fmt.Fprintf(&b, "%d settings to fix:", len(e.Problems))
		for _, p := range e.Problems {
			b.WriteString("\n  - ")
			b.WriteString(strings.ReplaceAll(p.Error(), "\n", "\n    "))
		}
	}
	for _, h := range e.Hints {
		b.WriteString("\n")
		b.WriteString(h)
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *Error) Unwrap() []error { return e.Problems }

// Report returns every problem of errs as one *Error (see Errors.Add), or
// nil when there is none.
func Report(errs ...error) error {
	var e Errors
	e.Add(errs...)
	return e.Err()
}
