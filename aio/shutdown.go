package aio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// Close stops the loop and waits for it. In order: new work is refused with
// [ErrClosed]; the [OnClose] hooks run, last registered first, each as a task
// of its own; every other task is cancelled (its awaits return
// context.Canceled and its outcome is also ErrClosed) and awaited, except
// that a [Shield] runs out its grace; running [ToThread] functions are waited
// for; callbacks already posted run, timers of [Loop.AfterFunc] not yet due
// are dropped; and the loop's goroutine returns. Close returns the hooks'
// errors and the panics of tasks that nobody retrieved, joined.
//
// Close is idempotent: later calls wait for the loop to stop and return the
// same. Called on the loop's own thread, or from a function ToThread runs for
// it (which Close would wait for), it returns [ErrLoopThread]. Closing a loop
// that never ran just marks it closed, dropping what was posted to it.
func (l *Loop) Close() error { return l.Shutdown(context.Background()) }

// Shutdown is [Loop.Close] bounded by ctx: if ctx ends before the loop has
// stopped, every task still running is cancelled at once, hooks and shielded
// tasks included (their awaits fail from then on), and Shutdown returns ctx's
// error while the loop goes on stopping in the background (a task that never
// awaits cannot be stopped from outside).
func (l *Loop) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return invalid("Shutdown: nil context")
	}
	if l.onLoopThread() {
		return ErrLoopThread
	}
	if l.inToThread() {
		return fmt.Errorf("%w: Close from a ToThread function of the same loop, which waits for it", ErrLoopThread)
	}
	if l.discard() {
		return l.err
	}
	if l.state.CompareAndSwap(int32(loopRunning), int32(loopClosing)) {
		l.inbox.closeWork()
		l.inbox.post(new(shutdownItem))
	}
	select {
	case <-l.done:
		return l.err
	case <-ctx.Done():
		// What still runs, as it is stuck, then stop it hard.
		l.reportStillRunning(ctx.Err())
		l.inbox.post(new(hardStopItem))
		return ctx.Err()
	}
}

// refusal is the error for work the loop will not take: ErrClosed, or the
// error of conflicting options.
func (l *Loop) refusal() error {
	if l.cfg.err != nil {
		return l.cfg.err
	}
	return ErrClosed
}

// discard closes a loop that has never served, and reports whether it did.
// What was posted to it fails with ErrClosed (tasks and Do's functions never
// run, their callers are answered) or is dropped (callbacks: they must not
// run on a thread other than the loop's), and a later Serve returns
// ErrClosed.
func (l *Loop) discard() bool {
	if !l.state.CompareAndSwap(int32(loopNew), int32(loopClosed)) {
		return false
	}
	// No goroutine will ever serve the loop, so this one may run what was
	// posted, as the loop would have while closing.
	l.shut.began, l.shut.cancelled, l.shut.discarded = true, true, true
	for _, it := range l.inbox.closeAll() {
		it.runOnLoop(l)
	}
	l.callbacks = ring[func()]{}
	l.err = l.cfg.err
	close(l.started)
	close(l.done)
	return true
}

// shutdown is the loop's progress through Close; it is loop-owned.
type shutdown struct {
	began     bool    // Close has begun: hooks run, then tasks are cancelled
	cancelled bool    // every task has been cancelled; the loop stops once they end
	hard      bool    // Shutdown's ctx ended: shields and hooks are cancelled too
	discarded bool    // closed before it served: callbacks are dropped, not run
	errs      []error // the hooks' errors
}

// finished reports whether the loop may stop: it is closing and nothing is
// left to run.
func (s *shutdown) finished(l *Loop) bool {
	return s.cancelled && l.tasks.n == 0 && l.threads.running == 0 && l.callbacks.len() == 0
}

type shutdownItem struct{ itemLink }

func (*shutdownItem) runOnLoop(l *Loop) { l.beginShutdown() }

type hardStopItem struct{ itemLink }

func (*hardStopItem) runOnLoop(l *Loop) {
	l.shut.hard = true
	l.beginShutdown()
	for t := l.tasks.head; t != nil; t = t.live.next {
		l.cancelTask(t, context.Canceled, cancelHard)
	}
}

// beginShutdown runs the close hooks in a task of their own, then cancels
// every task; run returns once they have all ended.
func (l *Loop) beginShutdown() {
	if l.shut.began {
		return
	}
	l.shut.began = true
	hooks := l.hooks
	l.hooks, l.hooksFired = nil, true
	if len(hooks) == 0 {
		l.cancelAll()
		return
	}
	f := &Future[struct{}]{l: l, pctx: context.Background(), fn: func(t *Task) (struct{}, error) {
		t.SetName("aio: close hooks")
		l.shut.errs = runHooks(t, hooks)
		return struct{}{}, nil
	}}
	f.retrieved.Store(true)
	f.onDone = append(f.onDone, l.cancelAll)
	t := l.newTask(f, f.pctx)
	t.opts.immune = true // Close does not cancel the hooks: their Err says so
	l.startTask(t)
}

// cancelAll cancels every live task but the shielded ones, which Shutdown's
// hard stop cancels.
func (l *Loop) cancelAll() {
	l.shut.cancelled = true
	for t := l.tasks.head; t != nil; t = t.live.next {
		l.cancelTask(t, context.Canceled, cancelClosing)
	}
}

// A closeHook is a function registered with OnClose.
type closeHook struct {
	fn func(*Task) error
}

// OnClose registers fn to run when t's loop closes, before the loop cancels
// its tasks: hooks run one at a time, last registered first, each as a new
// task whose context carries nothing of t's, is not cancelled by Close, and
// is cancelled if [Loop.Shutdown]'s ctx ends first. The hooks' errors, and
// their panics as *[PanicError], are joined into Close's result; a hook that
// panics or calls runtime.Goexit does not keep the others from running.
//
// remove unregisters fn and reports whether it did: it returns false once
// the loop has taken the hooks to run them, or if remove was called before.
// OnClose and remove must be called by tasks of t's loop. Once the loop has
// begun to close, OnClose registers nothing and returns [ErrClosed]: the
// caller must clean up itself.
func OnClose(t *Task, fn func(*Task) error) (remove func() bool, err error) {
	t.mustRun("OnClose")
	if fn == nil {
		return nil, invalid("OnClose: nil function")
	}
	l := t.l
	if l.hooksFired {
		return nil, ErrClosed
	}
	h := &closeHook{fn: fn}
	l.hooks = append(l.hooks, h)
	return func() bool {
		if l.curr.Load() == nil || !l.onLoopThread() {
			panic("aio: OnClose's remove called outside a task of " + l.Name())
		}
		i := slices.Index(l.hooks, h)
		if i < 0 {
			return false
		}
		l.hooks = slices.Delete(l.hooks, i, i+1)
		return true
	}, nil
}

var closeHookName = "aio: close hook" // until the hook names itself

// runHooks runs hooks last first, each in a child task of t so that its
// panic or Goexit is its own, and returns their errors.
func runHooks(t *Task, hooks []*closeHook) []error {
	var errs []error
	for _, h := range slices.Backward(hooks) {
		f := goChild(t, func(t *Task) (struct{}, error) { return struct{}{}, h.fn(t) }, childOpts{})
		f.task.name.Store(&closeHookName)
		f.retrieved.Store(true) // handed over here, as an error
		awaitSettled(t, f)
		switch {
		case f.pe != nil:
			errs = append(errs, f.pe)
		case f.err == errGoexit:
			errs = append(errs, fmt.Errorf("aio: close hook called runtime.Goexit"))
		case f.err != nil:
			errs = append(errs, f.err)
		}
	}
	return errs
}

// teardown runs after the last task: it stops taking work, runs what was
// still posted, drops timers not yet due, waits for helper goroutines,
// reports unretrieved panics and stops the pooled coroutines. Zombie
// coroutines (runtime.Goexit) are stopped last, from deferred calls, because
// stopping one goes on with its Goexit in this goroutine.
func (l *Loop) teardown() {
	for _, it := range l.inbox.closeAll() {
		it.runOnLoop(l)
	}
	l.runCallbacksOnCoro()
	l.timers.dropAll()
	l.threads.stop() // no job runs: run returned once they had all come back
	l.helpers.Wait()
	errs := append(l.shut.errs, l.reportPanics()...)
	if len(l.zombies) > 0 && l.goid.Load() == 1 {
		l.reportOnLoop(slog.LevelError, "aio: user code called runtime.Goexit; its coroutines stay parked, since the loop ran on the main goroutine",
			"loop", l.Name(), "coroutines", len(l.zombies))
	}
	l.runCallbacksOnCoro()
	l.stats.publish(l)
	l.err = errors.Join(errs...)
	for _, c := range l.idle {
		c.stop()
	}
	l.idle = nil
	if l.cbCoro != nil {
		l.cbCoro.stop()
		l.cbCoro = nil
	}
	if len(l.zombies) == 0 || l.goid.Load() == 1 {
		// On the main goroutine (mainthread) a Goexit would end the
		// program: the coroutines stay parked until the process exits.
		return
	}
	for _, c := range l.zombies {
		defer c.stop()
	}
}
