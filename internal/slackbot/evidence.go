package slackbot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/export"
)

// /certs evidence <cert> [csv|jsonl]: a certification's review evidence
// export (certs.Service.ExportReviewEvidence), for auditors.
//
// The export is uploaded as a file, through Slack's upload flow
// (files.getUploadURLExternal, the upload, files.completeUploadExternal),
// shared with the person's user id, which puts it in the app's direct
// message with them as posting to a user id does (so no im:write scope,
// only files:write), with a summary as its comment; the channel where the command was typed gets an ephemeral
// note saying so. A file, because the export is for keeping and verifying
// (certops-audit verify FILE), not for reading in a message, and a
// certification's records do not fit one; a direct message, because the
// export names people and their access, which the channel the command
// happened to be typed in has no business seeing. The Service decides who
// may export (the reviewer, admins) and writes the export to the audit
// trail before anything is returned.

func (b *Bot) parseEvidence(c *command, args string) (work, error) {
	f := strings.Fields(args)
	if len(f) < 1 || len(f) > 2 {
		return nil, c.usage("give a certification id, and csv or jsonl if you like")
	}
	certID, err := idArg(c, "certification id", f[0])
	if err != nil {
		return nil, err
	}
	format := export.CSV
	if len(f) == 2 {
		if format, err = export.ParseFormat(f[1]); err != nil {
			return nil, c.usage(fmt.Sprintf("%q is neither csv nor jsonl", f[1]))
		}
	}
	return func(ctx context.Context, in *invocation) (message, error) { return in.evidence(ctx, certID, format) }, nil
}

// evidence exports certID's review evidence and sends it to the person as
// a file in a direct message.
func (in *invocation) evidence(ctx context.Context, certID string, format export.Format) (message, error) {
	recs, err := in.bot.svc.ExportReviewEvidence(ctx, in.actor, certID)
	if err != nil {
		return message{}, err
	}
	if len(recs) == 0 {
		return in.bot.render.evidenceNone(certID), nil
	}
	data, err := export.Bytes(format, recs)
	if err != nil {
		return message{}, fmt.Errorf("write the export: %w", err)
	}
	name := export.FileName(certID, format)
	sent := func(what string, err error) error {
		in.bot.log.Warn("slackbot: could not send an evidence export", "certification", certID, "user", in.user, "step", what, "err", err)
		return &certs.Error{Code: certs.EUNAVAILABLE, Err: err, Message: fmt.Sprintf(
			"the export of certification %s was made (and recorded in the audit trail) but Slack did not take the file (%s: %v); try again, or ask an admin for certops-audit export --cert %s", certID, what, err, certID)}
	}
	_, err = in.bot.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Channels: []string{in.user}, Filename: name, FileSize: len(data), Content: string(data),
		Title: "Review evidence: " + recs[0].CertificationName, InitialComment: in.bot.render.evidenceComment(recs, format, name),
	})
	if err != nil {
		return message{}, sent("upload", err)
	}
	return in.bot.render.evidenceSent(recs, name), nil
}

// evidenceComment introduces the file in the direct message.
func (r *renderer) evidenceComment(recs []certs.EvidenceRecord, format export.Format, name string) string {
	first, last := recs[0], recs[len(recs)-1]
	fromCertops := 0
	for _, rec := range recs {
		if rec.Source == certs.EvidenceSourceCertops {
			fromCertops++
		}
	}
	return fmt.Sprintf("Review evidence of certification *%s* (`%s`): %s (%d made through certops, %d found in ISC), %s.\n"+
		"Each record carries the hash of the one before; the last is `%s`, which certops's audit trail records with this export.\n"+
		"Check the file with `certops-audit verify %s`.",
		esc(first.CertificationName), first.CertificationID, count(len(recs), "record"), fromCertops, len(recs)-fromCertops,
		strings.ToUpper(string(format)), last.Hash, name)
}

// evidenceSent tells the person, where they typed the command, where the
// file went.
func (r *renderer) evidenceSent(recs []certs.EvidenceRecord, name string) message {
	first, last := recs[0], recs[len(recs)-1]
	text := fmt.Sprintf(":page_facing_up: Sent you the review evidence of certification *%s* (`%s`) as a direct message: `%s`, %s, last hash `%s`.",
		esc(first.CertificationName), first.CertificationID, name, count(len(recs), "record"), last.Hash[:16])
	return message{Text: text, Blocks: []slack.Block{section(text), contextLine("Check it with `certops-audit verify " + name + "`.")}}
}

func (r *renderer) evidenceNone(certID string) message {
	return r.notice(fmt.Sprintf(":information_source: Certification `%s` has no decisions to export yet; nothing was sent.", certID))
}

// UploadFileContext uploads with the token's current value, as
// RotatingAPI's other calls do (token.go).

func (r *RotatingAPI) UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error) {
	f, err := r.Client().UploadFileContext(ctx, params)
	if r.refusedAgain(err) { // a refused step shared nothing; Content can be sent again
		f, err = r.Client().UploadFileContext(ctx, params)
	}
	return f, err
}
