// Package errs builds the error of bad input once, for every package of the
// module: aio.ErrInvalid, wrapped with what was wrong.
package errs

import (
	"errors"
	"fmt"
)

// ErrInvalid is aio.ErrInvalid; see its documentation there.
var ErrInvalid = errors.New("aio: invalid argument")

// Invalid returns ErrInvalid wrapped with the message format and args make:
// "aio: invalid argument: <message>".
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
