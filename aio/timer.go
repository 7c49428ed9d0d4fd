package aio

import (
	"container/heap"
	"context"
	"math"
	"time"
)

// A timer wakes task at when (ns since the loop's epoch). Timers live in the
// loop's heap and are loop-owned.
type timer struct {
	when  int64
	task  *Task // woken when the timer fires
	index int   // in the heap, or -1
	armed bool  // in the heap
	fired bool
}

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

// fireTimers fires every timer due at now.
func (l *Loop) fireTimers(now int64) {
	for {
		tm := l.timers.peek()
		if tm == nil || tm.when > now {
			return
		}
		heap.Pop(&l.timers)
		tm.armed, tm.fired = false, true
		l.wake(tm.task)
	}
}

// Sleep suspends t for d, letting other tasks run. It returns nil after d, or
// the context's error at once if t is or gets cancelled. Sleep(t, 0) lets every
// other ready task run once. Sleep must be called by t itself.
func Sleep(t *Task, d time.Duration) error {
	t.mustRun("Sleep")
	if t.cancelErr != nil {
		return t.cancelErr
	}
	if d <= 0 {
		t.yieldNow("Sleep")
		return t.cancelErr
	}
	l := t.l
	if t.timer == nil {
		t.timer = &timer{task: t}
	}
	tm := t.timer
	now := l.now()
	tm.when = now + int64(d)
	if tm.when < now { // overflow: "forever"
		tm.when = math.MaxInt64
	}
	l.timers.add(tm)
	for {
		// Cancellation first: a task cancelled while the loop was too busy
		// to resume it before its timer fired must still see the error.
		if t.cancelErr != nil {
			l.timers.remove(tm)
			return t.cancelErr
		}
		if tm.fired {
			return nil
		}
		t.suspend("Sleep")
	}
}

// Timeout runs fn as a child task of t whose context has a deadline d from
// now, waits for it, and returns its outcome. When the deadline passes, the
// child is cancelled: its current or next await returns
// context.DeadlineExceeded, and so does Timeout (errors.Is). Use it to bound
// any await: Timeout(t, d, func(t *Task) (T, error) { return Await(t, f) }).
// If fn panics, Timeout panics with its *[PanicError]. Timeout must be called
// by t itself.
func Timeout[T any](t *Task, d time.Duration, fn func(*Task) (T, error)) (T, error) {
	t.mustRun("Timeout")
	f := goChild(t, fn, time.Now().Add(d))
	if child := f.task; child != nil {
		// The child's context enforces the deadline; the loop hears of it
		// only once that context is done, so no await of the child returns
		// context.DeadlineExceeded before its context says so.
		l, ctx := t.l, child.context()
		stop := context.AfterFunc(ctx, func() {
			if context.Cause(ctx) != errTaskEnded {
				l.postCancel(f, nil, ctx)
			}
		})
		defer stop()
	}
	awaitSettled(t, f)
	return f.result()
}
