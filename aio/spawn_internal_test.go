package aio

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestCallRecordReusedOnlyAfterSettleReturns checks the rule that keeps a
// pooled Call or Do record from being woken by the settle of the call
// before: a caller that sees the outcome published while settle has not yet
// returned (it still looks at the Done channel's fields) hands the outcome
// over but does not put the record back; once settle has returned, it does.
// The interleaving is rare (the loop's thread must pause between the two),
// so the rule is checked here directly.
func TestCallRecordReusedOnlyAfterSettleReturns(t *testing.T) {
	l := NewLoop()
	defer l.Close()
	fn := func(*Task) (int, error) { return 7, nil }

	for _, settled := range []bool{false, true} {
		f := newCallRecord(l, fn, context.Background())
		f.val = 7
		atomic.StoreUint32(&f.state, futureDone)
		f.loopDone.Store(settled)
		if v, err := reuseCallRecord(f); v != 7 || err != nil {
			t.Errorf("settle returned %v: reuseCallRecord() = %v, %v; want 7, nil", settled, v, err)
		}
		if reused := f.fn == nil; reused != settled {
			t.Errorf("settle returned %v: the record was put back %v; want %v", settled, reused, settled)
		}

		d := doRecords.Get().(*doRecord)
		d.fut.l, d.fn = l, func() {}
		atomic.StoreUint32(&d.fut.state, futureDone)
		d.fut.loopDone.Store(settled)
		if err := d.done(); err != nil {
			t.Errorf("settle returned %v: done() = %v; want nil", settled, err)
		}
		if reused := d.fn == nil; reused != settled {
			t.Errorf("settle returned %v: the Do record was put back %v; want %v", settled, reused, settled)
		}
	}
}

// TestSettleSaysWhenItReturned checks that settle marks a reusable future
// as done with only as its last act, after it has looked at the Done
// channel a caller may have asked for.
func TestSettleSaysWhenItReturned(t *testing.T) {
	f := &Future[int]{reusable: true}
	done := f.Done()
	f.onDone = append(f.onDone, func() {
		if f.loopDone.Load() {
			t.Errorf("loopDone set while settle still ran its callbacks")
		}
	})
	f.settle(1, nil, nil)
	if !f.loopDone.Load() {
		t.Errorf("loopDone not set after settle returned")
	}
	select {
	case <-done:
	default:
		t.Errorf("settle did not close the Done channel")
	}
}
