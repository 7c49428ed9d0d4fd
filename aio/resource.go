package aio

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// A Resource is an async context manager: something entered and exited by a
// task, such as a session or a response whose Close must run on the loop.
// Exit is told how the block ended: nil, the block's error, or a *[PanicError]
// if it panicked; its own error is joined to the block's.
//
// Enter's task may end before the resource is used: threadrunner's With, Open
// and Keep run Enter and Exit as tasks of their own. A task's context ends
// with the task, so a resource that keeps a context beyond Enter (an HTTP
// request's, say) should keep context.WithoutCancel(t.Context()), which has
// the same values.
type Resource[T any] interface {
	Enter(t *Task) (T, error)
	Exit(t *Task, err error) error
}

// With enters r, runs body with the entered value, and exits r (async with):
// if Enter fails, With returns its error and neither body nor Exit runs;
// otherwise Exit runs exactly once, whatever body does, and sees how it ended,
// and With returns errors.Join(bodyErr, exitErr). If body panics, Exit sees a
// *[PanicError] and the panic goes on after Exit returns. Everything runs in t,
// on the loop; With must be called by t itself.
func With[T any](t *Task, r Resource[T], body func(T) error) error {
	t.mustRun("With")
	if r == nil {
		return invalid("With: nil Resource")
	}
	if body == nil {
		return invalid("With: nil body")
	}
	v, err := r.Enter(t)
	if err != nil {
		return err
	}
	return runAndExit(t, r, v, body)
}

func runAndExit[T any](t *Task, r Resource[T], v T, body func(T) error) error {
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover()
		var how error = errGoexit
		if p != nil {
			how = AsPanicError(p)
		}
		if err := r.Exit(t, how); err != nil {
			// Nobody can receive this error: the block panics on.
			t.l.cfg.logger.Error("aio: Exit failed while a panic went on",
				"loop", t.l.Name(), "task", t.String(), "err", err)
		}
		if p != nil {
			panic(p)
		}
	}()
	bodyErr := body(v)
	returned = true
	return errors.Join(bodyErr, r.Exit(t, bodyErr))
}

// AsPanicError returns p, a value recovered from a panic, as a *[PanicError]:
// p itself if it is one, else p with the current goroutine's stack. Call it in
// the deferred function that recovered p.
func AsPanicError(p any) *PanicError {
	if pe, ok := p.(*PanicError); ok {
		return pe
	}
	return &PanicError{Value: p, Stack: debug.Stack()}
}

// ResourceFunc returns a Resource made of two functions; exit may be nil.
func ResourceFunc[T any](enter func(t *Task) (T, error), exit func(t *Task, v T, err error) error) Resource[T] {
	return &funcResource[T]{enter: enter, exit: exit}
}

type funcResource[T any] struct {
	enter func(t *Task) (T, error)
	exit  func(t *Task, v T, err error) error
	v     T
}

func (r *funcResource[T]) Enter(t *Task) (T, error) {
	if r.enter == nil {
		var zero T
		return zero, fmt.Errorf("%w: ResourceFunc: nil enter", ErrInvalid)
	}
	v, err := r.enter(t)
	r.v = v
	return v, err
}

func (r *funcResource[T]) Exit(t *Task, err error) error {
	if r.exit == nil {
		return nil
	}
	return r.exit(t, r.v, err)
}
