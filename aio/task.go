package aio

import (
	"context"
	"errors"
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
// while it runs. A Task must not be used after its function returns.
type Task struct {
	l       *Loop
	timer   *timer                 // the timer of Sleep, made by the first Sleep; kept on reuse
	name    atomic.Pointer[string] // set by SetName; atomic for the slow-task watchdog
	taskRun                        // the rest, zeroed when the loop reuses the Task
}

// taskRun is the part of a Task that belongs to one run of one function.
type taskRun struct {
	id       uint64
	body     taskBody
	parent   *Task
	pctx     context.Context // the context it was started with: values, deadline
	deadline time.Time       // own deadline (Timeout), inherited by children

	// Loop-owned: read and written only on the loop.
	ctx       context.Context         // made by the first call to Context
	cancelCtx context.CancelCauseFunc // cancels ctx
	state     taskState
	closed    bool     // cancelled because the loop closes
	w         *worker  // the coroutine running the task, once started
	cancelErr error    // the context's error once the task is cancelled
	onSuspend func()   // runs each time the task suspends (Iter flushes)
	prev      *Task    // in the loop's list of live tasks
	next      *Task    //
	children  taskList // live tasks started by Go from this one
	sibPrev   *Task    // in the parent's children
	sibNext   *Task    //
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
	run(t *Task)    // runs the function in t and settles the future
	fail(err error) // settles the future of a task that never ran or called Goexit
	bind(t *Task)   // records the task running the function; nil forgets it
	stopWatching()  // stops watching the caller's context (Spawn)
	funcName() string
}

// Context returns the task's context. It carries the values of the context the
// task was started with, and it is done when the task is cancelled (its
// caller's context ended, [Future.Cancel] was called, its parent task was
// cancelled or ended), when its loop closes, and when the task ends. Context
// must be called by the task itself; the context it returns may be passed to
// and used from any goroutine.
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
}

// String describes the task for logs: "task 12 (main.fetch)".
func (t *Task) String() string { return fmt.Sprintf("task %d (%s)", t.id, t.Name()) }

// Err returns nil while the task may go on, or the error its awaits now
// return: the context's error once the task has been cancelled. It must be
// called by the task itself. Long computations that do not await can poll it:
// while a step runs, it sees the end of the context the task was started
// with (a caller's cancellation or deadline) and of its deadline at once, and
// a cancellation by the loop ([Future.Cancel], a parent's end, Close) at the
// next step.
func (t *Task) Err() error {
	t.mustRun("Err")
	if t.cancelErr != nil {
		return t.cancelErr
	}
	if t.ctx != nil {
		return t.ctx.Err()
	}
	return t.pctx.Err()
}

// mustRun panics unless t is the task whose step is running: task-side calls
// from another goroutine, from another task, or after the task ended are bugs.
func (t *Task) mustRun(op string) {
	if t == nil {
		panic("aio: " + op + " called with a nil *Task")
	}
	if t.l.current.Load() != t {
		panic(misuse(op))
	}
}

func misuse(op string) string {
	return "aio: " + op + " called outside the running task it was given (from another goroutine, another task, or after the task ended)"
}

// suspend parks the running task, which awaits in op, until the loop wakes it
// with wake (because what it awaits happened, or because it was cancelled).
// Callers re-check their condition and t.cancelErr after it returns.
//
// Suspending from a goroutine that holds t while t's step runs would switch
// coroutines from the wrong goroutine: the runtime treats that as a fatal
// error (an unpinned loop would run two steps at once). On a pinned loop the
// thread tells that goroutine apart, so it gets the misuse panic; an unpinned
// loop has no cheap way to tell and relies on mustRun alone.
func (t *Task) suspend(op string) {
	t.mustBeOwnGoroutine(op)
	t.state = taskSuspended
	if t.onSuspend != nil {
		t.onSuspend()
	}
	t.w.yield(struct{}{})
}

// yieldNow lets every other ready task run once before t goes on.
func (t *Task) yieldNow(op string) {
	t.mustBeOwnGoroutine(op)
	t.state = taskSuspended
	t.l.wake(t)
	t.w.yield(struct{}{})
}

func (t *Task) mustBeOwnGoroutine(op string) {
	if tid := t.l.tid.Load(); tid != 0 && !t.l.cfg.unpinned && int64(threadID()) != tid {
		panic(misuse(op))
	}
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

// Go starts fn as a new task on t's loop and returns its future at once; fn
// first runs after t suspends or ends. The new task is t's child: its context
// derives from t's, so it is cancelled when t is cancelled or ends. To start a
// task that outlives t, use [Spawn] with a context of your choosing. A nil fn
// gives a future that fails with [ErrInvalid]. Go must be called by t itself.
func Go[T any](t *Task, fn func(*Task) (T, error)) *Future[T] {
	t.mustRun("Go")
	return goChild(t, fn, time.Time{})
}

func goChild[T any](t *Task, fn func(*Task) (T, error), deadline time.Time) *Future[T] {
	l := t.l
	f := &Future[T]{l: l, fn: fn, pctx: t.pctx}
	if fn == nil {
		f.settleNow(*new(T), invalid("Go: nil function"), nil)
		return f
	}
	c := l.newTask(f, t.pctx)
	c.parent = t
	c.deadline = t.deadline
	if !deadline.IsZero() && (c.deadline.IsZero() || deadline.Before(c.deadline)) {
		c.deadline = deadline
	}
	l.startTask(c)
	return f
}

// newTask returns a task for f, reusing an ended one when the loop has enough
// of them. Tasks are reused only by their loop, so their memory stays in the
// loop's cache; an ended task waits in quarantine behind taskQuarantine others
// before it is reused, so that a *Task kept past its end is caught by the
// task-side functions' check rather than aliasing a task that runs now.
func (l *Loop) newTask(f taskBody, pctx context.Context) *Task {
	var t *Task
	if l.freeTasks.len() > taskQuarantine {
		t = l.freeTasks.pop()
	} else {
		t = &Task{l: l}
	}
	t.body, t.pctx = f, pctx
	f.bind(t)
	return t
}

// freeTask returns an ended task to the pool.
func (l *Loop) freeTask(t *Task) {
	t.body.bind(nil)
	t.taskRun = taskRun{}
	t.name.Store(nil)
	if l.freeTasks.len() < maxFreeTasks {
		l.freeTasks.push(t)
	}
}

const (
	taskQuarantine = 64   // ended tasks kept unused before reuse
	maxFreeTasks   = 1024 // bounds the pool of ended tasks
)

// outcome applies the cancellation rule to what a task returned: once a task
// has been cancelled, its error always is (errors.Is) the context's error, and
// is ErrClosed too if the loop cancelled it by closing.
func (t *Task) outcome(err error) error {
	if t.cancelErr == nil {
		// The task may have seen its context end (its caller's context or
		// its deadline) before the loop got round to cancelling it.
		ctx := t.pctx
		if t.ctx != nil {
			ctx = t.ctx
		}
		if ctx == nil || ctx.Err() == nil {
			return err
		}
		t.cancelErr = ctx.Err()
	}
	if !errors.Is(err, t.cancelErr) {
		err = errors.Join(t.cancelErr, err)
	}
	if t.closed && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// taskList is an intrusive doubly linked list of tasks, through prev and next
// (the loop's live tasks) or sibPrev and sibNext (a task's children).
type taskList struct {
	head *Task
	n    int
}

func (ls *taskList) pushLive(t *Task) {
	t.next = ls.head
	if ls.head != nil {
		ls.head.prev = t
	}
	ls.head = t
	ls.n++
}

func (ls *taskList) removeLive(t *Task) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		ls.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
	ls.n--
}

func (ls *taskList) pushChild(t *Task) {
	t.sibNext = ls.head
	if ls.head != nil {
		ls.head.sibPrev = t
	}
	ls.head = t
	ls.n++
}

func (ls *taskList) removeChild(t *Task) {
	if t.sibPrev != nil {
		t.sibPrev.sibNext = t.sibNext
	} else {
		ls.head = t.sibNext
	}
	if t.sibNext != nil {
		t.sibNext.sibPrev = t.sibPrev
	}
	t.sibPrev, t.sibNext = nil, nil
	ls.n--
}
