package aio

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A Loop is an event loop: one goroutine, locked to its OS thread unless the
// loop is [Unpinned], that runs tasks one step at a time, and callbacks
// between them. Code on a loop needs no locks for state that only the loop
// touches, and a pinned loop keeps every step of every task on one OS thread,
// as thread-affine libraries require.
//
// A Loop is made by [NewLoop] (and run by [Loop.Serve]) or by [Start], or
// exists for the length of a call to [Run]. Work comes in from any goroutine
// through [Spawn], [Call] and [Loop.Post]. The zero value is not usable.
type Loop struct {
	// Set by NewLoop, then only read.
	id      uint64
	cfg     config
	epoch   time.Time
	started chan struct{} // closed once Serve runs
	done    chan struct{} // closed when Serve returns

	inbox inbox // work posted by any goroutine; synchronizes itself

	// Atomics, read by any goroutine, written by the loop (state also by
	// Shutdown and Discard).
	state  atomic.Int32         // a loopState
	tid    atomic.Int64         // OS thread of a pinned loop, once it runs
	goid   atomic.Uint64        // id of the loop goroutine, once it runs
	busy   atomic.Bool          // user code may be running on the loop (set around each batch)
	userG  atomic.Uint64        // goid of the coroutine running user code (when trackG)
	curr   atomic.Pointer[Task] // the task whose step runs; atomic so misuse checks are race-free
	stats  loopStats
	watch  stepWatch // the running step, for SlowTask's watchdog
	waitrs waiterSlots

	// Written by the loop before done is closed; read after.
	err error

	// Loop-owned: only the loop goroutine and the coroutines it runs touch
	// these.
	trackG     bool // publish userG for every step
	nextID     uint64
	steps      uint64
	rounds     uint64 // of run's loop
	runq       ring[*Task]
	timers     timerHeap
	tasks      taskList // live tasks
	freeTasks  ring[*Task]
	idle       []*coro // coroutines for the next tasks
	zombies    []*coro // coroutines parked in a runtime.Goexit
	callbacks  ring[func()]
	cbCoro     *coro // runs callbacks
	reporting  bool  // a callback is logging (see coro.goexitCallback)
	goexitTold bool  // a callback's Goexit went to a caller (Do), not to the log
	sawWork    bool  // the inbox had work since the loop last parked
	shut       shutdown
	threads    threadPool
	helpers    sync.WaitGroup             // goroutines that post back to the loop (ToThread, Recv)
	panics     []*panicRecord             // panics nobody has retrieved yet
	panicsCap  int                        // compact panics when it reaches this length
	labels     map[string]context.Context // pprof label sets by task name (ProfileLabels)
	hooks      []*closeHook               // OnClose hooks, in order of registration
	hooksFired bool                       // the hooks have been taken to run
}

type loopState int32

const (
	loopNew loopState = iota
	loopRunning
	loopClosing
	loopClosed
)

var loopIDs atomic.Uint64

// maxIdleCoros bounds the coroutines kept for reuse.
const maxIdleCoros = 256

// NewLoop returns a loop that does not run yet: [Loop.Serve] runs it on the
// calling goroutine. Work posted before then waits for Serve. If opts
// conflict (see [Option]), the loop refuses all work with that error, and
// Serve returns it.
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
	l.waitrs.yieldEvery.Store(maxYieldEvery)
	if l.cfg.err != nil {
		l.discard()
	}
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

// Logger returns the logger the loop reports to (see [Logger]).
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

// Done returns a channel that is closed when the loop has stopped and its
// goroutine has nothing left to do.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Serve runs the loop on the calling goroutine until [Loop.Close] or
// [Loop.Shutdown], and returns what Close returns. Unless the loop is
// [Unpinned], it locks the goroutine to its OS thread for the whole time.
// Calling Serve on a loop that already ran, or that was closed before it ran,
// returns [ErrClosed] (or the loop's option error).
//
// If a task called runtime.Goexit, the Goexit goes on in the calling goroutine
// once the loop has stopped, as iter.Pull does with one in its sequence;
// except on the main goroutine, where that would end the program: there the
// task's coroutine is left parked, and logged.
func (l *Loop) Serve() error {
	if !l.state.CompareAndSwap(int32(loopNew), int32(loopRunning)) {
		return l.refusal()
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
	register(l)
	defer func() {
		unregister(l)
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

// run is the loop: run what was posted, fire due timers, run callbacks, step
// ready tasks, and when there is nothing to do, spin briefly and then park.
func (l *Loop) run() {
	for {
		l.runInbox()
		if l.timers.Len() > 0 {
			l.fireTimers(l.now())
		}
		l.runCallbacksOnCoro()
		l.runReady()
		if l.shut.finished(l) {
			return
		}
		if l.rounds++; l.rounds%statsEvery == 0 {
			l.stats.publish(l)
		}
		if l.runq.len() > 0 || l.callbacks.len() > 0 || l.inbox.pending() {
			continue
		}
		l.idleWait()
	}
}

// runInbox runs what other goroutines posted, then lets go of it, so that an
// idle loop keeps nothing of the last work reachable.
func (l *Loop) runInbox() {
	items := l.inbox.drain()
	if len(items) == 0 {
		return
	}
	l.sawWork = true
	for _, it := range items {
		it.runOnLoop(l)
	}
	clear(items)
}

// runReady steps the tasks that are ready now; tasks they wake wait for the
// next round, after the inbox has been looked at again.
func (l *Loop) runReady() {
	n := l.runq.len()
	if n == 0 {
		return
	}
	l.busy.Store(true)
	for ; n > 0; n-- {
		l.step(l.runq.pop())
	}
	l.busy.Store(false)
}

// now returns monotonic nanoseconds since the loop was made.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// step resumes t until it suspends or ends.
func (l *Loop) step(t *Task) {
	c := t.c
	if c == nil {
		c = l.getCoro()
		c.task = t
		t.c = c
	}
	t.state = taskRunning
	l.curr.Store(t)
	l.steps++
	l.resume(c, t)
	l.curr.Store(nil)
	if len(l.threads.submitted) > 0 {
		l.threads.dispatch(l)
	}
	switch c.state {
	case coroFinished:
		c.task = nil
		l.putCoro(c)
		l.freeTask(t)
	case coroZombie:
		c.task = nil
		l.zombies = append(l.zombies, c)
	}
}

// resume runs c until it yields, with c published as the coroutine that
// runs user code (for the re-entrancy checks of an unpinned loop) and, under
// SlowTask, the step watched. t is the task stepped, or nil for callbacks.
func (l *Loop) resume(c *coro, t *Task) {
	if l.trackG {
		l.userG.Store(c.goid)
	}
	if l.cfg.slowAfter > 0 {
		info := l.watch.begin(l, t, c.goid)
		c.next()
		l.watch.end(l, info)
	} else {
		c.next()
	}
	if l.trackG {
		l.userG.Store(0)
	}
}
