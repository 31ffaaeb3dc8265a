// Package export writes and reads review evidence exports
// (certs.EvidenceRecord, see internal/certs/evidence_export.go) as CSV and
// as JSON Lines, and verifies them. Both formats carry exactly the same
// values, so a record hashes the same whichever file it was read from, and
// the chain (each record's prev is the hash of the one before) verifies
// from either.
//
// CSV (RFC 4180, UTF-8 without a byte-order mark, LF line ends): a header
// row naming the columns below, in this order, then one row per record.
// A value holding a comma, a quote or a line break is quoted; line breaks
// inside values are line feeds. A value that a spreadsheet would run as a
// formula (one starting with = + - @, a tab or a carriage return) is
// written with a leading apostrophe, and so is a value that starts with an
// apostrophe; Read removes that one apostrophe, so the value read is the
// value written (and hashed).
//
// JSON Lines: one JSON object per line, its keys the column names below,
// numbers as JSON numbers, booleans as JSON booleans, the rest strings.
//
// The columns:
//
//	seq                     position of the record in the export, from 1
//	total                   how many records the export holds
//	certification_id        the certification
//	certification_name
//	campaign                its campaign's name
//	reviewer_id             the certification's reviewer
//	reviewer_name
//	kind                    decision, or sign_off
//	source                  certops (made through certops), or isc (found in ISC only)
//	item_id                 the review item decided (empty for a sign-off)
//	identity_id             whose access the item reviews
//	identity_name
//	identity_email          as shown to the person deciding
//	manager                 the identity's manager, "Name <email>", as shown
//	access_type             ENTITLEMENT, ACCESS_PROFILE or ROLE
//	access_id
//	access_name
//	access_source           the source system
//	decision                APPROVE or REVOKE (empty for a sign-off)
//	comments                the decision's comments
//	proposed_end_date       when revoked access should end (RFC 3339), revokes only
//	current                 true when ISC holds this decision now (or, for a sign-off, the certification is signed)
//	decided_by              the person who decided: name
//	decided_by_id           their id in the front end (Slack user id, MCP token name, command-line user)
//	decided_by_identity_id  their ISC identity
//	frontend                mcp, slack or cli
//	role                    admin or reviewer
//	on_behalf_of            the reviewer an admin decided for, "Name (id)"
//	on_behalf_reason        the admin's reason
//	decided_at              when the person confirmed the plan (RFC 3339, UTC)
//	sent_at                 when certops sent the decision to ISC (RFC 3339, UTC)
//	request_id              the certops request that carried it
//	plan_id                 the plan the person confirmed
//	plan_digest             that plan's digest, which the person confirmed
//	call                    which of the plan's ISC calls carried it, from 1
//	audit_seq               the seq of the request.approved event in certops's audit trail
//	evidence_shown          true when certops kept the evidence the person was shown (the columns below)
//	peers                   how many other identities in the certification held the same access
//	privileged              the access was privileged
//	new_access              the access was new since the last review
//	reassigned              how the item came to the reviewer, if by a reassignment
//	prior_decision          a decision already made on the item when it was shown
//	remarks                 what certops pointed out, each "text [fact; fact]", separated by " | "
//	note                    what else an auditor should know about the record
//	prev                    the previous record's hash (empty for the first)
//	hash                    SHA-256 (hex) of this record: see certs.EvidenceSchema
//
// Verify reads either format and names the first record (and its line)
// that was altered or that follows a removed, inserted or reordered one.
package export
