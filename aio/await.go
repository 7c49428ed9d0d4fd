package aio

import "slices"

// Await suspends t until f settles, then returns f's value and error. If t is
// cancelled first (or already was), Await returns the context's error at once
// and f goes on unaffected. If f's task panicked, Await panics with its
// *[PanicError]; if it called runtime.Goexit, Await does too. Await must be
// called by t itself; f must belong to t's loop (else [ErrInvalid]).
func Await[T any](t *Task, f *Future[T]) (T, error) {
	t.mustRun("Await")
	var zero T
	switch {
	case f == nil:
		return zero, invalid("Await: nil future")
	case f.l != t.l:
		// Only a settled future of no loop or another loop is fine: its
		// loop-owned fields are that loop's, so look at nothing else.
		if !f.Settled() {
			return zero, invalid("Await: future of %v awaited by a task of %v", f.l, t.l)
		}
	case f.task == t:
		return zero, invalid("Await: %v awaits its own future", t)
	}
	for {
		// Cancellation first, even if f settled in the same round.
		if err := t.awaitErr(); err != nil {
			return zero, err
		}
		if f.Settled() {
			return f.result()
		}
		f.addWaiter(t)
		t.waitOn = f
		t.suspend("Await")
		f.removeWaiter(t)
	}
}

// awaitSettled suspends t until f settles, even if t is cancelled meanwhile:
// for waits that must not leave a child running (Timeout, Group).
func awaitSettled[T any](t *Task, f *Future[T]) {
	for !f.Settled() {
		f.addWaiter(t)
		t.waitOn = f
		t.suspend("await")
		f.removeWaiter(t)
	}
	t.interruptCarried()
}

// addWaiter has t woken when f settles. A future mostly has one waiter,
// kept without a slice.
func (f *Future[T]) addWaiter(t *Task) {
	if f.waiter == nil {
		f.waiter = t
		return
	}
	f.waiters = append(f.waiters, t)
}

func (f *Future[T]) removeWaiter(t *Task) {
	if f.waiter == t {
		f.waiter = nil
		return
	}
	if i := slices.Index(f.waiters, t); i >= 0 {
		f.waiters = slices.Delete(f.waiters, i, i+1)
	}
}
