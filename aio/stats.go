package aio

import "sync/atomic"

// A Stats is a snapshot of a loop's counters, for dashboards, tests and
// diagnostics. The loop publishes them at least every statsEvery rounds of
// its work and whenever it parks, so they may lag a busy loop by a few
// rounds, and are exact when it is idle.
type Stats struct {
	Inbox     int    // work posted from other goroutines that the loop has not taken yet (read live)
	Tasks     int    // tasks started and not yet ended
	Started   uint64 // tasks started so far
	Ended     uint64 // tasks ended so far
	Steps     uint64 // task steps run so far
	Ready     int    // tasks ready to run, waiting for their turn
	Timers    int    // timers pending: Sleeps, Timeouts, AfterFunc calls, Select's After
	Callbacks uint64 // callbacks run so far (Post, AfterFunc, OnSettle)

	ToThreadRunning int // ToThread functions running now
	ToThreadQueued  int // ToThread calls waiting for a thread of the pool
	ToThreadIdle    int // threads of the pool waiting for a call
}

// statsEvery is how many rounds of work the loop runs between publishing
// its Stats: publishing costs a dozen atomic stores, which a loop that
// serves a call per round should not pay each time.
const statsEvery = 64

// loopStats is the loop's count of what Stats does not find elsewhere
// (loop-owned), and its published copy (atomics).
type loopStats struct {
	started, ended, callbacks uint64

	published struct {
		tasks, ready, timers                      atomic.Int64
		started, ended, steps, callbacks          atomic.Uint64
		threadsRunning, threadsQueued, threadIdle atomic.Int64
	}
}

// publish copies the loop's counters where any goroutine may read them. It
// runs on the loop.
func (s *loopStats) publish(l *Loop) {
	p := &s.published
	p.tasks.Store(int64(l.tasks.n))
	p.ready.Store(int64(l.runq.len()))
	p.timers.Store(int64(l.timers.Len()))
	p.started.Store(s.started)
	p.ended.Store(s.ended)
	p.steps.Store(l.steps)
	p.callbacks.Store(s.callbacks)
	p.threadsRunning.Store(int64(l.threads.running))
	p.threadsQueued.Store(int64(len(l.threads.queue) + len(l.threads.submitted)))
	p.threadIdle.Store(int64(len(l.threads.idle)))
}

// Stats returns the loop's counters. It is safe to call from any goroutine,
// and costs a dozen atomic loads. From the loop's own thread (a task or a
// callback) it is exact; from elsewhere all but Inbox may lag a busy loop
// by a few rounds (see [Stats]).
func (l *Loop) Stats() Stats {
	if l.onLoopThread() {
		l.stats.publish(l)
	}
	p := &l.stats.published
	return Stats{
		Inbox:           l.inbox.depth(),
		Tasks:           int(p.tasks.Load()),
		Started:         p.started.Load(),
		Ended:           p.ended.Load(),
		Steps:           p.steps.Load(),
		Ready:           int(p.ready.Load()),
		Timers:          int(p.timers.Load()),
		Callbacks:       p.callbacks.Load(),
		ToThreadRunning: int(p.threadsRunning.Load()),
		ToThreadQueued:  int(p.threadsQueued.Load()),
		ToThreadIdle:    int(p.threadIdle.Load()),
	}
}
