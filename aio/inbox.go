package aio

import (
	"sync"
	"sync/atomic"
	"time"
)

// An item is work posted to a loop from any goroutine; it runs on the loop.
type item interface {
	runOnLoop(l *Loop)
}

// An inbox is the multi-producer, single-consumer queue through which other
// goroutines hand work to the loop, together with the loop's parking spot.
//
// Wake-ups follow the eventcount pattern: a producer publishes its item, sets
// pending, then reads sleeping; the loop sets sleeping, then reads pending.
// Both are sequentially consistent, so at least one side sees the other and no
// wake-up is lost.
type inbox struct {
	mu       sync.Mutex // guards items, external and internal
	items    []item
	external bool // accepting work from outside the loop (Spawn, Call)
	internal bool // accepting completions (settle, ToThread, Recv)

	pending  atomic.Bool   // items may be non-empty
	sleeping uint32        // atomic; 1 while the loop parks or is about to; the futex word
	wake     chan struct{} // parking spot when parking in the scheduler
	spare    []item        // loop-owned: the buffer swapped in by drain
	sched    bool          // park on wake, not on the futex
}

func (q *inbox) init(sched bool) {
	q.external, q.internal = true, true
	q.wake = make(chan struct{}, 1)
	q.sched = sched || !haveFutex
}

// post queues it for the loop. It reports false if the inbox no longer takes
// that kind of work (external: new tasks; internal: completions).
func (q *inbox) post(it item, external bool) bool {
	q.mu.Lock()
	if !q.internal || (external && !q.external) {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.pending.Store(true)
	if atomic.LoadUint32(&q.sleeping) != 0 {
		q.wakeup()
	}
	return true
}

func (q *inbox) wakeup() {
	if !atomic.CompareAndSwapUint32(&q.sleeping, 1, 0) {
		return
	}
	if q.sched {
		select {
		case q.wake <- struct{}{}:
		default:
		}
		return
	}
	futexWake(&q.sleeping, 1)
}

// close stops the inbox taking external work, or any work. It returns what is
// still queued when it stops taking everything, for the loop to run.
func (q *inbox) close(all bool) []item {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.external = false
	if !all {
		return nil
	}
	q.internal = false
	items := q.items
	q.items = nil
	return items
}

// drain returns the queued items in order, or nil. Only the loop calls it; the
// slice is valid until the next drain.
func (q *inbox) drain() []item {
	if !q.pending.Load() {
		return nil
	}
	q.pending.Store(false)
	clear(q.spare) // let go of the items run last time
	q.mu.Lock()
	items := q.items
	q.items = q.spare[:0]
	q.mu.Unlock()
	q.spare = items
	return items
}

// spinFor polls for work for up to d and reports whether some arrived.
func (q *inbox) spinFor(d time.Duration, every *atomic.Int32) bool {
	return d > 0 && spin(d, q.pending.Load, every)
}

// park blocks the loop until work is posted or, if timeout >= 0, timeout has
// passed.
func (q *inbox) park(timeout time.Duration) {
	atomic.StoreUint32(&q.sleeping, 1)
	if q.pending.Load() {
		atomic.StoreUint32(&q.sleeping, 0)
		return
	}
	if q.sched {
		q.parkSched(timeout)
	} else {
		futexWait(&q.sleeping, 1, timeout)
	}
	atomic.StoreUint32(&q.sleeping, 0)
}

func (q *inbox) parkSched(timeout time.Duration) {
	if timeout < 0 {
		<-q.wake
		return
	}
	t := time.NewTimer(timeout)
	select {
	case <-q.wake:
		t.Stop()
	case <-t.C:
	}
	// A wakeup that lost the race with the timer leaves a token behind; it
	// only causes one spurious wake-up, which the loop tolerates.
}
