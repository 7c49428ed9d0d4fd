package aio

import (
	"context"
	"sync"
	"sync/atomic"
)

// Do runs fn on the loop as a callback and waits until it has run: Post and
// the wait for it, for a goroutine that needs fn done before it goes on
// (what a user of goja_nodejs's RunOnLoop does with a channel). It waits as
// [Call] does, spinning and then in a futex the loop wakes; a channel would
// cost more: a goroutine that a callback wakes by sending on a channel is
// made runnable on the loop's own P, where it waits until another P takes
// it, tens of microseconds on a pinned loop (see the README's Limits).
//
// If ctx ends before fn has started, fn never runs and Do returns ctx's
// error; once fn has started, Do waits for it. If fn panics, Do panics with
// its *[PanicError], as [Call] does with a task's; if it calls
// runtime.Goexit, so does Do. Do returns [ErrClosed] once the loop has begun
// to close, [ErrInvalid] for a nil fn, and, called on the loop's own thread
// (from a task or callback), [ErrLoopThread]. It is safe to call from any
// number of goroutines at once and allocates nothing in the steady state.
func (l *Loop) Do(ctx context.Context, fn func()) error {
	switch {
	case l == nil:
		return invalid("Do: nil *Loop")
	case fn == nil:
		return invalid("Do: nil function")
	case ctx == nil:
		return invalid("Do: nil context")
	case ctx.Err() != nil:
		return ctx.Err()
	}
	d := doRecords.Get().(*doRecord)
	d.fut.l, d.fn = l, fn
	if !l.inbox.postWork(d) {
		d.reset()
		return l.refusal()
	}
	slot := l.holdSlot()
	if l.spinUntil(&d.fut.state, slot) {
		if slot {
			l.releaseSlot()
		}
		return d.done()
	}
	if slot {
		defer l.releaseSlot()
	}
	if l.onLoopThread() && d.withdraw() {
		return ErrLoopThread
	}
	if !blockOn(&d.fut.state, d.fut.Done, ctx.Done(), slot) {
		if d.withdraw() {
			return ctx.Err() // fn never runs; the record stays with the loop
		}
		blockOn(&d.fut.state, d.fut.Done, nil, slot) // fn runs: wait for it
	}
	_, err := d.fut.result()
	return err
}

// A doRecord is one Do: posted to the loop, run as a callback, waited for
// on its future's state word. Records of Dos that took the fast path are
// reused, as Call's futures are.
type doRecord struct {
	itemLink
	fut   Future[struct{}] // its state word and outcome; never a task's
	fn    func()
	start atomic.Int32 // doPending, doRunning or doWithdrawn
	run   func()       // d.callback, bound once
}

const (
	doPending int32 = iota
	doRunning
	doWithdrawn
)

var doRecords = sync.Pool{New: func() any {
	d := &doRecord{}
	d.fut.reusable = true
	d.fut.retrieved.Store(true) // Do hands the outcome over itself
	d.run = d.callback
	return d
}}

func (d *doRecord) runOnLoop(l *Loop) {
	if l.shut.discarded {
		// Closed before it served: no thread of the loop's will run fn.
		if d.start.CompareAndSwap(doPending, doRunning) {
			d.fut.settle(struct{}{}, l.refusal(), nil)
		}
		return
	}
	l.callbacks.push(d.run)
}

// callback runs fn, unless Do withdrew it, and settles the record. It runs
// on the loop's callback coroutine.
func (d *doRecord) callback() {
	if !d.start.CompareAndSwap(doPending, doRunning) {
		return
	}
	pe := catch(d.fn, func() {
		d.fut.l.goexitTold = true
		d.fut.settle(struct{}{}, errGoexit, nil)
	})
	d.fut.settle(struct{}{}, nil, pe)
}

// withdraw takes fn back if it has not started, and reports whether it did.
func (d *doRecord) withdraw() bool { return d.start.CompareAndSwap(doPending, doWithdrawn) }

// done hands the outcome of a fast-path Do over and puts the record back.
func (d *doRecord) done() error {
	if d.fut.pe != nil || d.fut.err == errGoexit {
		_, err := d.fut.result()
		return err
	}
	if d.fut.loopDone.Load() { // else the loop may still be settling it: not reused
		d.reset()
	}
	return nil
}

func (d *doRecord) reset() {
	d.fn, d.fut.l = nil, nil
	d.fut.loopDone.Store(false)
	d.start.Store(doPending)
	atomic.StoreUint32(&d.fut.state, futurePending)
	doRecords.Put(d)
}
