package aio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/threadrunner/threadrunner/internal/fault"
)

// A Resource is an async context manager: something entered and exited by a
// task, such as a session or a response whose Close must run on the loop.
// Exit is told how the block ended: nil, the block's error, or a *[PanicError]
// if it panicked; its own error is joined to the block's.
//
// A resource has a lifetime. The context Enter sees (t.Context() inside
// Enter) lives until the resource's Exit has returned, even though Enter may
// run in a task of its own that ends first: what Enter makes with it (an HTTP
// request whose body is read later, a watcher goroutine) stays usable through
// [With]'s body, until threadrunner's Open is released, until Close for
// threadrunner's Keep. Cancelling the task that enters the resource while
// Enter runs still cancels that context, so Enter's awaits return at once.
// Exit runs in whichever task exits the resource: under [With], the task
// that called it, so if that task was cancelled, Exit's awaits fail at once,
// and cleanup that must still await belongs in a [Shield].
type Resource[T any] interface {
	Enter(t *Task) (T, error)
	Exit(t *Task, err error) error
}

// Enter enters r in t and returns the entered value and the function that
// exits it (With, split in two): call exit, from any task of t's loop, with
// how the use ended; it runs r.Exit in that task, then ends the context
// Enter saw (see [Resource]), and returns Exit's error, or Exit's panic as a
// *[PanicError]. exit runs Exit only the first time; later calls return nil.
// If Enter fails, Enter returns its error and a nil exit, and the context
// Enter saw has ended; if it panics, the panic goes on in t after that.
// Enter must be called by t itself, and exit by a task of t's loop.
func Enter[T any](t *Task, r Resource[T]) (v T, exit func(t *Task, how error) error, err error) {
	t.mustRun("Enter")
	if r == nil {
		return v, nil, invalid("Enter: nil Resource")
	}
	if fr, ok := r.(*funcResource[T]); ok {
		if fr.enter == nil {
			return v, nil, invalid("ResourceFunc: nil enter")
		}
		return enter(t, fr.enter, fr.exitValue)
	}
	return enter(t, r.Enter, func(t *Task, _ T, how error) error { return r.Exit(t, how) })
}

// enter runs enterFn in t with a context that outlives the call (see
// Task.withLifetime), and returns the value and an exit that runs exitFn
// with it.
func enter[T any](t *Task, enterFn func(*Task) (T, error), exitFn func(*Task, T, error) error) (T, func(*Task, error) error, error) {
	var (
		v   T
		err error
	)
	life := t.withLifetime(func() { v, err = enterFn(t) })
	if err != nil {
		life.end()
		var zero T
		return zero, nil, err
	}
	exited := false
	return v, func(t *Task, how error) (err error) {
		t.mustRun("Enter's exit")
		if exited {
			return nil
		}
		exited = true
		defer life.end()
		if pe := catch(func() { err = exitFn(t, v, how) }, nil); pe != nil {
			return pe
		}
		return err
	}, nil
}

// A lifetime is the context an entered resource's Enter saw, which lives
// until the resource has been exited.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (lf *lifetime) end() { lf.cancel(errExited) }

var errExited = errors.New("aio: resource exited")

// withLifetime runs fn in t with t's context swapped for one that carries
// the same values but not its ends, and that t's cancellation ends only
// while fn runs; it returns that context's lifetime, for the caller to end.
// If fn panics or calls Goexit, the lifetime ends and the fault goes on.
func (t *Task) withLifetime(fn func()) *lifetime {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(t.context()))
	life := &lifetime{ctx: ctx, cancel: cancel}
	saved, savedCancel, savedLife := t.ctx, t.cancelCtx, t.life
	t.ctx, t.cancelCtx, t.life = ctx, cancel, life
	if t.cancelErr != nil {
		cancel(t.cancelCause())
	}
	returned := false
	defer func() {
		t.ctx, t.cancelCtx, t.life = saved, savedCancel, savedLife
		if t.cancelErr != nil {
			// Cancelled while fn ran: the cancellation ended only the
			// lifetime's context so far.
			t.endContext(t.cancelErr, t.cancelCause())
		}
		if !returned {
			life.end()
		}
	}()
	fn()
	returned = true
	return life
}

// With enters r, runs body with the entered value, and exits r (async with):
// if Enter fails, With returns its error and neither body nor Exit runs;
// otherwise Exit runs exactly once, whatever body does, and sees how it ended,
// and With returns errors.Join(bodyErr, exitErr); a panic in Exit is
// exitErr, as a *[PanicError]. If body panics (or calls runtime.Goexit),
// Exit sees a *PanicError (or an error saying so) and the panic goes on
// after Exit returns, with body's value (or the Goexit goes on); Exit's own
// error is then logged, since nobody can receive it. A panic in Enter goes
// on in t. Everything runs in t, on the loop; With must be called by t
// itself.
func With[T any](t *Task, r Resource[T], body func(T) error) error {
	t.mustRun("With")
	if r == nil {
		return invalid("With: nil Resource")
	}
	if body == nil {
		return invalid("With: nil body")
	}
	v, exit, err := Enter(t, r)
	if err != nil {
		return err
	}
	var bodyErr error
	p, stack, panicked := fault.Catch(func() { bodyErr = body(v) }, func() { exitAfterFault(t, exit, errGoexit) })
	if panicked {
		how, ok := p.(*PanicError)
		if !ok {
			how = &PanicError{Value: p, Stack: stack}
		}
		exitAfterFault(t, exit, how)
		panic(p)
	}
	return errors.Join(bodyErr, exit(t, bodyErr))
}

// exitAfterFault runs exit after a block that panicked or called Goexit,
// logging what it returns, since the fault goes on.
func exitAfterFault(t *Task, exit func(*Task, error) error, how error) {
	if err := exit(t, how); err != nil {
		t.l.report(slog.LevelError, "aio: Exit failed while the block panicked or called runtime.Goexit",
			"loop", t.l.Name(), "task", t.String(), "block", fmt.Sprint(how), "err", err)
	}
}

// ResourceFunc returns a Resource made of two functions; exit may be nil.
// Each use of it through [With], [Enter] or threadrunner's With, Open and
// Keep hands exit the value its own enter returned, even when uses of one
// ResourceFunc overlap. Its Enter and Exit methods, called directly, pair up
// last in, first out.
func ResourceFunc[T any](enter func(t *Task) (T, error), exit func(t *Task, v T, err error) error) Resource[T] {
	return &funcResource[T]{enter: enter, exit: exit}
}

type funcResource[T any] struct {
	enter   func(t *Task) (T, error)
	exit    func(t *Task, v T, err error) error
	entered []T // values Enter returned and Exit has not had yet
}

func (r *funcResource[T]) Enter(t *Task) (T, error) {
	if r.enter == nil {
		var zero T
		return zero, invalid("ResourceFunc: nil enter")
	}
	v, err := r.enter(t)
	if err == nil {
		r.entered = append(r.entered, v)
	}
	return v, err
}

func (r *funcResource[T]) Exit(t *Task, err error) error {
	var v T
	if n := len(r.entered); n > 0 {
		v = r.entered[n-1]
		r.entered = r.entered[:n-1]
	}
	return r.exitValue(t, v, err)
}

func (r *funcResource[T]) exitValue(t *Task, v T, err error) error {
	if r.exit == nil {
		return nil
	}
	return r.exit(t, v, err)
}
