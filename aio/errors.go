package aio

import (
	"context"
	"errors"
	"fmt"

	"github.com/threadrunner/threadrunner/internal/errs"
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
var ErrInvalid = errs.ErrInvalid

// invalid returns ErrInvalid with what was wrong: the one constructor
// (package errs), which threadrunner and mainthread use too.
var invalid = errs.Invalid

// ErrStopped is what the await a generator is suspended in returns when its
// consumer stops the stream ([Stream.Close]; threadrunner.Iter's range loop
// breaking off) while the generator awaits something other than room in
// yield: it should return, and may await in its deferred cleanup, since it
// has not been cancelled. A [ToThread] function running then sees its
// context end with ErrStopped as the cause. ErrStopped is
// (errors.Is) context.Canceled, so code that stops quietly on a
// cancellation stops quietly on it too. It may be wrapped; test with
// errors.Is.
var ErrStopped = fmt.Errorf("aio: stream stopped by its consumer: %w", context.Canceled)
