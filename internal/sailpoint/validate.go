package sailpoint

import (
	"fmt"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// maxLiteralLength caps a user-supplied filter literal (a name, an email, a
// permission target). ISC sets no limit; 512 bytes is far above any real
// value and keeps URLs short.
const maxLiteralLength = 512

// checkLiteral validates text that goes into a filter literal. Quotes,
// backslashes and any script are fine (Quote escapes them). What the text
// may contain is certs' one text policy for single-line text
// (certs.ValidateText): valid UTF-8, no control characters or line breaks,
// no invisible or text-direction format characters, as no ISC value has
// them.
//
// Whatever the service has checked, the client checks too: it is also a library a caller may use directly,
// and a literal it builds into a filter expression is its own
// responsibility. It keeps only its own bound (bytes, for the URL) and
// leaves the characters to certs, so there is one definition of them.
func checkLiteral(what, s string) error {
	if s == "" {
		return certs.Errorf(certs.EINVALID, "%s is empty", what)
	}
	if len(s) > maxLiteralLength {
		return certs.Errorf(certs.EINVALID, "%s is %d bytes; at most %d are allowed", what, len(s), maxLiteralLength)
	}
	return certs.ValidateText(what, s, certs.TextRule{})
}

// checkSorters accepts ISC sorter fields from allowed, each optionally
// prefixed with "-" (descending), and returns the `sorters` value.
func checkSorters(sorters, allowed []string) (string, error) {
	if err := certs.ValidateSorters(sorters, allowed...); err != nil {
		return "", err
	}
	return strings.Join(sorters, ","), nil
}

// filterError turns a Filter's build error into EINVALID.
func filterError(f Filter) error {
	if f.Err() != nil {
		return &certs.Error{Code: certs.EINVALID, Message: fmt.Sprintf("bad filter: %v", f.Err()), Err: f.Err()}
	}
	return nil
}
