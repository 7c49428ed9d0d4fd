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
	obs       *taskObs // trace task and labels, if traced or labelled
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

// NoAwait runs fn in t and makes every await of t inside fn panic, with a
// message naming the rule, instead of suspending t. Wrap in it foreign code
// that calls back into Go on the loop's thread: a cgo callback, a goja call.
// Suspending t in the middle of such a call would leave the foreign code's
// state behind while other tasks run (a JavaScript VM is then corrupted), and
// inside a cgo callback the Go runtime treats it as a fatal error
// ("coro: OS thread locking must match"), which nothing can recover. fn's own
// panics go on as usual; NoAwait calls may nest. NoAwait must be called by t.
func NoAwait(t *Task, fn func()) {
	t.mustRun("NoAwait")
	t.noAwait++
	defer func() { t.noAwait-- }()
	fn()
}

// awaitErr returns the error an await of t returns now, if any: the
// context's error once t is cancelled; or, once, the error t's await in
// progress was interrupted with.
func (t *Task) awaitErr() error {
	if t.cancelErr != nil {
		return t.cancelErr
	}
	if err := t.interrupt; err != nil {
		t.interrupt = nil
		return err
	}
	return nil
}

// interruptNow makes the await t is suspended in return err at once, without
// cancelling t: its context stays live and its later awaits work as usual.
// What the await waits for through other tasks or goroutines is ended: t's
// children are cancelled, a ToThread function's context is cancelled. It
// runs on the loop; it stops a stream's generator busy in some other await
// than yield when its consumer breaks off.
func (t *Task) interruptNow(err error) {
	t.interrupt = err
	if t.onInterrupt != nil {
		t.onInterrupt()
	}
	for c := t.children.head; c != nil; c = c.sib.next {
		t.l.cancelTask(c, err, cancelRequested)
	}
	t.l.wake(t)
}

// suspend parks the running task, which awaits in op, until the loop wakes it
// with wake (because what it awaits happened, or because it was cancelled).
// Callers re-check their condition and t.cancelErr after it returns.
func (t *Task) suspend(op string) {
	t.mustSuspend(op)
	t.state = taskSuspended
	if t.onSuspend != nil {
		t.onSuspend()
	}
	t.park(op)
}

// park ends t's step and yields to the loop until t is resumed.
func (t *Task) park(op string) {
	t.waitOp, t.firstStep = op, false
	t.stepEnds()
	t.c.yield(struct{}{})
	t.stepBegins()
	t.waitOp, t.waitOn = "", nil
}

// yieldNow lets every other ready task run once before t goes on.
func (t *Task) yieldNow(op string) {
	t.mustSuspend(op)
	t.state = taskSuspended
	if t.onSuspend != nil {
		t.onSuspend()
	}
	t.l.wake(t)
	t.park(op)
}

// mustSuspend panics where suspending would break something. Inside NoAwait
// it would leave foreign code's call half done. From a goroutine that holds
// t while t's step runs it would switch coroutines from the wrong goroutine,
// which the runtime treats as a fatal error (an unpinned loop would run two
// steps at once): on a pinned loop the thread tells that goroutine apart; an
// unpinned loop has no cheap way to tell and relies on mustRun alone.
func (t *Task) mustSuspend(op string) {
	if t.noAwait > 0 {
		panic("aio: " + op + " inside NoAwait: a task must not await in foreign code that called back into Go (a cgo callback, a goja call); start a task with Go or Spawn and let the foreign code go on")
	}
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
	return goChild(t, fn, childOpts{})
}

// goChild starts fn as a task that t's code waits for or owns.
func goChild[T any](t *Task, fn func(*Task) (T, error), opts childOpts) *Future[T] {
	l := t.l
	f := &Future[T]{l: l, fn: fn, pctx: t.pctx}
	if fn == nil {
		f.settleNow(*new(T), invalid("Go: nil function"), nil)
		return f
	}
	pctx := t.pctx
	if opts.detached {
		pctx = context.WithoutCancel(t.context())
	}
	c := l.newTask(f, pctx)
	c.opts = opts
	if !opts.detached {
		c.parent = t
		c.deadline = t.deadline
	}
	if d := opts.deadline; !d.IsZero() && (c.deadline.IsZero() || d.Before(c.deadline)) {
		c.deadline = d
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

// startTask registers t as live and makes it ready. It runs on the loop.
func (l *Loop) startTask(t *Task) {
	l.nextID++
	t.id = l.nextID
	t.started, t.firstStep = l.now(), true
	l.stats.started++
	l.tasks.push(t, liveLink)
	if p := t.parent; p != nil {
		p.children.push(t, sibLink)
		if p.cancelErr != nil {
			l.cancelTask(t, p.cancelErr, cancelKindOf(p))
		}
	}
	if t.cancelErr == nil && (l.shut.cancelled || l.shut.hard) {
		kind := cancelClosing
		if l.shut.hard {
			kind = cancelHard
		}
		l.cancelTask(t, context.Canceled, kind)
	}
	t.state = taskSuspended
	l.wake(t)
}

// endTask unregisters t when its function has returned, on the loop: its
// context ends (unless it lives on for a resource), and so do its
// children's.
func (l *Loop) endTask(t *Task) {
	if t.state == taskDone {
		return // a Goexit that went on after a panic was recovered
	}
	t.state = taskDone
	l.stats.ended++
	l.tasks.remove(t, liveLink)
	if p := t.parent; p != nil {
		p.children.remove(t, sibLink)
	}
	t.body.stopWatching()
	if t.timer != nil {
		l.timers.remove(t.timer)
	}
	if t.cancelCtx != nil {
		t.cancelCtx(errTaskEnded)
	}
	for c := t.children.head; c != nil; {
		next := c.sib.next
		l.cancelTask(c, context.Canceled, cancelRequested)
		c.parent, c.sib = nil, taskLink{}
		c = next
	}
	t.children = taskList{}
}

var errTaskEnded = errors.New("aio: task ended")

// wake makes a suspended task ready to run.
func (l *Loop) wake(t *Task) {
	if t.state != taskSuspended {
		return
	}
	t.state = taskReady
	l.runq.push(t)
}

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
