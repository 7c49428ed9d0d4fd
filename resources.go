package threadrunner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
	"github.com/threadrunner/threadrunner/internal/fault"
)

// An entry is one resource entered through the runner: its exit, and its
// place among the loop's close hooks (loop-owned), and whether it has been
// exited.
type entry struct {
	exit   func(t *aio.Task, how error) error // from aio.Enter; runs Exit once
	remove func() bool                        // takes the close hook back
	exited chan struct{}                      // closed once Exit has returned, whoever ran it
}

// runExit runs e's Exit in t, once, the hook or release having decided who.
func (e *entry) runExit(t *aio.Task, how error) error {
	defer close(e.exited)
	return e.exit(t, how)
}

// enter enters res on the loop and registers its exit as a close hook of the
// loop, so that whoever closes the loop exits it: a kept resource's Exit then
// sees nil (the end of its life), an open one's aio.ErrClosed. If the loop is
// closing already, the resource is exited again at once and the result is
// ErrClosed.
func enter[T any](ctx context.Context, r *Runner, res aio.Resource[T], kept bool) (T, *entry, error) {
	var zero T
	if res == nil {
		return zero, nil, errs.Invalid("nil Resource")
	}
	l, err := r.start()
	if err != nil {
		return zero, nil, err
	}
	// An atomic: a Call made from another loop's thread may return at its
	// ctx's end while the task still runs (an entry made then is exited by
	// Close, as its close hook).
	var entered atomic.Pointer[entry]
	v, err := aio.Call(ctx, l, func(t *aio.Task) (T, error) {
		v, exit, err := aio.Enter(t, res)
		if err != nil {
			return v, err
		}
		var atClose error = aio.ErrClosed
		name := fmt.Sprintf("Exit of %T, open", res)
		if kept {
			atClose, name = nil, fmt.Sprintf("Exit of %T, kept", res)
		}
		en := &entry{exit: exit, exited: make(chan struct{})}
		remove, err := aio.OnClose(t, func(t *aio.Task) error {
			t.SetName(name) // for the task dump of a Close that hangs
			return en.runExit(t, atClose)
		})
		if err != nil {
			return zero, errors.Join(err, exit(t, aio.ErrClosed))
		}
		en.remove = remove
		entered.Store(en)
		return v, nil
	})
	e := entered.Load()
	if err != nil && e != nil {
		// Entered, but the caller gave up meanwhile: exit it now.
		err = errors.Join(err, r.release(ctx, e, err))
		return zero, nil, err
	}
	return v, e, err
}

// release exits e unless Close has taken it to exit, in which case it waits
// for that Exit to return and returns ErrClosed: either way, the resource
// has been exited when release returns. The exit runs with ctx's values but
// not its cancellation, so that a block that ended because ctx did still
// cleans up. Exit's panic is returned as a *aio.PanicError.
func (r *Runner) release(ctx context.Context, e *entry, how error) error {
	_, err := aio.Call(context.WithoutCancel(ctx), r.loop.Load(), func(t *aio.Task) (struct{}, error) {
		if !e.remove() {
			return struct{}{}, aio.ErrClosed
		}
		return struct{}{}, e.runExit(t, how)
	})
	if errors.Is(err, aio.ErrClosed) {
		<-e.exited // Close runs the Exit (or has), as the loop's close hook
	}
	return err
}

// With enters res on the runner's loop, runs body in the calling goroutine
// with the entered value, and exits res on the loop (the seed's wrap_context).
// If Enter fails, With returns its error and neither body nor Exit runs.
// Otherwise Exit runs exactly once, whatever body does: it sees nil, body's
// error, or a *aio.PanicError, and With returns errors.Join(bodyErr, exitErr).
// What Enter made with its task's context stays usable until Exit has
// returned (see [aio.Resource]). Exit gets ctx's values but not its
// cancellation, so a block cut short by ctx still cleans up; if the runner
// closes while body runs, Close exits res and With's result includes
// [aio.ErrClosed].
//
// If body panics, Exit runs and the panic goes on, with body's own value; if
// body calls runtime.Goexit, Exit runs and the Goexit goes on; what Exit
// returns or raises then is logged, since nobody can receive it. If Exit
// panics after a body that did not, With panics with Exit's *aio.PanicError.
// With is safe to call from any goroutine; from the loop's own thread it
// returns [aio.ErrLoopThread].
func With[T any](ctx context.Context, r *Runner, res aio.Resource[T], body func(T) error) error {
	if body == nil {
		return errs.Invalid("With: nil body")
	}
	v, release, err := Open(ctx, r, res)
	if err != nil {
		return err
	}
	var bodyErr error
	p, stack, panicked := fault.Catch(func() { bodyErr = body(v) }, func() { releaseAfterFault(r, release, errBodyGoexit) })
	if panicked {
		how, ok := p.(*aio.PanicError)
		if !ok {
			how = &aio.PanicError{Value: p, Stack: stack}
		}
		releaseAfterFault(r, release, how)
		panic(p)
	}
	return errors.Join(bodyErr, release(bodyErr))
}

var errBodyGoexit = errors.New("threadrunner: With's body called runtime.Goexit")

// releaseAfterFault releases a resource whose block panicked or called
// Goexit, and logs what the release returns or raises, since the fault goes
// on. That Close exited the resource already is no failure.
func releaseAfterFault(r *Runner, release func(error) error, how error) {
	var err error
	if p, _, panicked := fault.Catch(func() { err = release(how) }, nil); panicked {
		err = aio.AsPanicError(p)
	}
	if err != nil && !errors.Is(err, aio.ErrClosed) {
		fault.Log(r.loop.Load().Logger(), slog.LevelError, "threadrunner: Exit failed while the block panicked or called runtime.Goexit",
			"block", fmt.Sprint(how), "err", err)
	}
}

// Open enters res on the runner's loop and returns the entered value and the
// function that exits it (With, split in two for code that cannot wrap its
// use in a function). What Enter made with its task's context stays usable
// until release has run Exit (see [aio.Resource]). Call release with how the
// use ended (nil or an error); it exits res on the loop and returns Exit's
// error, or panics with Exit's *aio.PanicError. release runs Exit only the
// first time it is called; later calls do nothing and return nil. If the
// runner closes before release is called, Close exits res and release
// returns [aio.ErrClosed] (that Exit saw aio.ErrClosed as how the use
// ended), once that Exit has returned: when release returns, res has been
// exited, whoever ran its Exit. If Enter fails, Open returns its error and a nil release. Open and
// release are safe to call from any goroutine; from the loop's own thread
// they return [aio.ErrLoopThread].
func Open[T any](ctx context.Context, r *Runner, res aio.Resource[T]) (v T, release func(error) error, err error) {
	v, e, err := enter(ctx, r, res, false)
	if err != nil {
		return v, nil, err
	}
	var released atomic.Bool
	release = func(how error) error {
		if r.loop.Load().InLoop() {
			return aio.ErrLoopThread
		}
		if !released.CompareAndSwap(false, true) {
			return nil
		}
		return r.release(ctx, e, how)
	}
	return v, release, nil
}

// Keep enters res on the runner's loop and keeps it entered for the runner's
// life (the seed's enter_context): what Enter made with its task's context
// stays usable until then; Close exits it, after every resource entered
// later, with a nil error (the end of its life), and joins Exit's error to
// Close's. Keep is safe to call from any goroutine; from the loop's own
// thread it returns [aio.ErrLoopThread].
func Keep[T any](ctx context.Context, r *Runner, res aio.Resource[T]) (T, error) {
	v, _, err := enter(ctx, r, res, true)
	return v, err
}
