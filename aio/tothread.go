package aio

import (
	"context"
	"runtime"
	"runtime/trace"
)

// ToThread runs fn on a goroutine of the loop's thread pool, off the loop,
// and suspends t until fn returns (asyncio's to_thread): use it for blocking
// work that would otherwise stall every task. fn gets t's context, which is
// done if t is cancelled (and once t ends, so fn must not keep it past
// ToThread: use context.WithoutCancel for what must outlive t); ToThread
// still waits for fn to return and returns what fn returned, so nothing fn
// produced is lost. At most [Workers] functions run at once per loop; others
// wait their turn, and one that t's cancellation finds still waiting never
// runs (ToThread then returns the context's error). A generator whose
// consumer stops its stream while fn runs sees fn's context end with cause
// [ErrStopped]. If fn panics, ToThread
// panics in t with its *[PanicError]; if fn calls runtime.Goexit (as
// t.FailNow does), ToThread calls it in t, and the pool replaces the
// goroutine it ended. ToThread must be called by t itself.
func ToThread[T any](t *Task, fn func(context.Context) (T, error)) (T, error) {
	t.mustRun("ToThread")
	var zero T
	if fn == nil {
		return zero, invalid("ToThread: nil function")
	}
	if err := t.awaitErr(); err != nil {
		return zero, err
	}
	t.mustSuspend("ToThread") // before the job is submitted
	l := t.l
	j := &threadCall[T]{fn: fn, t: t, ctx: t.context()}
	if trace.IsEnabled() {
		j.traceCtx = t.traceContext()
	}
	if t.interruptible {
		// The task may be interrupted without being cancelled (a stopped
		// stream's generator): fn gets a context of its own to end then.
		var cancel context.CancelCauseFunc
		j.ctx, cancel = context.WithCancelCause(j.ctx)
		t.onInterrupt = func() { cancel(ErrStopped) }
		defer func() {
			t.onInterrupt = nil
			cancel(nil)
		}()
	}
	l.threads.submit(j)
	for !j.done {
		t.waitOn = j
		t.suspend("ToThread")
		if err := t.awaitErr(); err != nil && l.threads.unqueue(j) {
			return zero, err
		}
	}
	switch {
	case j.pe != nil:
		panic(j.pe)
	case j.goexit:
		runtime.Goexit()
	}
	return j.v, j.err
}

// A threadCall is one ToThread call: a pool thread runs it, then hands it
// back to the loop.
type threadCall[T any] struct {
	fn       func(context.Context) (T, error)
	t        *Task
	ctx      context.Context
	traceCtx context.Context // the task's trace context, while tracing
	v        T
	err      error
	pe       *PanicError
	done     bool // loop-owned: the result is back
	goexit   bool // loop-owned: fn called runtime.Goexit
}

func (j *threadCall[T]) work(goexit func()) {
	if j.traceCtx != nil && trace.IsEnabled() {
		defer trace.StartRegion(j.traceCtx, "aio.ToThread").End()
	}
	j.pe = catch(func() { j.v, j.err = j.fn(j.ctx) }, goexit)
}

// describe says what a task awaiting the call waits for.
func (j *threadCall[T]) describe() string { return "ToThread " + funcName(j.fn) }

func (j *threadCall[T]) complete(l *Loop, goexit bool) {
	j.done, j.goexit = true, goexit
	l.wake(j.t)
}
