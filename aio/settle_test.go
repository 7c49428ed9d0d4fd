package aio_test

import (
	"context"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestNewFutureSettledFromGoroutines(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)

	f, settle := aio.NewFuture[int](l)
	awaited := aio.Spawn(ctx, l, func(t *aio.Task) (int, error) { return aio.Await(t, f) })

	// Many goroutines race to settle: exactly one value wins, and every
	// waiter, on the loop or off it, sees that one.
	n := stressProcs()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			settle(i, nil)
		})
	}
	close(start)
	wg.Wait()

	won, err := f.Wait(ctx)
	if err != nil || won < 0 || won >= n {
		t.Fatalf("Wait() = %v, %v; want one of the settled values, nil", won, err)
	}
	if v, err := awaited.Wait(ctx); v != won || err != nil {
		t.Errorf("Await() in a task = %v, %v; want %v, nil", v, err, won)
	}
	settle(-1, testkit.ErrTask) // too late: does nothing
	if v, err := f.Wait(ctx); v != won || err != nil {
		t.Errorf("Wait() after a late settle = %v, %v; want %v, nil", v, err, won)
	}
}

func TestNewFutureSettleError(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	f, settle := aio.NewFuture[string](l)
	go settle("partial", testkit.ErrTask)
	v, err := aio.Call(testkit.Context(t), l, func(t *aio.Task) (string, error) { return aio.Await(t, f) })
	if v != "partial" || err != testkit.ErrTask {
		t.Errorf("Await() = %q, %v; want %q, %v", v, err, "partial", testkit.ErrTask)
	}
}

func TestCompleted(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	f := aio.Completed(5, testkit.ErrTask)
	if !f.Settled() || f.Loop() != nil {
		t.Errorf("Completed(): Settled() = %v, Loop() = %v; want true, nil", f.Settled(), f.Loop())
	}
	<-f.Done()
	if v, err := f.Wait(context.Background()); v != 5 || err != testkit.ErrTask {
		t.Errorf("Wait() = %v, %v; want 5, %v", v, err, testkit.ErrTask)
	}
	type result struct {
		v   int
		err error
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		v, err := aio.Await(t, f)
		return result{v, err}, nil
	})
	if got.v != 5 || got.err != testkit.ErrTask {
		t.Errorf("Await() = %v, %v; want 5, %v", got.v, got.err, testkit.ErrTask)
	}
	f.Cancel() // settled: nothing happens
	if _, err := f.Wait(context.Background()); err != testkit.ErrTask {
		t.Errorf("Wait() after Cancel = %v; want %v", err, testkit.ErrTask)
	}
}

func TestSettleAfterLoopClosed(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	f, settle := aio.NewFuture[int](l)
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	settle(4, nil)
	if v, err := f.Wait(testkit.Context(t)); v != 4 || err != nil {
		t.Errorf("Wait() = %v, %v; want 4, nil", v, err)
	}
}

// TestSettleAfterLoopStoppedLeavesTheLoopAlone checks that settling, from
// goroutines, futures of a loop that has stopped (or is stopping) wakes
// their waiters but touches nothing of the loop's: the OnSettle callbacks a
// stopped loop holds never run, and no race with its teardown or between
// the settlers (run with -race).
func TestSettleAfterLoopStoppedLeavesTheLoopAlone(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	const n = 8
	settles := make([]func(int, error), n)
	futures := make([]*aio.Future[int], n)
	ran := make(chan int, n)
	for i := range n {
		futures[i], settles[i] = aio.NewFuture[int](l)
		futures[i].OnSettle(func(int, error) { ran <- testkit.ThreadID() })
	}
	loopTID := l.ThreadID()
	if err := l.Do(testkit.Context(t), func() {}); err != nil { // the OnSettles are registered
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { settles[i](i, nil) }) // racing with Close
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	testkit.Do(t, "the settlers", wg.Wait)
	for i, f := range futures {
		if v, err := f.Wait(testkit.Context(t)); v != i || err != nil {
			t.Errorf("future %d: Wait() = %v, %v; want %d, nil", i, v, err, i)
		}
	}
	// A settle that reached the loop before it stopped ran its callback on
	// the loop's thread; the others never run theirs.
	close(ran)
	for tid := range ran {
		if testkit.HaveThreadIDs && tid != loopTID {
			t.Errorf("an OnSettle callback ran on thread %d; want the loop's, %d, or not at all", tid, loopTID)
		}
	}
}
