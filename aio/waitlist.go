package aio

import "slices"

// A waitList holds tasks suspended until some loop-owned condition holds
// (Queue, Event, Semaphore). Waiters re-check their condition when woken, so a
// wake-up is a hint, never a hand-off that could be lost.
type waitList struct {
	tasks []*Task
}

// wait suspends t, in op, until woken or cancelled. The caller loops,
// re-checking its condition and t.cancelErr.
func (w *waitList) wait(t *Task, op string) {
	w.add(t)
	t.suspend(op)
	w.remove(t)
}

// add and remove are not inlined into wait, whose frame stays under the
// task's coroutine while it is suspended (see fault.Catch on why that counts).
//
//go:noinline
func (w *waitList) add(t *Task) { w.tasks = append(w.tasks, t) }

//go:noinline
func (w *waitList) remove(t *Task) {
	if i := slices.Index(w.tasks, t); i >= 0 {
		w.tasks = slices.Delete(w.tasks, i, i+1)
	}
}

// wakeOne wakes the longest-waiting task.
func (w *waitList) wakeOne() {
	if len(w.tasks) > 0 {
		t := w.tasks[0]
		w.tasks = slices.Delete(w.tasks, 0, 1)
		t.l.wake(t)
	}
}

func (w *waitList) wakeAll() {
	for _, t := range w.tasks {
		t.l.wake(t)
	}
	clear(w.tasks)
	w.tasks = w.tasks[:0]
}

// loopBinding ties a loop-side primitive to the loop of the first task that
// uses it: its zero value works, and use from a second loop panics.
type loopBinding struct{ l *Loop }

func (b *loopBinding) bind(t *Task, op string) {
	t.mustRun(op)
	if b.l == nil {
		b.l = t.l
	} else if b.l != t.l {
		panic("aio: " + op + " used from " + t.l.Name() + ", but it belongs to " + b.l.Name())
	}
}

// mustOnLoop panics unless a task of b's loop is running: it catches calls
// made while the loop is idle, not calls from another goroutine made while the
// loop happens to run a task.
func (b *loopBinding) mustOnLoop(op string) {
	if b.l != nil && b.l.curr.Load() == nil {
		panic("aio: " + op + " called outside a task of " + b.l.Name())
	}
}
