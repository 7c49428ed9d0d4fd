package threadrunner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/aio"
)

// resources tracks the resources a runner has entered and not yet exited, so
// that Close can exit them. It is loop-owned: only tasks on the runner's loop
// touch it, so entering, releasing and closing are ordered by the loop and
// each resource is exited exactly once.
type resources struct {
	entered []*entry // in order of entry
	sealed  bool     // Close has exited them all; later entries exit at once
}

// An entry is one entered resource.
type entry struct {
	exit func(t *aio.Task, how error) error
	kept bool // entered by Keep, for the runner's life
}

// enter enters res on the loop and registers it. If the runner is closing,
// the resource is exited again at once and the result is ErrClosed.
func enter[T any](ctx context.Context, r *Runner, res aio.Resource[T], kept bool) (T, *entry, error) {
	var zero T
	if res == nil {
		return zero, nil, fmt.Errorf("%w: nil Resource", aio.ErrInvalid)
	}
	l, err := r.start()
	if err != nil {
		return zero, nil, err
	}
	var e *entry
	v, err := aio.Call(ctx, l, func(t *aio.Task) (T, error) {
		v, err := res.Enter(t)
		if err != nil {
			return v, err
		}
		e = &entry{exit: res.Exit, kept: kept}
		if r.res.sealed {
			exitErr := callExit(t, e, aio.ErrClosed)
			e = nil
			return zero, errors.Join(aio.ErrClosed, exitErr)
		}
		r.res.entered = append(r.res.entered, e)
		return v, nil
	})
	if err != nil && e != nil {
		// Entered, but the caller gave up meanwhile: exit it now.
		err = errors.Join(err, r.release(ctx, e, err))
		return zero, nil, err
	}
	return v, e, err
}

// release exits e unless Close has exited it already, in which case it
// returns ErrClosed. The exit runs with ctx's values but not its cancellation,
// so that a block that ended because ctx did still cleans up.
func (r *Runner) release(ctx context.Context, e *entry, how error) error {
	l := r.loop.Load()
	_, err := aio.Call(context.WithoutCancel(ctx), l, func(t *aio.Task) (struct{}, error) {
		i := slices.Index(r.res.entered, e)
		if i < 0 {
			return struct{}{}, aio.ErrClosed
		}
		r.res.entered = slices.Delete(r.res.entered, i, i+1)
		return struct{}{}, callExit(t, e, how)
	})
	return err
}

// exitAll exits every entered resource, last entered first, and seals the
// set so that later entries are exited at once. A kept resource's Exit sees
// nil, the end of its life; one still open by With or Open sees ErrClosed.
func (rs *resources) exitAll(t *aio.Task) error {
	var errs []error
	for len(rs.entered) > 0 {
		n := len(rs.entered) - 1
		e := rs.entered[n]
		rs.entered = rs.entered[:n]
		var how error
		if !e.kept {
			how = aio.ErrClosed
		}
		errs = append(errs, callExit(t, e, how))
	}
	rs.sealed = true
	return errors.Join(errs...)
}

// callExit runs e's Exit in t and turns a panic into a *aio.PanicError, so
// that one failing Exit does not skip the others.
func callExit(t *aio.Task, e *entry, how error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = aio.AsPanicError(p)
		}
	}()
	return e.exit(t, how)
}

// With enters res on the runner's loop, runs body in the calling goroutine
// with the entered value, and exits res on the loop (the seed's wrap_context).
// If Enter fails, With returns its error and neither body nor Exit runs.
// Otherwise Exit runs exactly once, whatever body does: it sees nil, body's
// error, or a *aio.PanicError, and With returns errors.Join(bodyErr, exitErr);
// if body panics, the panic goes on after Exit. Exit gets ctx's values but not
// its cancellation, so a block cut short by ctx still cleans up; if the runner
// closes while body runs, Close exits res and With's result includes
// [aio.ErrClosed]. With is safe to call from any goroutine; from the loop's
// own thread it returns [aio.ErrLoopThread].
func With[T any](ctx context.Context, r *Runner, res aio.Resource[T], body func(T) error) error {
	if body == nil {
		return fmt.Errorf("%w: With: nil body", aio.ErrInvalid)
	}
	v, release, err := Open(ctx, r, res)
	if err != nil {
		return err
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover()
		var how error = errBodyGoexit
		if p != nil {
			how = aio.AsPanicError(p)
		}
		if err := release(how); err != nil {
			r.Loop().Logger().Error("threadrunner: Exit failed while a panic went on", "err", err)
		}
		if p != nil {
			panic(p)
		}
	}()
	bodyErr := body(v)
	returned = true
	return errors.Join(bodyErr, release(bodyErr))
}

var errBodyGoexit = errors.New("threadrunner: With's body called runtime.Goexit")

// Open enters res on the runner's loop and returns the entered value and the
// function that exits it (With, split in two for code that cannot wrap its
// use in a function). Call release with how the use ended (nil or an error);
// it exits res on the loop and returns Exit's error. release runs Exit only
// the first time it is called; later calls do nothing and return nil. If the
// runner closes before release is called, Close exits res and release
// returns [aio.ErrClosed] (that Exit saw aio.ErrClosed as how the use
// ended). If Enter fails, Open returns its error and a nil
// release. Open is safe to call from any goroutine; from the loop's own
// thread it returns [aio.ErrLoopThread].
func Open[T any](ctx context.Context, r *Runner, res aio.Resource[T]) (v T, release func(error) error, err error) {
	v, e, err := enter(ctx, r, res, false)
	if err != nil {
		return v, nil, err
	}
	var released atomic.Bool
	release = func(how error) error {
		if l := r.loop.Load(); l.InLoop() {
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
// life (the seed's enter_context): Close exits it, after every resource
// entered later, with a nil error (the end of its life), and joins Exit's
// error to Close's. Keep is safe to call from any
// goroutine; from the loop's own thread it returns [aio.ErrLoopThread].
func Keep[T any](ctx context.Context, r *Runner, res aio.Resource[T]) (T, error) {
	v, _, err := enter(ctx, r, res, true)
	return v, err
}
