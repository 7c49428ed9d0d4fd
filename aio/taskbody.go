package aio

import "github.com/threadrunner/threadrunner/internal/fault"

// A task's future is its taskBody: the loop runs the task's function
// through it and settles it with the outcome.

// run implements taskBody: it runs the task's function under the catcher
// and settles f. A runtime.Goexit leaves run through goexit instead.
func (f *Future[T]) run(t *Task, goexit func()) {
	var (
		v   T
		err error
	)
	// fault.Catch directly, not catch: one frame fewer under every
	// suspended task (see fault.Catch on why that counts).
	pe := asPanicError(fault.Catch(func() { v, err = f.fn(t) }, goexit))
	t.taskEnds()
	err = t.outcome(err) // before endTask, which ends the task's context
	t.l.endTask(t)
	f.settle(v, err, pe)
}

// fail implements taskBody: it settles the future of a task that never ran,
// or that called runtime.Goexit.
func (f *Future[T]) fail(err error) {
	var zero T
	if f.task != nil && err != errGoexit {
		err = f.task.outcome(err)
	}
	f.settle(zero, err, nil)
}

func (f *Future[T]) funcName() string { return funcName(f.fn) }

func (f *Future[T]) bind(t *Task) {
	if t == nil && f.reusable {
		return // settle unbound it, and it may be another call's now
	}
	f.task = t
}

func (f *Future[T]) cancelWanted() bool { return f.cancelAsk.Load() }

func (f *Future[T]) stopWatching() {
	if f.stopWatch != nil {
		f.stopWatch()
		f.stopWatch = nil
	}
}

// taskOf implements canceller: the task running f's function, if any.
func (f *Future[T]) taskOf() *Task { return f.task }

// runOnLoop admits the task of a future posted by Spawn or Call.
func (f *Future[T]) runOnLoop(l *Loop) {
	var err error
	switch {
	case f.withdrawn.Load():
		return
	case l.shut.began && !(f.fromLoop && !l.shut.cancelled):
		err = l.refusal()
	case f.pctx.Err() != nil:
		// The caller gave up before the task could start: it never runs.
		err = f.pctx.Err()
	}
	if err != nil {
		f.stopWatching()
		f.fail(err)
		return
	}
	l.startTask(l.newTask(f, f.pctx))
}
