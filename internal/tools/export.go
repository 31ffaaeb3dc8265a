package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

// EvidenceExportOut is export_review_evidence's result: one page of a
// certification's review evidence export.
type EvidenceExportOut struct {
	CertificationID string `json:"certificationId"`
	Format          string `json:"format" jsonschema:"csv or jsonl"`
	Records         int    `json:"records" jsonschema:"records in the whole export"`
	From            int    `json:"from" jsonschema:"the first record in content, from 1 (0 when there is none)"`
	To              int    `json:"to" jsonschema:"the last record in content"`
	Head            string `json:"head,omitempty" jsonschema:"the whole export's last hash; the audit trail's data.exported event records it"`
	Content         string `json:"content" jsonschema:"records from..to in the format (CSV: the header only on the first page), so the pages' content concatenated in order is the whole file"`
	NextCursor      string `json:"nextCursor,omitempty" jsonschema:"call again with this cursor for the next page"`
	Verify          string `json:"verify" jsonschema:"how to check the saved file"`
}

type exportArgs struct {
	CertificationID string `json:"certification_id"`
	Format          string `json:"format"`
	Limit           *int   `json:"limit"`
	Cursor          string `json:"cursor"`
}

// Pages of an export: records are a few hundred bytes to a few KiB each.
const (
	defaultExportLimit = 100
	maxExportLimit     = 500
)

const verifyHint = "save the content of every page, in order, to one file, then run: certops-audit verify FILE"

func exportReviewEvidence(d deps) server.ServerTool {
	tool := newTool("export_review_evidence",
		mcp.WithDescription("Export a certification's decisions with the evidence each person was shown, for auditors: one record per decision "+
			"(item, identity, access, decision, comments, who decided through which front end and on whose behalf, when, the plan's digest, "+
			"and the facts shown: peers, privileged, new access, remarks), decisions made in ISC outside certops marked as such, and the sign-off. "+
			"Each record carries the SHA-256 hash of the one before, so a removed, reordered or altered record is detectable with "+
			"`certops-audit verify FILE`. CSV (default) or JSON Lines. Only the certification's reviewer or an admin may export; each export is "+
			"written to certops's audit trail. Large exports come in pages: concatenate every page's content, in order, to get the file."),
		idArg("certification_id", "Certification id.", true),
		mcp.WithString("format", mcp.Description("csv (default) or jsonl (JSON Lines)."), mcp.Enum(string(export.CSV), string(export.JSONL))),
		mcp.WithInteger("limit", mcp.Description(fmt.Sprintf("Records per page, 1-%d (default %d).", maxExportLimit, defaultExportLimit)),
			mcp.Min(1), mcp.Max(maxExportLimit)),
		cursorArg(),
		readAnnotations("Export review evidence", true),
		mcp.WithOutputSchema[EvidenceExportOut](),
	)
	return server.ServerTool{Tool: tool, Handler: d.handle(tool.Name, func(ctx context.Context, a certs.Actor, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := bind[exportArgs](req)
		if err != nil {
			return nil, err
		}
		if err := checkID("certification_id", args.CertificationID); err != nil {
			return nil, err
		}
		format := export.CSV
		if args.Format != "" {
			if format, err = export.ParseFormat(args.Format); err != nil {
				return nil, invalid("format must be csv or jsonl, not %q", args.Format)
			}
		}
		limit, err := pageLimit(args.Limit, defaultExportLimit, maxExportLimit)
		if err != nil {
			return nil, err
		}
		var cur exportCursor
		if args.Cursor != "" {
			if cur, err = decodeExportCursor(args.Cursor, args.CertificationID, format); err != nil {
				return nil, err
			}
		}
		recs, err := d.svc.ExportReviewEvidence(ctx, a, args.CertificationID)
		if err != nil {
			return nil, err
		}
		head := ""
		if len(recs) > 0 {
			head = recs[len(recs)-1].Hash
		}
		if args.Cursor != "" && (cur.Head != headMark(head) || cur.Offset > len(recs)) {
			return nil, invalid("the export of certification %s changed since its first page (decisions were made since): start again without cursor, and discard the pages saved so far", args.CertificationID)
		}
		page := recs[cur.Offset:min(cur.Offset+limit, len(recs))]
		content, err := export.Page(format, page, cur.Offset == 0)
		if err != nil {
			return nil, fmt.Errorf("write the export: %w", err)
		}
		out := EvidenceExportOut{CertificationID: args.CertificationID, Format: string(format), Records: len(recs), Head: head, Content: string(content), Verify: verifyHint}
		if len(page) > 0 {
			out.From, out.To = cur.Offset+1, cur.Offset+len(page)
		}
		if out.To < len(recs) {
			out.NextCursor = encodeExportCursor(exportCursor{Offset: out.To, Head: headMark(head), Query: exportQuery(args.CertificationID, format)})
		}

		var b strings.Builder
		switch {
		case len(recs) == 0:
			fmt.Fprintf(&b, "Certification %s has no decisions to export yet.", args.CertificationID)
		case out.From == 1 && out.To == len(recs):
			fmt.Fprintf(&b, "Review evidence of certification %s: %s (%s), head hash %s.", args.CertificationID, countOf(len(recs), "record", "records"), format, head)
		default:
			fmt.Fprintf(&b, "Review evidence of certification %s: records %d to %d of %d (%s), head hash %s.", args.CertificationID, out.From, out.To, len(recs), format, head)
		}
		if out.NextCursor != "" {
			fmt.Fprintf(&b, " More: call again with cursor %q and append its content.", out.NextCursor)
		}
		if len(recs) > 0 {
			b.WriteString(" To check it: " + verifyHint + ".")
		}
		res := result(out, b.String())
		res.Content = append(res.Content, mcp.NewEmbeddedResource(mcp.TextResourceContents{
			URI:      fmt.Sprintf("certops://evidence/%s/%d-%d%s", args.CertificationID, out.From, out.To, format.Extension()),
			MIMEType: format.MediaType(),
			Text:     out.Content,
		}))
		return res, nil
	})}
}

// exportCursor is where the next page of an export starts, which query it
// belongs to (a fingerprint of certification and format) and which export
// (the start of its head hash), so that pages of two different exports are
// never joined into one file.
type exportCursor struct {
	Version int    `json:"v"`
	Offset  int    `json:"o"`
	Head    string `json:"h"`
	Query   string `json:"q"`
}

func exportQuery(certID string, f export.Format) string {
	return queryKey("export_review_evidence", certID, string(f))
}

// headMark is the part of a head hash a cursor keeps.
func headMark(head string) string { return head[:min(len(head), 16)] }

func encodeExportCursor(c exportCursor) string {
	c.Version = 1
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeExportCursor(s, certID string, f export.Format) (exportCursor, error) {
	bad := invalid("cursor is not one this tool returned; omit it to start from the first page")
	if len(s) > 256 {
		return exportCursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return exportCursor{}, bad
	}
	var c exportCursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Version != 1 || c.Offset < 0 {
		return exportCursor{}, bad
	}
	if c.Query != exportQuery(certID, f) {
		return exportCursor{}, invalid("cursor belongs to another certification's export, or to the other format; repeat the same arguments with it, or omit it to start over")
	}
	return c, nil
}
