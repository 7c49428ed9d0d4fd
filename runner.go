package threadrunner

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// A Runner owns an event loop on a thread of its own and lets any goroutine
// run tasks on it ([Run], [Submit]), enter resources on it ([With], [Open],
// [Keep]) and range over its generators ([Iter]). The loop starts on first use
// and stops at [Runner.Close]. A Runner is made by [New]; it is safe for use
// by any number of goroutines at once, and must not be copied.
type Runner struct {
	opts []aio.Option // set by New, then only read

	mu     sync.Mutex // serializes the loop's start with Close
	loop   atomic.Pointer[aio.Loop]
	closed atomic.Bool // Close has begun: calls fail with ErrClosed
}

// New returns a runner whose loop is configured by opts (see [aio.Option]).
// It starts nothing: the loop and its goroutine start on first use, once, even
// when many goroutines make that first call at the same moment.
func New(opts ...aio.Option) *Runner {
	return &Runner{opts: opts}
}

// Loop returns the runner's loop, starting it if this is the first use. After
// Close it returns the stopped loop, or nil if the runner never started one.
func (r *Runner) Loop() *aio.Loop {
	if r == nil {
		return nil
	}
	l, err := r.start()
	if err != nil {
		return r.loop.Load()
	}
	return l
}

// FromLoop returns a runner that uses l, a loop made with [aio.NewLoop] that
// the caller runs with [aio.Loop.Serve], on a thread of its choosing (package
// mainthread uses it to run the loop on the main thread). Calls made before
// Serve starts wait for it. Close stops the loop, which makes Serve return.
// A nil l panics.
func FromLoop(l *aio.Loop) *Runner {
	if l == nil {
		panic("threadrunner: FromLoop called with a nil *aio.Loop")
	}
	r := &Runner{}
	r.loop.Store(l)
	return r
}

// start returns the running loop, starting it on first use. Concurrent first
// calls serialize on r.mu, so exactly one loop starts; aio.Start returns only
// once the loop runs, so no caller can post to a loop that is not there yet
// (the seed's "loop created" handshake).
func (r *Runner) start() (*aio.Loop, error) {
	if r == nil {
		return nil, errNilRunner
	}
	if r.closed.Load() {
		return nil, aio.ErrClosed
	}
	if l := r.loop.Load(); l != nil {
		return l, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return nil, aio.ErrClosed
	}
	if l := r.loop.Load(); l != nil {
		return l, nil
	}
	l := aio.Start(r.opts...)
	r.loop.Store(l)
	return l, nil
}

var errNilRunner = errs.Invalid("threadrunner: nil *Runner")

// Close shuts the runner down and waits until it has: new calls fail with
// [aio.ErrClosed] from now on; resources entered by [Keep], and by [With] or
// [Open] and not yet released, are exited in reverse order of entry, each
// once, a failure not skipping the rest (the loop's close hooks, see
// [aio.OnClose]); the remaining tasks are cancelled and awaited, which stops
// open generators; running [aio.ToThread] functions are waited for; the loop
// stops and its goroutine exits. Close returns the joined errors of the
// exits (an Exit's panic as a *aio.PanicError) and the panics nobody
// retrieved. Closing the runner's loop directly (r.Loop().Close(), or the
// owner of a loop given to [FromLoop]) does the same.
//
// Close is idempotent: later calls wait for the same shutdown and return the
// same errors. Closing a runner that never started starts nothing. Called
// from the loop's own thread (inside a task) or from a function that
// [aio.ToThread] runs for it, which Close would wait for, Close returns
// [aio.ErrLoopThread] and does nothing. Close implements io.Closer.
func (r *Runner) Close() error { return r.Shutdown(context.Background()) }

// Shutdown is [Runner.Close] bounded by ctx: if ctx ends first, whatever
// still runs (Exits included) is cancelled, so that its awaits fail at once,
// and Shutdown returns ctx's error while the loop finishes stopping in the
// background (see [aio.Loop.Shutdown]).
func (r *Runner) Shutdown(ctx context.Context) error {
	if r == nil {
		return errNilRunner
	}
	if ctx == nil {
		return errs.Invalid("Shutdown: nil context")
	}
	r.mu.Lock()
	l := r.loop.Load()
	if l == nil {
		r.closed.Store(true) // starts nothing, ever
	}
	r.mu.Unlock()
	if l == nil {
		return nil
	}
	err := l.Shutdown(ctx)
	if !errors.Is(err, aio.ErrLoopThread) {
		r.closed.Store(true)
	}
	return err
}
