package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/certops/certops/internal/certs"
)

// unavailable turns a driver failure into the error people see: EUNAVAILABLE
// with a plain message, the cause (with the operation) kept in Err for logs.
// A *certs.Error passes through unchanged.
func unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *certs.Error
	if errors.As(err, &ce) {
		return err
	}
	msg := "database unavailable"
	switch {
	case errors.Is(err, context.Canceled):
		msg = "database call cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "database did not answer in time"
	}
	return &certs.Error{Code: certs.EUNAVAILABLE, Message: msg, Err: fmt.Errorf("%s: %w", op, err)}
}

// corrupt reports a stored row the code cannot read back: a bug or a manual
// edit, not something a retry fixes.
func corrupt(what, id string, err error) error {
	return &certs.Error{Code: certs.EINTERNAL, Message: fmt.Sprintf("stored %s %s is unreadable", what, id), Err: err}
}
