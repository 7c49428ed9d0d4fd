package aio

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"
)

// A Task is one cooperative thread of work on a loop: a function that runs as
// a coroutine on the loop's goroutine and may suspend in an await ([Await],
// [Sleep], [Recv], [ToThread], ...) to let other tasks run. Every task body
// receives its *Task; the task-side functions of this package take it as their
// first argument and must be called by that task's own code, on the loop,
// while it runs: called from anywhere else they panic. A Task must not be
// used after its function returns.
type Task struct {
	l       *Loop
	timer   *timer                 // Sleep's timer, made by the first Sleep; kept on reuse
	name    atomic.Pointer[string] // set by SetName; atomic for the slow-task watchdog
	taskRun                        // the rest, zeroed when the loop reuses the Task
}

// taskRun is the part of a Task that belongs to one run of one function.
type taskRun struct {
	// Set when the task is made, then only read.
	id       uint64
	body     taskBody
	parent   *Task           // the task that started it with Go, while both live
	pctx     context.Context // the context it was started with: values, deadline
	deadline time.Time       // own deadline (Timeout, Shield), inherited by children
	opts     childOpts

	// Loop-owned: read and written only on the loop.
	ctx       context.Context         // made by the first call to Context
	cancelCtx context.CancelCauseFunc // cancels ctx
	state     taskState
	closed    bool      // cancelled because the loop closes
	c         *coro     // the coroutine running the task, once started
	cancelErr error     // the context's error once the task is cancelled
	onSuspend func()    // runs each time the task suspends (a Stream's flush)
	noAwait   int       // depth of NoAwait calls: awaiting panics while > 0
	life      *lifetime // ctx is this resource's lifetime context, while Enter runs

	// Interruption (see interruptNow): loop-owned.
	interruptible bool   // a stream's generator: its awaits may be interrupted
	interrupt     error  // the error the await in progress returns, once
	onInterrupt   func() // ends what the await in progress waits for (ToThread)

	// For Go's tools and the task dump: loop-owned.
	obs       taskObs  // trace task and labels, if traced or labelled
	firstStep bool     // the task has not suspended yet
	started   int64    // when the task started, in loop time
	waitOp    string   // the await it is suspended in
	waitOn    any      // what that await waits for (a future, a timer, a ToThread call, a channel)
	live      taskLink // in the loop's list of live tasks
	sib       taskLink // in the parent's children
	children  taskList // live tasks started by Go from this one
}

type taskState uint8

const (
	taskNew       taskState = iota // posted, not yet started
	taskReady                      // in the run queue
	taskRunning                    // its step is running
	taskSuspended                  // waiting in an await
	taskDone                       // its function has returned
)

// A taskBody is the typed half of a task: its function and its future.
// *Future[T] implements it.
type taskBody interface {
	run(t *Task, goexit func()) // runs the function in t and settles the future
	fail(err error)             // settles the future of a task that never ran or called Goexit
	bind(t *Task)               // records the task running the function; nil forgets it
	stopWatching()              // stops watching the caller's context (Spawn)
	cancelWanted() bool         // Future.Cancel was called; safe from any goroutine
	funcName() string
}

// childOpts are the ways a task the library starts for itself differs from
// one started by Go.
type childOpts struct {
	deadline time.Time // a deadline of its own (Timeout, Shield)
	detached bool      // no parent: the starting task's cancellation does not reach it (Shield)
	immune   bool      // Close does not cancel it, Shutdown's hard stop does (Shield, close hooks)
}

// Context returns the task's context. It carries the values of the context the
// task was started with, and it is done when the task is cancelled (its
// caller's context ended, [Future.Cancel] was called, its parent task was
// cancelled or ended), when its loop closes, and when the task ends; inside a
// [Resource]'s Enter, it lives on until that resource's Exit has returned
// instead. Context must be called by the task itself; the context it returns
// may be passed to and used from any goroutine.
func (t *Task) Context() context.Context {
	t.mustRun("Context")
	return t.context()
}

// Loop returns the loop the task runs on.
func (t *Task) Loop() *Loop { return t.l }

// ID returns the task's id, unique within its loop.
func (t *Task) ID() uint64 { return t.id }

// Name returns the name given by [Task.SetName], or else the name of the
// task's function.
func (t *Task) Name() string {
	if name := t.name.Load(); name != nil {
		return *name
	}
	if t.body == nil {
		return "ended task"
	}
	return t.body.funcName()
}

// SetName names the task in logs, such as the slow-task report of [SlowTask].
// It must be called by the task itself.
func (t *Task) SetName(name string) {
	t.mustRun("SetName")
	t.name.Store(&name)
	t.renamed(name)
}

// String describes the task for logs: "task 12 (main.fetch)".
func (t *Task) String() string { return fmt.Sprintf("task %d (%s)", t.id, t.Name()) }

// mustRun panics unless t is the task whose step is running: task-side calls
// from another goroutine, from another task, from a callback, or after the
// task ended are bugs.
func (t *Task) mustRun(op string) {
	if t == nil {
		panic("aio: " + op + " called with a nil *Task")
	}
	if t.l.curr.Load() != t {
		panic(misuse(op))
	}
}

func misuse(op string) string {
	return "aio: " + op + " called outside the running task it was given (from another goroutine, another task, a callback, or after the task ended)"
}

func funcName(fn any) string {
	if fn == nil {
		return "<nil>"
	}
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "?"
	}
	return f.Name()
}
