package sailpoint

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/certops/certops/internal/certs"
)

// maxLiteralLength caps a user-supplied filter literal (a name, an email, a
// permission target). ISC sets no limit; 512 bytes is far above any real
// value and keeps URLs short.
const maxLiteralLength = 512

// checkLiteral validates text that goes into a filter literal. Quotes,
// backslashes and any unicode are fine (Quote escapes them); control
// characters and invalid UTF-8 are not, as no ISC value has them.
func checkLiteral(what, s string) error {
	if s == "" {
		return certs.Errorf(certs.EINVALID, "%s is empty", what)
	}
	if len(s) > maxLiteralLength {
		return certs.Errorf(certs.EINVALID, "%s is %d bytes; at most %d are allowed", what, len(s), maxLiteralLength)
	}
	if !utf8.ValidString(s) {
		return certs.Errorf(certs.EINVALID, "%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return certs.Errorf(certs.EINVALID, "%s contains the control character %U", what, r)
		}
	}
	return nil
}

// checkIDs validates every id of a list.
func checkIDs(what string, ids []string) error {
	for _, id := range ids {
		if err := certs.ValidateID(what, id); err != nil {
			return err
		}
	}
	return nil
}

// checkSorters accepts ISC sorter fields from allowed, each optionally
// prefixed with "-" (descending), and returns the `sorters` value.
func checkSorters(sorters, allowed []string) (string, error) {
	for _, s := range sorters {
		if !slices.Contains(allowed, strings.TrimPrefix(s, "-")) {
			return "", certs.Errorf(certs.EINVALID, "cannot sort by %q: use one of %s (prefix - for descending)", s, strings.Join(allowed, ", "))
		}
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
