package aio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A Loop is an event loop: one goroutine, locked to its OS thread unless the
// loop is [Unpinned], that runs tasks one step at a time. Code on a loop needs
// no locks for state that only the loop touches, and a pinned loop keeps every
// step of every task on one OS thread, as thread-affine libraries require.
//
// A Loop is made by [NewLoop] (and run by [Loop.Serve]) or by [Start], or
// exists for the length of a call to [Run]. Work comes in from any goroutine
// through [Spawn] and [Call]. The zero value is not usable.
type Loop struct {
	id  uint64
	cfg config

	inbox inbox // work posted from other goroutines

	state      atomic.Int32             // a loopState
	tid        atomic.Int64             // OS thread of a pinned loop, once it runs
	goid       atomic.Uint64            // id of the loop goroutine, once it runs
	stepping   atomic.Bool              // task steps may be running (set around each batch)
	stepG      atomic.Uint64            // goid of the coroutine running a step (unpinned or SlowTask)
	stepSeq    atomic.Uint64            // counts steps (SlowTask only)
	stepInfo   atomic.Pointer[stepInfo] // the running step, for the watchdog (SlowTask only)
	statTasks  atomic.Int64             // published copy of tasks.n
	statSteps  atomic.Uint64            // published copy of steps
	_          [64]byte                 // keeps holders, written by waiters, off the loop's lines
	holders    atomic.Int32             // waiters holding a slot (holdSlot)
	yieldEvery atomic.Int32             // how often spinners yield the CPU (see spin)
	_          [56]byte
	started    chan struct{} // closed once Serve runs
	done       chan struct{} // closed when Serve returns
	err        error         // what Serve returns; written before done is closed
	epoch      time.Time

	// Loop-owned.
	current   atomic.Pointer[Task] // the task whose step runs; atomic so misuse checks from any goroutine are race-free
	freeTasks taskQueue            // ended tasks, for reuse once quarantined
	nextID    uint64
	steps     uint64
	trackG    bool // publish stepG for every step
	runq      taskQueue
	timers    timerHeap
	tasks     taskList // live tasks
	idle      []*worker
	zombies   []*worker
	closing   bool
	threads   threadPool
	helpers   sync.WaitGroup // goroutines that post back to the loop (ToThread, Recv)
	panics    []unretrieved  // panicked futures nobody has retrieved yet
	panicsCap int            // compact panics when it reaches this length
}

type loopState int32

const (
	loopNew loopState = iota
	loopRunning
	loopClosing
	loopClosed
)

var loopIDs atomic.Uint64

// maxIdleWorkers bounds the coroutines kept for reuse.
const maxIdleWorkers = 256

// NewLoop returns a loop that does not run yet: [Loop.Serve] runs it on the
// calling goroutine. Work posted before then waits for Serve.
func NewLoop(opts ...Option) *Loop {
	l := &Loop{
		id:      loopIDs.Add(1),
		cfg:     newConfig(opts),
		started: make(chan struct{}),
		done:    make(chan struct{}),
		epoch:   time.Now(),
	}
	l.inbox.init(l.cfg.schedPark)
	l.threads.max = l.cfg.workers
	l.trackG = l.cfg.unpinned || l.cfg.slowAfter > 0
	l.yieldEvery.Store(maxYieldEvery)
	return l
}

// Start returns a new loop running on a goroutine of its own. It returns once
// the loop is running.
func Start(opts ...Option) *Loop {
	l := NewLoop(opts...)
	go l.Serve()
	<-l.started
	return l
}

// ID returns a number that identifies the loop within the process.
func (l *Loop) ID() uint64 { return l.id }

// Name returns the name given with [Name], or "loop-ID".
func (l *Loop) Name() string {
	if l.cfg.name != "" {
		return l.cfg.name
	}
	return fmt.Sprintf("loop-%d", l.id)
}

// String returns the loop's name.
func (l *Loop) String() string { return l.Name() }

// Logger returns the logger the loop reports to (see [Logger], [SlowTask]).
func (l *Loop) Logger() *slog.Logger { return l.cfg.logger }

// Pinned reports whether the loop locks its goroutine to one OS thread.
func (l *Loop) Pinned() bool { return !l.cfg.unpinned }

// ThreadID returns the id of the OS thread a pinned loop runs on (on Linux,
// what syscall.Gettid returns there), or 0 if the loop is not running yet, is
// unpinned, or the system offers no thread id.
func (l *Loop) ThreadID() int {
	if l.cfg.unpinned {
		return 0
	}
	return int(l.tid.Load())
}

// Stats is a snapshot of a loop's counters, for tests and diagnostics.
type Stats struct {
	Tasks int    // tasks started and not yet ended
	Steps uint64 // task steps run so far
}

// Stats returns the loop's counters. It is safe to call from any goroutine.
func (l *Loop) Stats() Stats {
	return Stats{Tasks: int(l.statTasks.Load()), Steps: l.statSteps.Load()}
}

// Done returns a channel that is closed when the loop has stopped and its
// goroutine has nothing left to do.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Serve runs the loop on the calling goroutine until [Loop.Close] or
// [Loop.Shutdown], and returns what Close returns. Unless the loop is
// [Unpinned], it locks the goroutine to its OS thread for the whole time.
// Calling Serve on a loop that already ran, or that was closed before it ran,
// returns [ErrClosed].
//
// If a task called runtime.Goexit, the Goexit goes on in the calling goroutine
// once the loop has stopped, as iter.Pull does with one in its sequence;
// except on the main goroutine, where that would end the program: there the
// task's coroutine is left parked, and logged.
func (l *Loop) Serve() error {
	if !l.state.CompareAndSwap(int32(loopNew), int32(loopRunning)) {
		return ErrClosed
	}
	if !l.cfg.unpinned {
		runtime.LockOSThread()
		l.tid.Store(int64(threadID()))
	}
	if l.tid.Load() == 0 {
		// No thread id to tell the loop's thread by: track goroutines.
		l.trackG = true
	}
	l.goid.Store(goid.Get())
	defer func() {
		l.state.Store(int32(loopClosed))
		close(l.done)
	}()
	defer func() {
		if !l.cfg.unpinned {
			runtime.UnlockOSThread()
		}
	}()
	close(l.started)
	if l.cfg.slowAfter > 0 {
		stop := l.watchSlowSteps()
		defer stop()
	}
	l.run()
	l.teardown()
	return l.err
}

// run is the loop: run what was posted, fire due timers, step ready tasks, and
// when there is nothing to do, spin briefly and then park.
func (l *Loop) run() {
	for {
		for _, it := range l.inbox.drain() {
			it.runOnLoop(l)
		}
		if len(l.timers) > 0 {
			l.fireTimers(l.now())
		}
		l.runReady()
		if l.closing && l.tasks.n == 0 && l.threads.running == 0 {
			return
		}
		if l.runq.len() > 0 || l.inbox.pending.Load() {
			continue
		}
		l.idleWait()
	}
}

// runReady steps the tasks that are ready now; tasks they wake wait for the
// next round, after the inbox has been looked at again.
func (l *Loop) runReady() {
	n := l.runq.len()
	if n == 0 {
		return
	}
	l.stepping.Store(true)
	for ; n > 0; n-- {
		l.step(l.runq.pop())
	}
	l.stepping.Store(false)
	l.statSteps.Store(l.steps)
	l.statTasks.Store(int64(l.tasks.n))
}

// idleWait spins for a short while in case more work comes, then parks until
// work is posted or the next timer is due.
func (l *Loop) idleWait() {
	timeout := time.Duration(-1)
	if tm := l.timers.peek(); tm != nil {
		timeout = max(0, time.Duration(tm.when-l.now()))
	}
	if timeout == 0 {
		return
	}
	if spin := l.cfg.spin; spin > 0 && (timeout < 0 || timeout > spin) {
		if l.inbox.spinFor(spin, &l.yieldEvery) {
			return
		}
		if timeout > 0 {
			timeout -= spin
		}
	}
	l.inbox.park(timeout)
}

// now returns monotonic nanoseconds since the loop was made.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// step resumes t until it suspends or ends.
func (l *Loop) step(t *Task) {
	w := t.w
	if w == nil {
		w = l.getWorker()
		w.task = t
		t.w = w
	}
	t.state = taskRunning
	l.current.Store(t)
	l.steps++
	if l.trackG {
		l.stepG.Store(w.goid)
	}
	if l.cfg.slowAfter > 0 {
		info := &stepInfo{seq: l.stepSeq.Add(1), began: l.now(), t: t, id: t.id, body: t.body, goid: w.goid}
		l.stepInfo.Store(info)
		w.next()
		l.stepInfo.Store(nil)
		l.reportSlowStep(info)
	} else {
		w.next()
	}
	if l.trackG {
		l.stepG.Store(0)
	}
	l.current.Store(nil)
	if len(l.threads.submitted) > 0 {
		l.threads.dispatch(l)
	}
	switch w.state {
	case workerFinished:
		w.task = nil
		l.putWorker(w)
		l.freeTask(t)
	case workerZombie:
		w.task = nil
		l.zombies = append(l.zombies, w)
	}
}

func (l *Loop) getWorker() *worker {
	if n := len(l.idle); n > 0 {
		w := l.idle[n-1]
		l.idle = l.idle[:n-1]
		return w
	}
	return newWorker(l)
}

func (l *Loop) putWorker(w *worker) {
	if len(l.idle) < maxIdleWorkers && !l.closing {
		w.state = workerSuspended
		l.idle = append(l.idle, w)
		return
	}
	w.stop()
}

// startTask registers t as live and makes it ready. It runs on the loop.
func (l *Loop) startTask(t *Task) {
	l.nextID++
	t.id = l.nextID
	l.tasks.pushLive(t)
	if p := t.parent; p != nil {
		p.children.pushChild(t)
		if p.cancelErr != nil {
			l.cancelTask(t, p.cancelErr, p.closed)
		}
	}
	if l.closing && t.cancelErr == nil {
		l.cancelTask(t, context.Canceled, true)
	}
	t.state = taskSuspended
	l.wake(t)
}

// endTask unregisters t when its function has returned, on the loop: its
// context ends, and so do its children's.
func (l *Loop) endTask(t *Task) {
	if t.state == taskDone {
		return // a Goexit that went on after a panic was recovered
	}
	t.state = taskDone
	l.tasks.removeLive(t)
	if p := t.parent; p != nil {
		p.children.removeChild(t)
	}
	t.body.stopWatching()
	if t.timer != nil {
		l.timers.remove(t.timer)
	}
	if t.cancelCtx != nil {
		t.cancelCtx(errTaskEnded)
	}
	for c := t.children.head; c != nil; {
		next := c.sibNext
		l.cancelTask(c, context.Canceled, false)
		c.parent, c.sibPrev, c.sibNext = nil, nil, nil
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

// cancelTask cancels t and its children with err, on the loop.
func (l *Loop) cancelTask(t *Task, err error, closed bool) {
	if t.state == taskDone {
		return
	}
	if t.cancelErr != nil {
		// Already cancelled: wake it anyway, in case it went back to sleep
		// (awaits re-check their condition, so a spare wake-up is harmless).
		l.wake(t)
		return
	}
	t.cancelErr, t.closed = err, closed
	t.endContext(err, t.cancelCause())
	for c := t.children.head; c != nil; c = c.sibNext {
		l.cancelTask(c, err, closed)
	}
	l.wake(t)
}

// A canceller is a future whose task can be cancelled from outside the loop.
type canceller interface {
	taskOf() *Task
}

type cancelItem struct {
	f   canceller
	err error
}

func (c *cancelItem) runOnLoop(l *Loop) {
	if t := c.f.taskOf(); t != nil {
		l.cancelTask(t, c.err, false)
	}
}

// postCancel asks the loop to cancel f's task, if it still runs. If err is
// nil, the error is taken from ctx.
func (l *Loop) postCancel(f canceller, err error, ctx context.Context) {
	if err == nil {
		err = ctx.Err()
	}
	l.inbox.post(&cancelItem{f: f, err: err}, false)
}

// InLoop reports whether the caller is code running on l: one of its tasks.
// A blocking call there would deadlock; the blocking functions of this package
// use it to return [ErrLoopThread] instead. It is safe to call from any
// goroutine; it costs a system call on a busy pinned loop and a few
// microseconds on a busy unpinned one.
func (l *Loop) InLoop() bool { return l.onLoopThread() }

// InToThread reports whether the caller is a function that [ToThread] runs
// for l. Such a function may call into l ([Call], [Spawn]), but not close it:
// closing waits for every ToThread function to return. It costs a few
// microseconds once l has run a ToThread function.
func (l *Loop) InToThread() bool { return l != nil && l.threads.isWorker() }

// onLoopThread reports whether the caller runs on the loop's goroutine or one
// of its task coroutines, where a blocking call on the loop would deadlock.
func (l *Loop) onLoopThread() bool {
	if l == nil || !l.stepping.Load() {
		// No step runs, so no task code runs: the caller is elsewhere.
		return false
	}
	if !l.cfg.unpinned {
		if tid := l.tid.Load(); tid != 0 {
			return int64(threadID()) == tid
		}
	}
	g := l.stepG.Load()
	return g != 0 && goid.Get() == g
}

// spinUntil polls a future's state word for up to the loop's spin time and
// reports whether the future settled. Only a waiter with a slot spins.
func (l *Loop) spinUntil(state *uint32, slot bool) bool {
	if atomic.LoadUint32(state) == futureDone {
		return true
	}
	return slot && l.spinFor(func() bool { return atomic.LoadUint32(state) == futureDone })
}

// spinFor polls cond for up to the loop's spin time and reports whether it
// became true. It does not spin for a nil loop or when spinning is off.
func (l *Loop) spinFor(cond func() bool) bool {
	if l == nil || l.cfg.spin <= 0 {
		return false
	}
	return spin(l.cfg.spin, cond, &l.yieldEvery)
}

// spin polls cond for up to d and reports whether it became true. It looks at
// the clock every 64 polls. It also yields the CPU now and then, so that a
// spinner never holds for long a CPU that whoever it waits for needs: every
// yieldEvery polls (adapted in *every, if not nil). When a yield takes long,
// another thread ran on this CPU (the one waited for, on a crowded machine):
// yields then come sooner, down to every 64 polls; when they return at once,
// later, up to every 4096, so that on a machine with CPUs to spare a spinner
// rarely sits in the system call when what it waits for happens. It also
// stops after one poll per nanosecond of d, in case the clock stands still (as
// it does in a testing/synctest bubble while goroutines run).
func spin(d time.Duration, cond func() bool, every *atomic.Int32) bool {
	yieldEvery := int32(maxYieldEvery)
	if every != nil {
		yieldEvery = every.Load()
	}
	start := time.Now()
	next := int(yieldEvery)
	for i := 1; ; i++ {
		if cond() {
			return true
		}
		if i%64 != 0 {
			continue
		}
		now := time.Now()
		if now.Sub(start) >= d || i >= int(d) {
			return false
		}
		if i >= next {
			osYield()
			if time.Since(now) > crowdedYield {
				yieldEvery = max(minYieldEvery, yieldEvery/4)
			} else {
				yieldEvery = min(maxYieldEvery, yieldEvery*2)
			}
			if every != nil {
				every.Store(yieldEvery)
			}
			next = i + int(yieldEvery)
		}
	}
}

const (
	minYieldEvery = 64
	maxYieldEvery = 4096
	crowdedYield  = 2 * time.Microsecond // a yield this long let another thread run
)

// noteUnretrieved keeps a panicked future until the loop closes, so that a
// panic nobody retrieves is reported then. Futures whose panic was retrieved
// meanwhile are dropped whenever the list doubles, so that a loop whose tasks
// panic often (and whose callers recover) does not grow.
func (l *Loop) noteUnretrieved(u unretrieved) {
	if _, unseen := u.panicked(); !unseen {
		return
	}
	if len(l.panics) >= l.panicsCap {
		kept := l.panics[:0]
		for _, p := range l.panics {
			if _, unseen := p.panicked(); unseen {
				kept = append(kept, p)
			}
		}
		clear(l.panics[len(kept):])
		l.panics = kept
		l.panicsCap = max(64, 2*len(kept))
	}
	l.panics = append(l.panics, u)
}

// Close stops the loop and waits for it: new work is refused with
// [ErrClosed], every task is cancelled (its awaits return context.Canceled and
// its outcome is also ErrClosed) and awaited, running [ToThread] functions are
// waited for, and the loop's goroutine returns. It returns the panics of tasks
// that nobody retrieved, joined. Close is idempotent: later calls wait for the
// loop to stop and return the same. Called on the loop's own thread, or from
// a function ToThread runs for it (which Close would wait for), it returns
// [ErrLoopThread]. Closing a loop that never ran just marks it closed.
func (l *Loop) Close() error { return l.Shutdown(context.Background()) }

// Shutdown is [Loop.Close] bounded by ctx: if ctx ends before the loop has
// stopped, Shutdown returns ctx's error while the loop goes on stopping in the
// background (a task that never awaits cannot be stopped from outside).
func (l *Loop) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return invalid("Shutdown: nil context")
	}
	if l.onLoopThread() {
		return ErrLoopThread
	}
	if l.InToThread() {
		return fmt.Errorf("%w: Close from a ToThread function of the same loop, which waits for it", ErrLoopThread)
	}
	if l.Discard() {
		return nil
	}
	if l.state.CompareAndSwap(int32(loopRunning), int32(loopClosing)) {
		l.inbox.close(false)
		l.inbox.post(shutdownItem{}, false)
	}
	select {
	case <-l.done:
		return l.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Discard closes a loop that has never served, and reports whether it did.
// Work posted to it meanwhile fails with [ErrClosed] (tasks never run, their
// futures settle), and a later Serve returns ErrClosed at once. Discard does
// nothing to a loop that serves or has served, and returns false.
func (l *Loop) Discard() bool {
	if !l.state.CompareAndSwap(int32(loopNew), int32(loopClosed)) {
		return false
	}
	// No goroutine will ever serve the loop, so this one may run what was
	// posted, as the loop would have while closing.
	l.closing = true
	for _, it := range l.inbox.close(true) {
		it.runOnLoop(l)
	}
	close(l.started)
	close(l.done)
	return true
}

type shutdownItem struct{}

func (shutdownItem) runOnLoop(l *Loop) { l.beginShutdown() }

// beginShutdown cancels every live task; run returns once they have ended.
func (l *Loop) beginShutdown() {
	if l.closing {
		return
	}
	l.closing = true
	for t := l.tasks.head; t != nil; t = t.next {
		l.cancelTask(t, context.Canceled, true)
	}
}

// teardown runs after the last task: it stops taking work, runs what was
// still posted, waits for helper goroutines, reports unretrieved panics and
// stops the pooled coroutines. Zombie coroutines (runtime.Goexit) are stopped
// last, from deferred calls, because stopping one goes on with its Goexit in
// this goroutine.
func (l *Loop) teardown() {
	for {
		items := l.inbox.close(true)
		for _, it := range items {
			it.runOnLoop(l)
		}
		if len(items) == 0 {
			break
		}
	}
	l.threads.stop() // no job runs: run returned once they had all come back
	l.helpers.Wait()
	var errs []error
	for _, u := range l.panics {
		if pe, unseen := u.panicked(); unseen {
			l.cfg.logger.Error("aio: task panicked and nobody retrieved the panic",
				"loop", l.Name(), "task", u.taskName(), "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
			errs = append(errs, pe)
		}
	}
	l.panics = nil
	l.err = errors.Join(errs...)
	for _, w := range l.idle {
		w.stop()
	}
	l.idle = nil
	if len(l.zombies) == 0 {
		return
	}
	if l.goid.Load() == 1 {
		// The main goroutine (mainthread): a Goexit there would end the
		// program. The coroutines stay parked until the process exits.
		l.cfg.logger.Error("aio: tasks called runtime.Goexit; their coroutines stay parked, since the loop ran on the main goroutine",
			"loop", l.Name(), "tasks", len(l.zombies))
		return
	}
	for _, w := range l.zombies {
		defer w.stop()
	}
}
