package aio

import (
	"iter"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A worker is a runtime coroutine (made by iter.Pull) that runs tasks, one
// after another: when a task ends, its worker goes back to the loop's pool for
// the next task, so starting a task rarely creates a coroutine.
//
// Only the loop goroutine creates and resumes workers: a coroutine created on a
// locked goroutine must be resumed on the same thread, or the runtime throws.
type worker struct {
	l     *Loop
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	task  *Task       // the task to run, set by the loop before next
	goid  uint64      // the coroutine's goroutine id
	state workerState // why the last next returned
}

type workerState uint8

const (
	workerSuspended workerState = iota // its task awaits
	workerFinished                     // its task ended; ready for another
	workerZombie                       // its task called runtime.Goexit
)

func newWorker(l *Loop) *worker {
	w := &worker{l: l}
	w.next, w.stop = iter.Pull(w.serve)
	w.next() // start the coroutine, so that its goroutine id is known
	return w
}

func (w *worker) serve(yield func(struct{}) bool) {
	w.yield = yield
	w.goid = goid.Get()
	if !yield(struct{}{}) {
		return
	}
	for {
		w.runTask()
		w.state = workerFinished
		if !yield(struct{}{}) {
			return
		}
	}
}

// runTask runs one task. A panic is recovered by the task's body; what reaches
// the deferred function here is runtime.Goexit, which cannot be stopped: the
// coroutine settles the task (unless a panic in a deferred call of the task
// settled it already), hands control back to the loop and stays parked until
// the loop's teardown, so the Goexit does not unwind through the loop.
func (w *worker) runTask() {
	t := w.task
	returned := false
	defer func() {
		if returned {
			return
		}
		t.l.endTask(t)         // does nothing if the task ended already
		t.body.fail(errGoexit) // does nothing if its future settled already
		w.state = workerZombie
		w.yield(struct{}{})
		// Resumed only by stop at the loop's teardown; the Goexit then ends
		// this coroutine and goes on in the loop goroutine, which is exiting.
	}()
	t.body.run(t)
	returned = true
}
