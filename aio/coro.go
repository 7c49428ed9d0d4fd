package aio

import (
	"fmt"
	"iter"
	"log/slog"
	"os"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A coro is a runtime coroutine (made by iter.Pull) on the loop's goroutine,
// where all user code on the loop runs: the steps of a task, or a batch of
// callbacks ([Loop.Post], [Loop.AfterFunc], [Future.OnSettle], the loop's
// own reports). User code never runs on the loop goroutine itself, because a
// runtime.Goexit there would end the loop and its thread; in a coro it ends
// only the coro, which the loop then sets aside.
//
// When a task ends, its coro goes back to the loop's pool for the next task,
// so starting a task rarely creates a coroutine. Only the loop goroutine
// creates and resumes coros: a coroutine created on a locked goroutine must
// be resumed on the same thread, or the runtime throws.
type coro struct {
	l     *Loop
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	task  *Task     // the task to run, set by the loop before next; nil for callbacks
	goid  uint64    // the coroutine's goroutine id
	state coroState // why the last next returned

	onGoexitTask, onGoexitCallback func() // the goexit methods, bound once
}

type coroState uint8

const (
	coroSuspended coroState = iota // its task awaits
	coroFinished                   // its work ended; ready for more
	coroZombie                     // its user code called runtime.Goexit
)

func newCoro(l *Loop) *coro {
	c := &coro{l: l}
	c.onGoexitTask, c.onGoexitCallback = c.goexitTask, c.goexitCallback
	c.next, c.stop = iter.Pull(c.serve)
	c.next() // start the coroutine, so that its goroutine id is known
	return c
}

func (c *coro) serve(yield func(struct{}) bool) {
	c.yield = yield
	c.goid = goid.Get()
	if !yield(struct{}{}) {
		return
	}
	for {
		if t := c.task; t != nil {
			t.stepBegins()
			t.body.run(t, c.onGoexitTask)
		} else {
			c.l.runCallbacks(c.onGoexitCallback)
		}
		c.state = coroFinished
		if !yield(struct{}{}) {
			return
		}
	}
}

// goexitTask runs while a task's runtime.Goexit unwinds the coroutine: the
// task ends (unless a panic in one of its deferred calls ended it already)
// and its future settles with errGoexit, so that whoever waits for it calls
// runtime.Goexit in turn. The coroutine hands control back to the loop and
// stays parked until the loop's teardown, so the Goexit does not unwind
// through the loop.
func (c *coro) goexitTask() {
	t := c.task
	t.taskEnds()
	t.l.endTask(t)
	t.body.fail(errGoexit)
	c.park()
}

// goexitCallback runs while a callback's runtime.Goexit unwinds the
// coroutine. Unless it went to a caller waiting for it (Do), nobody waits
// for a callback, so it is reported (by the next coroutine: a Logger called
// here could Goexit again before this one parks); the callbacks still
// queued run on another coroutine too. A Logger whose handler itself calls
// Goexit is reported to standard error, once.
func (c *coro) goexitCallback() {
	l := c.l
	switch {
	case l.goexitTold:
		l.goexitTold = false // Do's caller calls Goexit in turn
	case l.reporting:
		l.reporting = false
		fmt.Fprintf(os.Stderr, "aio: the Logger of %v called runtime.Goexit\n", l)
	default:
		l.reportOnLoop(slog.LevelError, "aio: callback called runtime.Goexit", "loop", l.Name())
	}
	c.park()
}

func (c *coro) park() {
	c.state = coroZombie
	c.yield(struct{}{})
	// Resumed only by stop at the loop's teardown; the Goexit then ends
	// this coroutine and goes on in the loop goroutine, which is exiting.
}

// getCoro returns a coroutine for a task: a pooled one, or a new one.
func (l *Loop) getCoro() *coro {
	if n := len(l.idle); n > 0 {
		c := l.idle[n-1]
		l.idle[n-1] = nil
		l.idle = l.idle[:n-1]
		return c
	}
	return newCoro(l)
}

func (l *Loop) putCoro(c *coro) {
	if len(l.idle) < maxIdleCoros && !l.shut.began {
		c.state = coroSuspended
		l.idle = append(l.idle, c)
		return
	}
	c.stop()
}
