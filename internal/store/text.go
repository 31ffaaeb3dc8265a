package store

import (
	"bytes"

	"github.com/certops/certops/internal/certs"
)

// Text that PostgreSQL cannot hold is refused on both engines, as EINVALID
// naming the field, before anything is written. PostgreSQL has no NUL in
// text or jsonb (a jsonb "\u0000" is SQLSTATE 22P05) and only UTF-8 in text
// (22021); left to the driver, such input would be "database unavailable"
// on PostgreSQL and accepted on SQLite. JSON columns need only the NUL
// check: encoding/json already turns invalid UTF-8 into U+FFFD.
//
// That is all the store judges. What people's text may contain (controls,
// text-direction characters, lengths) is certs' text policy (certs.ValidateText),
// applied by the service before anything reaches the store.

// checkTexts refuses what a text column cannot hold, over pairs of (what,
// value): certs.ValidateStorable.
func checkTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := certs.ValidateStorable(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// checkJSON refuses an encoded value one of whose strings holds a NUL:
// encoding/json writes it as the escape \u0000, told apart from a literal
// backslash followed by "u0000" (written \\u0000) by the number of
// backslashes before it.
func checkJSON(what string, b []byte) error {
	esc := []byte(`\u0000`)
	for i := 0; ; {
		j := bytes.Index(b[i:], esc)
		if j < 0 {
			return nil
		}
		j += i
		backslashes := 0
		for k := j - 1; k >= 0 && b[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			// The words of certs.ValidateStorable, less the position: in
			// encoded JSON it would not be the person's.
			return certs.Errorf(certs.EINVALID, "%s contains U+0000, a NUL character: it cannot be stored; remove it", what)
		}
		i = j + 1
	}
}
