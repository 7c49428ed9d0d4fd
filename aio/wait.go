package aio

import (
	"sync/atomic"
	"time"
)

// How a goroutine off the loop waits for the loop:
//
// A goroutine parked in the Go scheduler (on a channel) is woken by the loop
// into the loop's own P, where it waits until another P steals it or the loop
// gives its P up; on a pinned loop that can take tens of microseconds. So a
// waiter first spins, then sleeps in a futex on the future's state word,
// which the loop wakes with one system call and which resumes the waiter on
// its own thread. Both hold the waiter's P meanwhile (a thread in a system
// call keeps its P until the runtime takes it back), so only as many waiters
// as there are Ps besides the loop's may do so at once: they take a slot with
// holdSlot. The others, and a waiter past sleepBudget, park on a channel: with
// many waiters the Ps are busy running them anyway, and a parked goroutine
// frees its P at once.
const (
	sleepBudget = 5 * time.Millisecond
	sleepChunk  = 250 * time.Microsecond
)

// waiterSlots counts the waiters that spin or sleep in a futex (holdSlot),
// and how often spinners yield the CPU (see spin). Both are written by
// waiters on other CPUs, so they sit on a cache line away from the loop's.
type waiterSlots struct {
	_          [64]byte
	holders    atomic.Int32
	yieldEvery atomic.Int32
	_          [56]byte
}

// holdSlot takes one of the slots of waiters that may spin or sleep in a
// futex, and reports whether it got one; release it with releaseSlot.
func (l *Loop) holdSlot() bool {
	if l == nil || l.cfg.schedPark {
		return false
	}
	if l.waitrs.holders.Add(1) > l.cfg.maxHolders {
		l.waitrs.holders.Add(-1)
		return false
	}
	return true
}

func (l *Loop) releaseSlot() { l.waitrs.holders.Add(-1) }

// blockOn waits, off the loop, until the future whose state word is state
// settles, or ctxDone is closed; it reports whether the future settled. done
// returns the future's Done channel. With a slot, it sleeps in a futex first.
func blockOn(state *uint32, done func() <-chan struct{}, ctxDone <-chan struct{}, slot bool) bool {
	if slot && haveFutex && sleepOn(state, ctxDone) {
		return true
	}
	if atomic.LoadUint32(state) == futureDone {
		return true
	}
	if ctxDone == nil {
		// A plain receive: a goroutine parked here keeps a smaller stack
		// than one parked in a select (many may wait for a long time, one
		// per pending promise of a JavaScript bridge, say).
		<-done()
		return true
	}
	select {
	case <-done():
		return true
	case <-ctxDone:
		return atomic.LoadUint32(state) == futureDone
	}
}

// sleepOn is blockOn's futex phase. It reports whether the future settled.
func sleepOn(state *uint32, ctxDone <-chan struct{}) bool {
	for waited := time.Duration(0); waited < sleepBudget; waited += sleepChunk {
		s := atomic.LoadUint32(state)
		if s == futureDone {
			return true
		}
		if s == futurePending && !atomic.CompareAndSwapUint32(state, futurePending, futureSleeping) {
			continue // settled meanwhile
		}
		futexWait(state, futureSleeping, sleepChunk)
		if atomic.LoadUint32(state) == futureDone {
			return true
		}
		select {
		case <-ctxDone:
			return false
		default:
		}
	}
	return false
}

// A bell lets the loop wake one goroutine off the loop that waits for it to
// do something (a Stream's consumer waiting for a batch). Like blockOn, the
// waiter first sleeps in a futex on the bell's word, then parks on a channel.
type bell struct {
	word     uint32        // atomic: how many times the bell rang; a futex word
	sleepers atomic.Int32  // waiters in the futex phase
	ch       chan struct{} // size 1: the channel phase
}

func newBell() *bell { return &bell{ch: make(chan struct{}, 1)} }

// rung returns the bell's count, to pass to wait.
func (b *bell) rung() uint32 { return atomic.LoadUint32(&b.word) }

// ring wakes the waiter, if any. It never blocks.
func (b *bell) ring() {
	atomic.AddUint32(&b.word, 1)
	if haveFutex && b.sleepers.Load() > 0 {
		futexWake(&b.word, 1)
	}
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

// wait blocks until the bell has rung since it returned seen, or ctxDone is
// closed; with a slot (holdSlot), it sleeps in a futex first. A ring may be
// stale (from before seen): callers re-check their condition.
func (b *bell) wait(seen uint32, ctxDone <-chan struct{}, slot bool) {
	if slot && haveFutex {
		// Dekker with ring: count the sleeper, then look at the word.
		b.sleepers.Add(1)
		for waited := time.Duration(0); waited < sleepBudget; waited += sleepChunk {
			if b.rung() != seen {
				b.sleepers.Add(-1)
				return
			}
			futexWait(&b.word, seen, sleepChunk)
			select {
			case <-ctxDone:
				b.sleepers.Add(-1)
				return
			default:
			}
		}
		b.sleepers.Add(-1)
		if b.rung() != seen {
			return
		}
	}
	select {
	case <-b.ch:
	case <-ctxDone:
	}
}
