package sailpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A task's errors become a request's error and audit detail, which cannot
// hold a NUL.
func TestTaskErrorsAreMadePrintable(t *testing.T) {
	d := certificationTaskDTO{ID: "t1", Errors: []errorMessageDTO{{Text: " item\x00 gone\n"}}}
	assert.Equal(t, []string{"item gone"}, d.domain().Errors)
}
