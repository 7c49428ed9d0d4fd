package aio

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by every operation on a loop that is closing or closed,
// and is part of the error of a task that the loop cancelled because it closed.
// It may be wrapped; test with errors.Is.
var ErrClosed = errors.New("aio: loop closed")

// ErrLoopThread is returned by a blocking call made on the loop's own thread,
// such as [Call], [Future.Wait] or [Loop.Close] from inside a task: the call
// would wait for the loop while blocking it, a deadlock, so it is refused at once.
// It may be wrapped; test with errors.Is.
var ErrLoopThread = errors.New("aio: blocking call on the loop's own thread would deadlock")

// ErrInvalid is the error for bad input: a nil function, future, resource or
// sequence, or a future that belongs to another loop. The message says which.
// It may be wrapped; test with errors.Is.
var ErrInvalid = errors.New("aio: invalid argument")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// A PanicError is a panic recovered from a task, a ToThread function or a
// generator, together with the stack of the goroutine that panicked. It is
// re-panicked in whoever waits for the outcome: [Await], [Future.Wait], [Call].
// A task that panics never kills its loop.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, from runtime/debug.Stack
}

// Error reports the panic value and the stack where it happened.
func (p *PanicError) Error() string {
	return fmt.Sprintf("aio: task panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through a PanicError.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// errGoexit marks an outcome produced by runtime.Goexit in a task (t.FailNow
// does it). Whoever waits for that outcome calls runtime.Goexit in turn, as
// iter.Pull's next does.
var errGoexit = errors.New("aio: task called runtime.Goexit")
