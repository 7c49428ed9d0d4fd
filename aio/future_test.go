package aio_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestFutureWaitFromManyGoroutines(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)

	gate, open := aio.NewFuture[int](l)
	f := aio.Spawn(ctx, l, func(t *aio.Task) (int, error) {
		v, err := aio.Await(t, gate)
		return v * 2, err
	})
	n := 4 * stressProcs()
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := f.Wait(ctx)
			if err != nil {
				t.Errorf("Wait() = %v; want nil", err)
			}
			got[i] = v
		})
	}
	open(21, nil)
	wg.Wait()
	for i, v := range got {
		if v != 42 {
			t.Errorf("waiter %d: Wait() = %d; want 42", i, v)
		}
	}
}

func TestFutureWaitCtxBoundsOnlyTheWait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	gate, open := aio.NewFuture[int](l)
	f := aio.Spawn(testkit.Context(t), l, func(t *aio.Task) (int, error) { return aio.Await(t, gate) })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(ended ctx) = %v; want context.Canceled", err)
	}
	if f.Settled() {
		t.Fatalf("the task ended when a Wait gave up; want it to go on")
	}
	open(9, nil)
	if v, err := f.Wait(testkit.Context(t)); v != 9 || err != nil {
		t.Errorf("Wait() = %v, %v; want 9, nil", v, err)
	}
}

func TestFutureDone(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	f, settle := aio.NewFuture[int](l)
	early := f.Done()
	select {
	case <-early:
		t.Fatalf("Done() closed before the future settled")
	default:
	}
	if f.Settled() {
		t.Errorf("Settled() = true before settle; want false")
	}
	settle(1, nil)
	<-early
	if !f.Settled() {
		t.Errorf("Settled() = false after Done closed; want true")
	}
	<-f.Done() // asked for after settling: closed too
	if v, err := f.Wait(context.Background()); v != 1 || err != nil {
		t.Errorf("Wait() = %v, %v; want 1, nil", v, err)
	}
	if f.Loop() != l {
		t.Errorf("Loop() = %v; want %v", f.Loop(), l)
	}
}

func TestFutureDoneRace(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Done asked for while the future settles: never missed.
	for range 200 {
		f, settle := aio.NewFuture[int](l)
		go settle(1, nil)
		<-f.Done()
		f2 := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { return 2, nil })
		<-f2.Done()
	}
}

func TestFutureCancelNewFuture(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	f, settle := aio.NewFuture[int](l)
	awaited := aio.Spawn(testkit.Context(t), l, func(t *aio.Task) (int, error) { return aio.Await(t, f) })
	f.Cancel()
	f.Cancel() // again: nothing more
	settle(1, nil)
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() after Cancel = %v; want context.Canceled", err)
	}
	if _, err := awaited.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Await() of a cancelled future = %v; want context.Canceled", err)
	}
}

func TestFutureCancelTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	asleep := make(chan struct{})
	var sleepErr, ctxErr error // written by the task, read after Wait
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(asleep)
		sleepErr = aio.Sleep(t, testkit.Timeout)
		ctxErr = t.Context().Err()
		return 1, sleepErr
	})
	<-asleep
	f.Cancel()
	v, err := f.Wait(testkit.Context(t))
	if v != 1 || !errors.Is(err, context.Canceled) || errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v, %v; want 1, context.Canceled (not ErrClosed)", v, err)
	}
	if !errors.Is(sleepErr, context.Canceled) || !errors.Is(ctxErr, context.Canceled) {
		t.Errorf("in the task: Sleep() = %v, Context().Err() = %v; want context.Canceled", sleepErr, ctxErr)
	}
	f.Cancel() // on a settled future: does nothing
	if v, err := f.Wait(context.Background()); v != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() after a second Cancel = %v, %v; want 1, context.Canceled", v, err)
	}
}

func TestFutureCancelBeforeTaskStarts(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()
	// A Cancel posted before the loop runs is not lost.
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, testkit.Timeout)
	})
	f.Cancel()
	go l.Serve()
	defer l.Close()

	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want context.Canceled", err)
	}
}

func TestFutureCancelFromManyGoroutines(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, testkit.Timeout)
	})
	var wg sync.WaitGroup
	for range stressProcs() {
		wg.Go(f.Cancel)
	}
	wg.Wait()
	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want context.Canceled", err)
	}
}

// TestFutureWaitGivingUpLosesNoPanic checks that a task that panics just as
// a Wait for it gives up (its ctx ends) has its panic either delivered by
// that Wait or reported by Close: never neither.
func TestFutureWaitGivingUpLosesNoPanic(t *testing.T) {
	testkit.Check(t)
	l := aio.Start(aio.Logger(new(testkit.LogSink).Logger()))
	n := 2000
	if testing.Short() {
		n = 200
	}
	futures := make([]*aio.Future[int], n) // kept, so that Close reports what Wait did not take
	delivered := 0
	for i := range futures {
		release := make(chan struct{})
		f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
			if _, _, err := aio.Recv(t, release); err != nil {
				return 0, err
			}
			panic(i)
		})
		futures[i] = f
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			close(release)
			if i%3 == 0 {
				runtime.Gosched()
			}
			cancel()
		}()
		if p := testkit.RecoverPanic(func() { f.Wait(ctx) }); p != nil {
			panicError(t, p)
			delivered++
		}
		cancel()
	}
	for _, f := range futures {
		<-f.Done()
	}
	var pe *aio.PanicError
	reported := 0
	for _, err := range testkit.Leaves(l.Close()) {
		if errors.As(err, &pe) {
			reported++
		}
	}
	runtime.KeepAlive(futures)
	if delivered+reported != n {
		t.Errorf("%d panics delivered by Wait and %d reported by Close; want %d in all", delivered, reported, n)
	}
}

// TestNilFuture checks that a nil *Future behaves as one that settled with
// ErrInvalid: nothing panics, nothing blocks, and Wait's error says what was
// nil.
func TestNilFuture(t *testing.T) {
	var f *aio.Future[int]
	select {
	case <-f.Done():
	default:
		t.Errorf("Done() of a nil future is not closed")
	}
	if !f.Settled() {
		t.Errorf("Settled() of a nil future = false; want true")
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), "nil *Future") {
		t.Errorf("Wait() of a nil future = %v; want ErrInvalid saying %q", err, "nil *Future")
	}
	f.Cancel() // nothing to do, nothing to fail
	if f.Loop() != nil {
		t.Errorf("Loop() of a nil future = %v; want nil", f.Loop())
	}
	var got error
	f.OnSettle(func(_ int, err error) { got = err })
	if !errors.Is(got, aio.ErrInvalid) {
		t.Errorf("OnSettle() of a nil future called fn with %v; want ErrInvalid, at once", got)
	}
}

// TestFutureBadInput checks that NewFuture of a nil *Loop panics with a
// message naming it, and that Wait refuses a nil context.
func TestFutureBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	if p := testkit.RecoverPanic(func() { aio.NewFuture[int](nil) }); p != "aio: NewFuture called with a nil *Loop" {
		t.Errorf("NewFuture(nil) panicked with %v; want a message naming the nil *Loop", p)
	}
	var nilCtx context.Context
	runInvalidCases(t, l, []invalidCase{
		{name: "Wait nil context", call: func() error {
			_, err := aio.Completed(1, nil).Wait(nilCtx)
			return err
		}, want: "nil context"},
	})
}
