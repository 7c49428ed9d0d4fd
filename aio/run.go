package aio

import (
	"context"
	"errors"
)

// Run runs main as the first task of a new loop on the calling goroutine
// (asyncio.run): it locks the goroutine to its OS thread unless [Unpinned] is
// given, runs the loop until main returns, then cancels the tasks main left
// behind and waits for them and for running [ToThread] functions, and returns
// main's value and error. The error also joins the panics of tasks that nobody
// retrieved. When ctx ends, main is cancelled. If main panics, Run panics with
// its *[PanicError] once the loop has stopped.
func Run[T any](ctx context.Context, main func(*Task) (T, error), opts ...Option) (T, error) {
	if main == nil {
		var zero T
		return zero, invalid("Run: nil function")
	}
	l := NewLoop(opts...)
	// The loop closes once main's future has settled, so that closing
	// cancels the tasks main left behind but never main itself.
	f := spawn(ctx, l, main, l.closeFromLoop)
	f.claim() // Run hands main's outcome over itself
	if f.Settled() {
		// main never started (nil ctx, ctx already done).
		l.Close()
		return f.result()
	}
	serveErr := l.Serve()
	v, err := f.result()
	if serveErr != nil {
		err = errors.Join(err, serveErr)
	}
	return v, err
}

// closeFromLoop starts the loop's shutdown from a task: new work is refused
// and every other task is cancelled; the loop stops once they have ended.
func (l *Loop) closeFromLoop() {
	l.state.CompareAndSwap(int32(loopRunning), int32(loopClosing))
	l.inbox.closeWork()
	l.beginShutdown()
}
