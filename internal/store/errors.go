package store

import (
	"fmt"

	"github.com/certops/certops/internal/certs"
)

// corrupt reports a stored row the code cannot read back: a bug or a manual
// edit, not something a retry fixes.
func corrupt(what, id string, err error) error {
	return &certs.Error{Code: certs.EINTERNAL, Message: fmt.Sprintf("stored %s %s is unreadable", what, id), Err: err}
}
