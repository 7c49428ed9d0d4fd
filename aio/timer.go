package aio

import (
	"container/heap"
	"math"
	"sync/atomic"
	"time"
)

// A timer is an entry of the loop's timer heap, due at when (ns since the
// loop's epoch): a task's Sleep, which wakes task, or an AfterFunc, which
// runs fn as a callback. Timers in the heap are loop-owned; an AfterFunc's
// state is shared with its stop function.
type timer struct {
	when  int64
	index int  // in the heap, while armed
	armed bool // in the heap
	fired bool
	task  *Task // Sleep: woken when the timer fires

	// AfterFunc only.
	l      *Loop
	fn     func()
	state  atomic.Int32 // a timer state: timerPending, ...
	posted itemLink     // in the inbox, to be armed
	rmLink itemLink     // in the inbox, to be taken out of the heap
}

// The states of an AfterFunc timer: it leaves pending once, for good.
const (
	timerPending int32 = iota
	timerStopped       // by its stop function
	timerFired         // its callback is due
	timerDropped       // the loop stopped first
)

// timerHeap is a min-heap of timers by when, through container/heap.
type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	tm := x.(*timer)
	tm.index = len(*h)
	*h = append(*h, tm)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	tm := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	tm.index = -1
	return tm
}

func (h *timerHeap) peek() *timer {
	if len(*h) == 0 {
		return nil
	}
	return (*h)[0]
}

func (h *timerHeap) add(tm *timer) {
	tm.armed, tm.fired = true, false
	heap.Push(h, tm)
}

func (h *timerHeap) remove(tm *timer) {
	if !tm.armed {
		return
	}
	heap.Remove(h, tm.index)
	tm.armed = false
}

// dropAll empties the heap when the loop stops: AfterFunc calls not yet due
// never run.
func (h *timerHeap) dropAll() {
	for _, tm := range *h {
		tm.armed = false
		if tm.fn != nil {
			tm.state.CompareAndSwap(timerPending, timerDropped)
		}
	}
	clear(*h)
	*h = nil
}

// fireTimers fires every timer due at now.
func (l *Loop) fireTimers(now int64) {
	for {
		tm := l.timers.peek()
		if tm == nil || tm.when > now {
			return
		}
		heap.Pop(&l.timers)
		tm.armed, tm.fired = false, true
		switch {
		case tm.task != nil:
			l.wake(tm.task)
		case tm.state.CompareAndSwap(timerPending, timerFired):
			l.callbacks.push(tm.fn)
		}
	}
}

// deadline returns the loop time d from now, saturating: a duration too long
// to represent means "never".
func (l *Loop) deadline(d time.Duration) int64 {
	now := l.now()
	when := now + int64(d)
	if when < now {
		when = math.MaxInt64
	}
	return when
}

// AfterFunc runs fn on the loop after d, as a callback (asyncio's call_later;
// see [Loop.Post] for what a callback may do), timed by the loop's own timer
// heap. stop cancels the call: it reports whether it stopped it, and returns
// false if the call has already been made or started, was stopped before, or
// was dropped because the loop stopped first (calls not yet due when the loop
// stops never run). AfterFunc and stop are safe to call from any goroutine,
// the loop's own included, and never block. On a loop that is closing or
// closed, fn never runs. A nil fn panics.
func (l *Loop) AfterFunc(d time.Duration, fn func()) (stop func() bool) {
	if fn == nil {
		panic("aio: Loop.AfterFunc called with a nil function")
	}
	tm := &timer{l: l, fn: fn, when: l.deadline(d)}
	switch {
	case l.onPinnedLoopThread() && !l.shut.began:
		// From the loop itself (a callback re-arming, a task): straight
		// into the heap. Posting would also count as work from outside,
		// after which the loop spins, which a loop whose work is timers
		// must not pay for.
		l.timers.add(tm)
	case !l.inbox.postWork(tm):
		tm.state.Store(timerDropped)
	}
	return tm.stop
}

// runOnLoop arms an AfterFunc timer, unless it was stopped on the way.
func (tm *timer) runOnLoop(l *Loop) {
	if l.shut.cancelled {
		tm.state.CompareAndSwap(timerPending, timerDropped)
		return
	}
	if tm.state.Load() == timerPending {
		l.timers.add(tm)
	}
}

func (tm *timer) stop() bool {
	if !tm.state.CompareAndSwap(timerPending, timerStopped) {
		return false
	}
	// Take it out of the heap now, rather than when it falls due, so that
	// timers set and stopped often (debouncing) do not pile up.
	if tm.l.onPinnedLoopThread() {
		tm.l.timers.remove(tm)
	} else {
		tm.l.inbox.post((*timerRemoval)(tm))
	}
	return true
}

func (tm *timer) link() *itemLink { return &tm.posted }

// A timerRemoval is a stopped AfterFunc timer, posted to be taken out of the
// heap.
type timerRemoval timer

func (r *timerRemoval) runOnLoop(l *Loop) { l.timers.remove((*timer)(r)) }
func (r *timerRemoval) link() *itemLink   { return &r.rmLink }

// Sleep suspends t for d, letting other tasks run. It returns nil after d, or
// the context's error at once if t is or gets cancelled. Sleep(t, 0) lets every
// other ready task run once. Sleep must be called by t itself.
func Sleep(t *Task, d time.Duration) error {
	t.mustRun("Sleep")
	if err := t.awaitErr(); err != nil {
		return err
	}
	if d <= 0 {
		t.yieldNow("Sleep")
		return t.awaitErr()
	}
	l := t.l
	if t.timer == nil {
		t.timer = &timer{task: t}
	}
	tm := t.timer
	tm.when = l.deadline(d)
	l.timers.add(tm)
	for {
		// Cancellation first: a task cancelled while the loop was too busy
		// to resume it before its timer fired must still see the error.
		if err := t.awaitErr(); err != nil {
			l.timers.remove(tm)
			return err
		}
		if tm.fired {
			return nil
		}
		t.waitOn = tm
		t.suspend("Sleep")
	}
}
