// Package store implements certs.Store on SQL: SQLite through
// modernc.org/sqlite (a file; the single-node default) and PostgreSQL through
// pgx (several replicas sharing one database).
//
// Both engines share one implementation (core, in store.go, requests.go,
// plans.go, events.go and cursors.go) written against a small
// driver-neutral interface (engine.go); sqlite.go and postgres.go supply
// what differs: how a write transaction starts, how a row is locked, how
// times are stored, and how event inserts are ordered. Every SQL statement
// uses $N placeholders, which both drivers accept. The schema is in
// migrations/<engine>/, embedded and applied by goose at Open (migrate.go).
//
// The conformance suite is in storetest; sqlite_test.go and
// postgres_test.go run it, and bench_test.go measures the compare-and-set.
//
// Exactly-once rests on three things:
//   - UpdateRequest is a compare-and-set on the request's state, done in one
//     write transaction that also appends the change's events. On SQLite the
//     transaction begins IMMEDIATE, so writers queue (busy_timeout) instead
//     of reading the same state; on PostgreSQL the row is read FOR UPDATE.
//     The write is also conditioned on the version it read.
//   - ClaimRequests leases work rows (FOR UPDATE SKIP LOCKED on PostgreSQL,
//     one IMMEDIATE transaction on SQLite) so two workers never take the same
//     request, and a crashed worker's lease lapses.
//   - Events are an outbox whose seq order is commit order on both engines
//     (see insertEvents), read through per-consumer leased cursors.
//
// Text that PostgreSQL cannot hold (NUL in text or jsonb, invalid UTF-8 in
// text) is refused on both engines, as EINVALID naming the field, before
// anything is written (certs.ValidateStorableTexts and
// certs.ValidateStorableJSON); left to the driver it would be "database
// unavailable" on PostgreSQL and accepted on SQLite. That is all the store
// judges: what people's text may contain is certs' text policy
// (certs.ValidateText), applied by the service.
//
// Driver failures become certs.EUNAVAILABLE ("database unavailable") with
// the cause in Err (certs.StoreUnavailable); no SQL reaches a person.
package store
