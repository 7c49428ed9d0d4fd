package aio

// How a future gets its outcome: settle on the loop, publish to the
// goroutines waiting, and the futures made settled (Completed) or settled
// by hand (NewFuture).

import (
	"math"
	"sync/atomic"
)

// settle records the outcome and wakes everyone waiting: goroutines, then
// tasks and callbacks. It runs on the loop (or on a goroutine discarding a
// loop that never served, which acts as the loop); only the first call
// counts.
func (f *Future[T]) settle(v T, err error, pe *PanicError) {
	if !f.publish(v, err, pe) {
		return
	}
	if f.waiter != nil {
		f.l.wake(f.waiter)
		f.waiter = nil
	}
	if f.waiters != nil {
		for _, t := range f.waiters {
			f.l.wake(t)
		}
		f.waiters = nil
	}
	if onDone := f.onDone; onDone != nil {
		f.onDone = nil
		for _, cb := range onDone {
			cb()
		}
	}
	if f.reusable {
		f.loopDone.Store(true)
	}
}

// publish records the outcome and wakes the goroutines waiting for it, and
// reports whether it did (only the first settle counts). Off the loop, once
// the loop has stopped, it is all of settle there is: no task waits any
// more, and callbacks of a stopped loop never run.
func (f *Future[T]) publish(v T, err error, pe *PanicError) bool {
	if f.Settled() {
		return false
	}
	f.val, f.err, f.pe = v, err, pe
	if pe != nil {
		if f.task != nil {
			f.name = f.task.String()
		}
		notePanic(f)
	}
	if f.reusable {
		// Unbind it now: once it is put back, it may be another call's,
		// even on another loop, and the task must not reach it.
		f.task = nil
	}
	if atomic.SwapUint32(&f.state, futureDone) == futureSleeping {
		futexWake(&f.state, math.MaxInt32)
	}
	// From here on, a reusable future's caller may see it done; it puts it
	// back only once loopDone is set, since a new call on it could ask for
	// a Done channel that this settle would close.
	if f.chWanted.Load() {
		f.chMu.Lock()
		if !f.chClosed {
			close(f.ch)
			f.chClosed = true
		}
		f.chMu.Unlock()
	}
	return true
}

// settleNow settles a future that nobody can have seen yet, off the loop.
func (f *Future[T]) settleNow(v T, err error, pe *PanicError) {
	f.val, f.err, f.pe = v, err, pe
	atomic.StoreUint32(&f.state, futureDone)
}

// Completed returns a future that has already settled with v and err and
// belongs to no loop: any task may await it and any goroutine wait for it.
func Completed[T any](v T, err error) *Future[T] {
	f := &Future[T]{}
	f.settleNow(v, err, nil)
	return f
}

// NewFuture returns a pending future of loop l and the function that settles
// it. settle is safe to call from any goroutine; the first call wins and later
// calls do nothing. Tasks awaiting the future resume on the loop. A future that
// is never settled keeps its awaiting tasks suspended until they are cancelled.
func NewFuture[T any](l *Loop) (f *Future[T], settle func(T, error)) {
	if l == nil {
		panic("aio: NewFuture called with a nil *Loop")
	}
	f = &Future[T]{l: l}
	return f, f.settleFunc()
}

func (f *Future[T]) settleFunc() func(T, error) {
	return func(v T, err error) {
		if !f.settling.CompareAndSwap(false, true) {
			return
		}
		it := &settleItem[T]{f: f, v: v, err: err}
		if !f.l.inbox.post(it) {
			// The loop has stopped taking work: wake the goroutines only.
			// What the loop owns (its callbacks, the OnSettle entries) is
			// not this goroutine's to touch.
			f.publish(v, err, nil)
		}
	}
}

type settleItem[T any] struct {
	itemLink
	f   *Future[T]
	v   T
	err error
}

func (s *settleItem[T]) runOnLoop(*Loop) { s.f.settle(s.v, s.err, nil) }
