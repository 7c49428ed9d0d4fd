package aio

// How a task awaits: every await ends in suspend (or yieldNow), which parks
// the task's coroutine until the loop wakes it; awaitErr tells the await
// why it was woken if it must give up; NoAwait and mustSuspend refuse to
// suspend where suspending would break something.

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

// interruptCarried ends an interrupt that arrived while t waited for its
// children to end (Timeout, Shield, Group.Wait, the close hooks): such a wait
// does not give up, it ends when the children the interrupt cancelled have;
// they carried it, so t's next await must not return it again.
func (t *Task) interruptCarried() { t.interrupt = nil }

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
