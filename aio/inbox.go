package aio

import (
	"sync/atomic"
	"time"
)

// An item is work posted to a loop from any goroutine; it runs on the loop.
// Every item type embeds an itemLink, its place in the inbox, so posting
// allocates nothing more; an item is in the inbox at most once at a time.
type item interface {
	runOnLoop(l *Loop)
	link() *itemLink
}

// An itemLink links an item into the inbox's list.
type itemLink struct {
	next *itemLink
	self item // the item this link is part of, while it is queued
}

func (k *itemLink) link() *itemLink { return k }

// An inbox is the multi-producer, single-consumer queue through which other
// goroutines hand work to the loop, together with the loop's parking spot.
//
// It is lock-free: producers push onto a stack with one compare-and-swap on
// head, and the loop takes the whole stack with one swap and runs it in the
// order it was pushed. So a round trip moves two cache lines between the
// producer's CPU and the loop's, head and the item, where a mutex and a
// slice moved four. Closing for good swaps head to closedLink, which refuses
// every later push atomically with it.
//
// Wake-ups follow the eventcount pattern: a producer pushes, then reads
// sleeping; the loop sets sleeping, then reads head. Both are sequentially
// consistent, so at least one side sees the other and no wake-up is lost.
type inbox struct {
	head     atomic.Pointer[itemLink]
	posted   atomic.Int64 // items pushed so far: on head's line, which a producer holds already
	_        [48]byte     // keeps head, which every producer writes, on a line of its own
	taken    atomic.Int64 // items the loop has taken so far; only the loop writes it
	noWork   atomic.Bool  // refusing work from outside (postWork): the loop is closing
	sleeping uint32       // atomic; 1 while the loop parks or is about to; the futex word
	wake     chan struct{}
	sched    bool   // park on wake, not on the futex
	buf      []item // loop-owned: what drain returns, reused
}

// closedLink is head once the inbox takes nothing more.
var closedLink = new(itemLink)

func (q *inbox) init(sched bool) {
	q.wake = make(chan struct{}, 1)
	q.sched = sched || !haveFutex
}

// postWork queues new work from outside the loop (a task, a callback, a
// timer), and reports false once the loop has begun to close.
func (q *inbox) postWork(it item) bool {
	// A push that races with the loop's closing may still land: the loop
	// refuses such work itself when it runs it (shut.began).
	return !q.noWork.Load() && q.post(it)
}

// post queues it for the loop: a completion (settle, ToThread, Recv) or a
// control item. It reports false once the loop has stopped taking anything.
func (q *inbox) post(it item) bool {
	n := it.link()
	n.self = it
	q.posted.Add(1) // before the push, so that taken never passes it
	for {
		old := q.head.Load()
		if old == closedLink {
			n.self = nil
			q.posted.Add(-1)
			return false
		}
		n.next = old
		if q.head.CompareAndSwap(old, n) {
			break
		}
	}
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

// depth returns how many items are queued: pushed, not yet taken. It is
// safe from any goroutine; reading taken first keeps it from going negative.
func (q *inbox) depth() int {
	taken := q.taken.Load()
	return int(max(q.posted.Load()-taken, 0))
}

// pending reports whether items are queued.
func (q *inbox) pending() bool {
	h := q.head.Load()
	return h != nil && h != closedLink
}

// closeWork stops the inbox taking work from outside (postWork).
func (q *inbox) closeWork() { q.noWork.Store(true) }

// closeAll stops the inbox taking anything, and returns what is still
// queued, in order, for the loop to run. Only the loop calls it (or the
// goroutine discarding a loop that never served).
func (q *inbox) closeAll() []item {
	q.noWork.Store(true)
	return q.unlink(q.head.Swap(closedLink))
}

// drain returns the queued items in order, or nil. Only the loop calls it;
// the slice is valid until the next drain, and the loop clears it once it
// has run the items, so that nothing of them stays reachable.
func (q *inbox) drain() []item {
	if !q.pending() {
		return nil
	}
	return q.unlink(q.head.Swap(nil)) // only the loop closes, so head is not closedLink
}

// unlink turns a stack taken from head into its items, oldest first, and
// frees every link for its item's next post.
func (q *inbox) unlink(h *itemLink) []item {
	items := q.buf[:0]
	for n := h; n != nil && n != closedLink; {
		next := n.next
		items = append(items, n.self)
		n.next, n.self = nil, nil
		n = next
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	q.taken.Add(int64(len(items)))
	q.buf = items
	return items
}

// spinFor polls for work for up to d and reports whether some arrived.
func (q *inbox) spinFor(d time.Duration, every *atomic.Int32) bool {
	return d > 0 && spin(d, q.pending, every)
}

// park blocks the loop until work is posted or, if timeout >= 0, timeout has
// passed.
func (q *inbox) park(timeout time.Duration) {
	atomic.StoreUint32(&q.sleeping, 1)
	if q.pending() {
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
