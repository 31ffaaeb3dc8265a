package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// Format is an export's file format.
type Format string

const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// Formats lists the formats, the default first.
var Formats = []Format{CSV, JSONL}

// ParseFormat accepts csv or jsonl (also "jsonlines" and "ndjson"), in any
// case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return CSV, nil
	case "jsonl", "jsonlines", "ndjson":
		return JSONL, nil
	}
	return "", fmt.Errorf("format %q is neither csv nor jsonl", s)
}

// Extension is the format's file name extension, with its dot.
func (f Format) Extension() string { return "." + string(f) }

// MediaType is the format's media type.
func (f Format) MediaType() string {
	if f == JSONL {
		return "application/jsonl"
	}
	return "text/csv"
}

// FileName is the conventional name of certID's export in format f.
func FileName(certID string, f Format) string {
	return "review-evidence-" + certID + f.Extension()
}

// Write writes records in format f.
func Write(w io.Writer, f Format, records []certs.EvidenceRecord) error {
	return write(w, f, records, true)
}

// Page returns records as one part of an export split into parts: the CSV
// header only in the first part, so that the parts concatenated in order
// are the whole file.
func Page(f Format, records []certs.EvidenceRecord, first bool) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, f, records, first); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func write(w io.Writer, f Format, records []certs.EvidenceRecord, header bool) error {
	switch f {
	case CSV:
		cw := csv.NewWriter(w)
		if header {
			if err := cw.Write(certs.EvidenceColumns()); err != nil {
				return err
			}
		}
		for _, r := range records {
			vals := r.Values()
			for i, v := range vals {
				vals[i] = defuse(v)
			}
			if err := cw.Write(vals); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case JSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, r := range records {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("export: unknown format %q", f)
}

// Bytes is Write into memory.
func Bytes(f Format, records []certs.EvidenceRecord) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, f, records); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// defuse keeps a spreadsheet from running a value as a formula (OWASP's
// CSV injection advice): such a value, or one that starts with the
// apostrophe itself, gets a leading apostrophe, which Read removes.
func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r'", rune(v[0])) {
		return "'" + v
	}
	return v
}

func restore(v string) string { return strings.TrimPrefix(v, "'") }

// File is an export as read: its records, and the line each starts on.
type File struct {
	Format  Format
	Records []certs.EvidenceRecord
	Lines   []int
}

// ReadError is a file that cannot be read as an export, at a line.
type ReadError struct {
	Line int
	Err  error
}

func (e *ReadError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// maxLine bounds one JSON Lines record (a record is a few KiB).
const maxLine = 1 << 20

// Read reads an export in format f, or, when f is "", in the format its
// first character shows ('{': JSON Lines, else CSV). A line that is not a
// record of the export's layout is a *ReadError naming it.
func Read(r io.Reader, f Format) (*File, error) {
	br := bufio.NewReader(r)
	if f == "" {
		f = CSV
		head, _ := br.Peek(512) // what there is of it
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
			f = JSONL
		}
	}
	switch f {
	case CSV:
		return readCSV(br)
	case JSONL:
		return readJSONL(br)
	}
	return nil, fmt.Errorf("export: unknown format %q", f)
}

func readCSV(r io.Reader) (*File, error) {
	cols := certs.EvidenceColumns()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted below, to name what is wrong
	out := &File{Format: CSV}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ReadError{Err: errors.New("the file is empty: not even the CSV header is there")}
	}
	if err != nil {
		return nil, csvError(err)
	}
	if !slices.Equal(header, cols) {
		return nil, &ReadError{Line: 1, Err: fmt.Errorf("the header is not an evidence export's: %s", diffColumns(header, cols))}
	}
	for {
		vals, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(vals) != len(cols) {
			return nil, &ReadError{Line: line, Err: fmt.Errorf("%d fields, not the header's %d", len(vals), len(cols))}
		}
		for i, v := range vals {
			vals[i] = restore(v)
		}
		rec, err := certs.ParseEvidenceRecord(vals)
		if err != nil {
			return nil, &ReadError{Line: line, Err: errors.New(certs.ErrorMessage(err))}
		}
		out.Records = append(out.Records, rec)
		out.Lines = append(out.Lines, line)
	}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ReadError{Line: pe.Line, Err: fmt.Errorf("not valid CSV: %v", pe.Err)}
	}
	return &ReadError{Err: err}
}

// diffColumns says how a header differs from the columns.
func diffColumns(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("column %d is %q, not %q", i+1, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d columns, not %d", len(got), len(want))
}

func readJSONL(r io.Reader) (*File, error) {
	cols := certs.EvidenceColumns()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	out := &File{Format: JSONL}
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(text, &fields); err != nil {
			return nil, &ReadError{Line: line, Err: fmt.Errorf("not a JSON object: %v", err)}
		}
		var missing []string
		for _, c := range cols {
			if _, ok := fields[c]; !ok {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return nil, &ReadError{Line: line, Err: fmt.Errorf("missing %s", strings.Join(missing, ", "))}
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		var rec certs.EvidenceRecord
		if err := dec.Decode(&rec); err != nil {
			return nil, &ReadError{Line: line, Err: fmt.Errorf("not an evidence record: %v", err)}
		}
		// Through the values, so that JSON and CSV refuse the same things.
		rec, err := certs.ParseEvidenceRecord(rec.Values())
		if err != nil {
			return nil, &ReadError{Line: line, Err: errors.New(certs.ErrorMessage(err))}
		}
		out.Records = append(out.Records, rec)
		out.Lines = append(out.Lines, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ReadError{Line: line + 1, Err: fmt.Errorf("longer than %d bytes: not an evidence record", maxLine)}
		}
		return nil, &ReadError{Err: err}
	}
	return out, nil
}

// BrokenError is a verified export whose chain breaks: the first broken
// record and the line it is on (0 when records are missing from the end).
type BrokenError struct {
	Break *certs.EvidenceBreak
	Line  int
}

func (e *BrokenError) Error() string {
	if e.Line == 0 {
		return e.Break.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Break)
}

func (e *BrokenError) Unwrap() error { return e.Break }

// Verify reads an export (format f, or detected when "") and verifies its
// chain. It returns what the export holds, or a *ReadError (a line that is
// not a record) or a *BrokenError (the first record that was altered, or
// that follows a removed, inserted or reordered one, with its line).
func Verify(r io.Reader, f Format) (*File, certs.EvidenceChain, error) {
	file, err := Read(r, f)
	if err != nil {
		return nil, certs.EvidenceChain{}, err
	}
	chain, err := certs.VerifyEvidence(file.Records)
	var br *certs.EvidenceBreak
	if errors.As(err, &br) {
		line := 0
		if br.Record-1 < len(file.Lines) {
			line = file.Lines[br.Record-1]
		}
		return file, certs.EvidenceChain{}, &BrokenError{Break: br, Line: line}
	}
	return file, chain, err
}
