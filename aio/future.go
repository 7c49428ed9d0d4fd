package aio

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// A Future is the outcome of a task, or of anything else that ends once: a
// value and an error, or a panic. Tasks wait for it with [Await]; other
// goroutines with [Future.Wait] or [Future.Done]; callbacks with
// [Future.OnSettle]. A Future is created by [Go], [Spawn] or [NewFuture];
// the zero value is not usable, and a nil *Future behaves as one that
// settled with [ErrInvalid].
//
// Settling a future synchronizes before every Await, Wait, OnSettle callback
// or receive from Done that observes it.
type Future[T any] struct {
	// What a round trip through Call touches comes first, so that it spans
	// as few cache lines as can be: each line the caller and the loop both
	// touch crosses between their CPUs.
	state     uint32      // atomic: futurePending, futureSleeping or futureDone; a futex word
	withdrawn atomic.Bool // Call took it back before the loop admitted it
	chWanted  atomic.Bool // ch exists: settle must close it
	retrieved atomic.Bool // its outcome has been, or is being, handed to someone
	l         *Loop
	itemLink  // in the inbox, while Spawn or Call posts it

	// Set before the future is posted, then only read.
	fn   func(*Task) (T, error) // the task's function, for a task's future
	pctx context.Context        // the context the task starts with

	// The outcome: written once by settle before state becomes futureDone,
	// read by anyone who has seen futureDone.
	val  T
	err  error
	pe   *PanicError
	rec  atomic.Pointer[panicRecord] // the panic's record, if it may go unretrieved
	name string                      // the task's name, for a panic's report

	reusable bool        // a Call's or Do's, reused (see reuseCallRecord); set once, when made
	loopDone atomic.Bool // reusable: settle has returned, the loop reads nothing of f any more
	fromLoop bool        // spawned by the loop's own code while it closes (see Loop.origin)

	// Loop-owned.
	task      *Task       // the running task, or nil
	stopWatch func() bool // stops watching pctx (Spawn)
	waiter    *Task       // the first task suspended in Await(f); the rest in waiters
	waiters   []*Task     // the others
	onDone    []func()    // run on the loop when f settles

	// Any goroutine.
	cancelAsk atomic.Bool   // Cancel was called
	settling  atomic.Bool   // a settle func has been called (NewFuture)
	waiting   atomic.Int32  // goroutines in Wait
	chMu      sync.Mutex    // guards ch and chClosed
	ch        chan struct{} // closed when f settles; made by Done
	chClosed  bool
}

const (
	futurePending  uint32 = iota
	futureDone            // settled
	futureSleeping        // pending, and a goroutine sleeps in a futex on it
)

// closedChan is what Done returns for a nil future.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Done returns a channel that is closed when the future has settled. It is
// safe to call from any goroutine.
func (f *Future[T]) Done() <-chan struct{} {
	if f == nil {
		return closedChan
	}
	f.chMu.Lock()
	defer f.chMu.Unlock()
	if f.ch == nil {
		// Dekker with settle: publish the wish, then look at the state;
		// settle stores the state, then looks at the wish. One of the two
		// sees the other, and chClosed keeps the close single.
		f.ch = make(chan struct{})
		f.chWanted.Store(true)
		if f.Settled() {
			close(f.ch)
			f.chClosed = true
		}
	}
	return f.ch
}

// Settled reports whether the future has its outcome. It is safe to call from
// any goroutine and never blocks.
func (f *Future[T]) Settled() bool { return f == nil || atomic.LoadUint32(&f.state) == futureDone }

// Loop returns the loop the future belongs to.
func (f *Future[T]) Loop() *Loop {
	if f == nil {
		return nil
	}
	return f.l
}

// Wait blocks until the future settles or ctx ends, and returns its value and
// error, or ctx's error if ctx ended first. ctx bounds only the wait: to cancel
// the task behind the future, call [Future.Cancel]. If the task panicked, Wait
// panics with its *[PanicError]; if it called runtime.Goexit, Wait does too.
//
// Wait may be called from any number of goroutines. Called on the loop's own
// thread while the future is still pending (from a task, where [Await] is the
// way), it returns [ErrLoopThread] instead of deadlocking, after at most the
// [Spin] time.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	var zero T
	if f == nil {
		return zero, invalid("Wait on a nil *Future")
	}
	if ctx == nil {
		return zero, invalid("Wait: nil context")
	}
	// While a goroutine waits, Close does not report a panic as
	// unretrieved: the waiter is about to take it. So a waiter that gives
	// up looks once more after it has stopped counting as one: a future
	// that settled meanwhile is handed over, not left unreported.
	f.waiting.Add(1)
	err := f.await(ctx)
	f.waiting.Add(-1)
	if err != nil && !f.Settled() {
		return zero, err
	}
	return f.result()
}

// await blocks until f settles (nil), ctx ends (ctx's error), or it finds
// itself on the loop's own thread (ErrLoopThread).
func (f *Future[T]) await(ctx context.Context) error {
	if f.Settled() {
		return nil
	}
	slot := f.l.holdSlot()
	if slot {
		defer f.l.releaseSlot()
	}
	if f.l.spinUntil(&f.state, slot) {
		return nil
	}
	if f.l.onLoopThread() {
		return ErrLoopThread
	}
	if blockOn(&f.state, f.Done, ctx.Done(), slot) {
		return nil
	}
	return ctx.Err()
}

// result hands the outcome over: it re-panics a panic and re-raises Goexit.
func (f *Future[T]) result() (T, error) {
	f.claim()
	if f.pe != nil {
		panic(f.pe)
	}
	if f.err == errGoexit {
		runtime.Goexit()
	}
	return f.val, f.err
}

// claim marks f's outcome as handed to someone, so that its panic is never
// reported as unretrieved: Dekker with notePanic, which publishes the
// panic's record, then looks at retrieved; claim sets retrieved, then looks
// for the record. One of the two sees the other. It is safe from any
// goroutine.
func (f *Future[T]) claim() {
	if !f.retrieved.Load() {
		f.retrieved.Store(true)
	}
	f.rec.Load().retrieve()
}

// Cancel asks for the future to end early. For a task's future, it cancels the
// task: its context is done and its current or next await returns
// context.Canceled ([Task.Err] sees it at once); the future settles when the
// task returns. A future from [NewFuture] settles with context.Canceled, on
// the loop's next round, unless it settles otherwise first. Cancel does
// nothing to a settled future. It is safe to call from any goroutine, any
// number of times; it does not wait.
func (f *Future[T]) Cancel() {
	if f.Settled() {
		return
	}
	if f.fn != nil {
		f.cancelAsk.Store(true)
		f.l.postCancel(f, context.Canceled)
		return
	}
	f.settleFunc()(*new(T), context.Canceled)
}
