package aio

import (
	"context"
	"sync"
	"sync/atomic"
)

// Spawn starts fn as a new task on loop l and returns its future at once
// (asyncio's run_coroutine_threadsafe). The task's context carries ctx's
// values; when ctx ends, the task is cancelled. A nil fn, a ctx that has
// already ended, or a loop that is closing gives a future that has already
// failed with [ErrInvalid], ctx's error or [ErrClosed], and the function never
// runs. Spawn is safe to call from any goroutine, the loop's own included, and
// never blocks; the loop's own code may go on spawning while the loop's close
// hooks run ([OnClose]), until the loop cancels its tasks.
func Spawn[T any](ctx context.Context, l *Loop, fn func(*Task) (T, error)) *Future[T] {
	return spawn(ctx, l, fn, nil)
}

// spawn is Spawn with a callback to run on the loop when the future settles.
func spawn[T any](ctx context.Context, l *Loop, fn func(*Task) (T, error), onDone func()) *Future[T] {
	f := &Future[T]{l: l, fn: fn, pctx: ctx}
	if onDone != nil {
		f.onDone = append(f.onDone, onDone)
	}
	var zero T
	switch {
	case l == nil:
		f.settleNow(zero, invalid("Spawn: nil *Loop"), nil)
	case fn == nil:
		f.settleNow(zero, invalid("Spawn: nil function"), nil)
	case ctx == nil:
		f.settleNow(zero, invalid("Spawn: nil context"), nil)
	case loopState(l.state.Load()) >= loopClosing && l.origin() == refused:
		f.settleNow(zero, l.refusal(), nil)
	case ctx.Err() != nil:
		f.settleNow(zero, ctx.Err(), nil)
	default:
		if ctx.Done() != nil {
			// Set before f is posted: from then on f is the loop's.
			f.stopWatch = context.AfterFunc(ctx, func() { l.postCancel(f, ctx.Err()) })
		}
		if l.inbox.noWork.Load() && l.origin() == fromLoop {
			// A close hook's task: taken until the loop cancels its tasks.
			f.fromLoop = true
			l.inbox.post(f)
		} else if !l.inbox.postWork(f) {
			if f.stopWatch != nil {
				f.stopWatch()
			}
			f.settleNow(zero, l.refusal(), nil)
		}
	}
	return f
}

// Call runs fn as a new task on loop l and waits for it to end: it returns the
// task's value and error. When ctx ends, the task is cancelled (its context is
// done and its current or next await returns ctx's error); Call still returns
// only once the task has ended, and then its error is (errors.Is) ctx's error.
// The task's context carries ctx's values. If the task panics, Call panics
// with its *[PanicError]; if it calls runtime.Goexit, so does Call.
//
// Call is safe to call from any number of goroutines at once. Called on the
// loop's own thread (from a task or callback), it returns [ErrLoopThread]
// instead of waiting for the loop (after a short spin, at most the [Spin]
// time). Called from a task or callback of another loop, it blocks that loop
// while it waits, which is best avoided; and if ctx ends, it then returns
// ctx's error at once rather than waiting for the task to end (the task is
// cancelled and ends on its own; Close reports its panic, if any), so that a
// cycle of such calls between loops cannot deadlock past their deadlines.
// Otherwise the end of the task synchronizes before Call returns.
func Call[T any](ctx context.Context, l *Loop, fn func(*Task) (T, error)) (T, error) {
	var zero T
	switch {
	case l == nil:
		return zero, invalid("Call: nil *Loop")
	case fn == nil:
		return zero, invalid("Call: nil function")
	case ctx == nil:
		return zero, invalid("Call: nil context")
	case loopState(l.state.Load()) >= loopClosing:
		return zero, l.refusal()
	case ctx.Err() != nil:
		return zero, ctx.Err()
	}
	f := newCallRecord(l, fn, ctx)
	if !l.inbox.postWork(f) {
		return zero, l.refusal()
	}
	slot := l.holdSlot()
	if l.spinUntil(&f.state, slot) {
		if slot {
			l.releaseSlot()
		}
		return reuseCallRecord(f)
	}
	if slot {
		defer l.releaseSlot()
	}
	// Only a caller about to park pays for the re-entrancy check. On the
	// loop's own thread the loop cannot have admitted f meanwhile (it is
	// busy running this very caller), so withdrawing it is race-free.
	if l.onLoopThread() {
		f.withdrawn.Store(true)
		return zero, ErrLoopThread
	}
	if !blockOn(&f.state, f.Done, ctx.Done(), slot) {
		l.postCancel(f, ctx.Err())
		if onAnyLoopThread() {
			// Waiting for the task would block this other loop until the
			// task ends, which may take that loop (a cycle of calls): give
			// up, and leave the outcome to Close's report.
			f.retrieved.Store(false)
			if !f.Settled() {
				return zero, ctx.Err()
			}
		} else {
			blockOn(&f.state, f.Done, nil, slot)
		}
	}
	return f.result()
}

// Call's futures never reach the caller, so the ones whose call took the
// fast path (the caller spun until the task ended: no Done channel, no
// cancellation posted, no panic) are reused: a Call then allocates nothing.
// Such a future unbinds its task as it settles, before its caller can see it
// done, and says when settle has returned (loopDone): only then is it put
// back, since settle reads the Done channel's fields after it has published
// the outcome. The slow-task watchdog may read a stepped future's function
// after the step, so a loop under SlowTask does not reuse them.
var callRecords sync.Map // callRecordKey[T]{} -> *sync.Pool of *Future[T]

type callRecordKey[T any] struct{}

func callRecordPool[T any]() *sync.Pool {
	if p, ok := callRecords.Load(callRecordKey[T]{}); ok {
		return p.(*sync.Pool)
	}
	p, _ := callRecords.LoadOrStore(callRecordKey[T]{}, &sync.Pool{New: func() any { return &Future[T]{reusable: true} }})
	return p.(*sync.Pool)
}

// newCallRecord returns a future for a Call of fn on l, pending.
func newCallRecord[T any](l *Loop, fn func(*Task) (T, error), ctx context.Context) *Future[T] {
	var f *Future[T]
	if l.cfg.slowAfter > 0 {
		f = new(Future[T])
	} else {
		f = callRecordPool[T]().Get().(*Future[T])
	}
	f.l, f.fn, f.pctx = l, fn, ctx
	f.retrieved.Store(true) // Call hands the outcome over itself
	return f
}

// reuseCallRecord hands f's outcome over and, if it may, puts f back for the
// next Call.
func reuseCallRecord[T any](f *Future[T]) (T, error) {
	if f.pe != nil || f.err == errGoexit || f.l.cfg.slowAfter > 0 || !f.loopDone.Load() {
		return f.result() // not reused: the loop may still be settling it
	}
	v, err := f.val, f.err
	var zero T
	f.fn, f.pctx, f.val, f.err = nil, nil, zero, nil
	f.loopDone.Store(false)
	atomic.StoreUint32(&f.state, futurePending)
	callRecordPool[T]().Put(f)
	return v, err
}
