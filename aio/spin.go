package aio

import (
	"sync/atomic"
	"time"
)

// idleWait is what the loop does when it has nothing to run: spin for a
// short while in case more work comes, then park until work is posted or
// the next timer is due. It spins only after a round that ran work posted
// by other goroutines, which often post again at once (a caller's next
// Run); a round woken by a timer alone is no sign of that, and a loop whose
// only work is timers parks straight away, costing what a sleeping
// goroutine costs.
func (l *Loop) idleWait() {
	timeout := time.Duration(-1)
	if tm := l.timers.peek(); tm != nil {
		timeout = max(0, time.Duration(tm.when-l.now()))
	}
	if timeout == 0 {
		return
	}
	sawWork := l.sawWork
	l.sawWork = false
	if spin := l.cfg.spin; sawWork && spin > 0 && (timeout < 0 || timeout > spin) {
		if l.inbox.spinFor(spin, &l.waitrs.yieldEvery) {
			return
		}
		if timeout > 0 {
			timeout -= spin
		}
	}
	l.stats.publish(l)
	l.inbox.park(timeout)
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
	return spin(l.cfg.spin, cond, &l.waitrs.yieldEvery)
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
