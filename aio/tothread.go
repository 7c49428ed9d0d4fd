package aio

import "context"

// ToThread runs fn on a goroutine of the loop's worker pool, off the loop, and suspends t
// until fn returns (asyncio's to_thread): use it for blocking work that would
// otherwise stall every task. fn gets t's context, which is done if t is
// cancelled (and once t ends, so fn must not keep it past ToThread: use
// context.WithoutCancel for what must outlive t); ToThread still waits for fn
// to return and returns what fn
// returned, so nothing fn produced is lost. At most [Workers] functions run at
// once per loop; others wait their turn, and one that t's cancellation finds
// still waiting never runs (ToThread then returns the context's error). If fn
// panics, ToThread panics in t with its *[PanicError]. ToThread must be called
// by t itself.
func ToThread[T any](t *Task, fn func(context.Context) (T, error)) (T, error) {
	t.mustRun("ToThread")
	var zero T
	if fn == nil {
		return zero, invalid("ToThread: nil function")
	}
	if t.cancelErr != nil {
		return zero, t.cancelErr
	}
	l := t.l
	j := &threadCall[T]{fn: fn, t: t, ctx: t.context()}
	l.threads.submit(j)
	for !j.done {
		t.suspend("ToThread")
		if t.cancelErr != nil && l.threads.unqueue(j) {
			return zero, t.cancelErr
		}
	}
	if j.pe != nil {
		panic(j.pe)
	}
	return j.v, j.err
}

// A threadCall is one ToThread call: a pool worker runs it, then hands it
// back to the loop.
type threadCall[T any] struct {
	fn   func(context.Context) (T, error)
	t    *Task
	ctx  context.Context
	v    T
	err  error
	pe   *PanicError
	done bool // loop-owned: the result is back
}

func (j *threadCall[T]) work() {
	defer func() {
		if p := recover(); p != nil {
			j.pe = AsPanicError(p)
		}
	}()
	j.v, j.err = j.fn(j.ctx)
}

func (j *threadCall[T]) complete(l *Loop) {
	j.done = true
	l.wake(j.t)
}
