package aio

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/trace"
)

// Callbacks are functions the loop runs between task steps, without a task:
// cheaper than a task when the work is short and never awaits (a bridge
// resolving a JavaScript promise, a foreign event loop's timer). They run
// one at a time, in the order they became due, on the loop's thread, in a
// coroutine of the loop's (so that a runtime.Goexit in one ends neither the
// loop nor its thread). A callback has no *Task, so it cannot await; to
// start async work, it calls [Spawn]. A blocking call from a callback
// ([Call], [Future.Wait], [Loop.Close]) returns [ErrLoopThread], as from a
// task. A callback's panic, panic(nil) or Goexit is logged to the loop's
// [Logger] with its stack, and the loop serves on.

// Post runs fn on the loop soon, as a callback: after what was posted before
// it, in order of posting (asyncio's call_soon_threadsafe). It returns
// [ErrClosed] once the loop has begun to close, and never blocks; callbacks
// posted before that run before the loop stops (a loop closed before it ever
// served drops them). Post is safe to call from any goroutine, the loop's own
// included. A nil fn returns [ErrInvalid].
func (l *Loop) Post(fn func()) error {
	switch {
	case l == nil:
		return invalid("Post: nil *Loop")
	case fn == nil:
		return invalid("Post: nil function")
	}
	if l.onPinnedLoopThread() {
		// From the loop itself: no need to go through the inbox, or to
		// count as work from outside (see Loop.idleWait).
		if l.shut.began {
			return l.refusal()
		}
		l.callbacks.push(fn)
		return nil
	}
	if !l.inbox.postWork(&postItem{fn: fn}) {
		return l.refusal()
	}
	return nil
}

// A postItem is a callback posted by Post.
type postItem struct {
	itemLink
	fn func()
}

func (it *postItem) runOnLoop(l *Loop) { l.callbacks.push(it.fn) }

// OnSettle makes fn run on f's loop, as a callback, once f has settled
// (soon, if it already has), with f's value and error; if f's task panicked,
// err is its *[PanicError], which then counts as retrieved (Close does not
// report it). Nothing waits meanwhile: no task, no goroutine. Callbacks of
// one future run in the order OnSettle was called. OnSettle is safe to call
// from any goroutine and never blocks. If f's loop stops before f settles,
// fn is never called. For a future of no loop ([Completed]) or a nil one
// (settled with [ErrInvalid]), fn runs at once in the calling goroutine. A
// nil fn panics.
func (f *Future[T]) OnSettle(fn func(v T, err error)) {
	if fn == nil {
		panic("aio: Future.OnSettle called with a nil function")
	}
	if f == nil {
		var zero T
		fn(zero, invalid("OnSettle on a nil *Future"))
		return
	}
	if f.l == nil {
		fn(f.val, f.err)
		return
	}
	f.l.inbox.post(&onSettleItem[T]{f: f, fn: fn})
}

type onSettleItem[T any] struct {
	itemLink
	f  *Future[T]
	fn func(T, error)
}

// runOnLoop registers the callback. From now on the outcome is spoken for:
// a panic goes to fn, not to Close's report.
func (it *onSettleItem[T]) runOnLoop(l *Loop) {
	f := it.f
	f.claim()
	if f.Settled() {
		l.callbacks.push(it.call)
		return
	}
	f.onDone = append(f.onDone, func() { l.callbacks.push(it.call) })
}

func (it *onSettleItem[T]) call() {
	f := it.f
	err := f.err
	if f.pe != nil {
		err = f.pe
	}
	it.fn(f.val, err)
}

// runCallbacksOnCoro runs the callbacks that are due, on the loop's callback
// coroutine; one whose callback called runtime.Goexit is set aside and
// another takes over.
func (l *Loop) runCallbacksOnCoro() {
	for l.callbacks.len() > 0 {
		c := l.cbCoro
		if c == nil {
			c = l.getCoro()
			l.cbCoro = c
		}
		l.busy.Store(true)
		l.resume(c, nil)
		l.busy.Store(false)
		if c.state == coroZombie {
			l.zombies = append(l.zombies, c)
			l.cbCoro = nil
		}
	}
}

// runCallbacks runs, on the callback coroutine, every callback due; it is
// the coroutine's work. A Goexit leaves through goexit.
func (l *Loop) runCallbacks(goexit func()) {
	if trace.IsEnabled() {
		defer trace.StartRegion(context.Background(), "aio.callbacks").End()
	}
	for l.callbacks.len() > 0 {
		fn := l.callbacks.pop()
		l.stats.callbacks++
		if pe := catch(fn, goexit); pe != nil {
			l.reportOnLoop(slog.LevelError, "aio: callback panicked",
				"loop", l.Name(), "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
	}
}
