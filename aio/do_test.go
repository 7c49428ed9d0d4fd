package aio_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestDo checks that Do runs fn on the loop's thread and returns once it has
// run, from many goroutines at once, nothing lost; that fn's panic and
// Goexit reach the caller; that a ctx that ends before fn starts keeps it
// from running; and the refusals (closed loop, loop's own thread, nil fn).
func TestDo(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	testkit.CloseAtEnd(t, l)
	ctx := testkit.Context(t)

	var n int // loop-owned
	tids := map[int]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if err := l.Do(ctx, func() { n++; tids[testkit.ThreadID()] = true }); err != nil {
					t.Errorf("Do() = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Do(ctx, func() {}); err != nil || n != 8*200 {
		t.Errorf("after 1600 Dos the count is %d, %v; want 1600: each Do returns after its fn ran", n, err)
	}
	if testkit.HaveThreadIDs && (len(tids) != 1 || !tids[l.ThreadID()]) {
		t.Errorf("Do's functions ran on threads %v; want only the loop's, %d", tids, l.ThreadID())
	}

	p := testkit.RecoverPanic(func() { l.Do(ctx, func() { panic("do boom") }) })
	if pe, ok := p.(*aio.PanicError); !ok || pe.Value != "do boom" {
		t.Errorf("Do() of a panicking fn panicked with %v; want its *aio.PanicError", p)
	}
	if goexited, _ := testkit.Goexits(func() { l.Do(ctx, func() { runtime.Goexit() }) }); !goexited {
		t.Errorf("Do() of a fn that calls Goexit returned; want it to call Goexit too")
	}

	// Held up behind a blocking callback, a Do whose ctx ends never runs.
	release := make(chan struct{})
	l.Post(func() { <-release })
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	ran := false
	if err := l.Do(short, func() { ran = true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do() behind a blocked loop = %v; want its ctx's deadline", err)
	}
	close(release)
	if err := l.Do(ctx, func() {}); err != nil || ran {
		t.Errorf("the withdrawn fn ran: %v, err %v; want it never run", ran, err)
	}

	err := call2(t, l, func(t *aio.Task) error { return t.Loop().Do(context.Background(), func() {}) })
	if !errors.Is(err, aio.ErrLoopThread) {
		t.Errorf("Do() from a task = %v; want ErrLoopThread", err)
	}
	if err := l.Do(ctx, nil); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Do(nil) = %v; want ErrInvalid", err)
	}
	if err := (*aio.Loop)(nil).Do(ctx, func() {}); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Do() on a nil *Loop = %v; want ErrInvalid", err)
	}
	//lint:ignore SA1012 a nil ctx is the bad input under test
	if err := l.Do(nil, func() {}); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Do(nil ctx) = %v; want ErrInvalid", err)
	}
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if err := l.Do(done, func() { ran = true }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Do() with an ended ctx = %v (ran %v); want context.Canceled, fn not run", err, ran)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := l.Do(ctx, func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Do() after Close = %v; want ErrClosed", err)
	}
}

// call2 runs fn as a task of l and returns its error.
func call2(t *testing.T, l *aio.Loop, fn func(t *aio.Task) error) error {
	t.Helper()
	_, err := aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) { return 0, fn(t) })
	return err
}

// TestDoWaitsForAStartedFn checks that once fn has started, the end of Do's
// ctx does not make Do return before fn has: the caller may rely on fn
// having finished with anything it shares.
func TestDoWaitsForAStartedFn(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	testkit.CloseAtEnd(t, l)
	ctx, cancel := context.WithCancel(testkit.Context(t))
	started, release := make(chan struct{}), make(chan struct{})
	finished := false
	go func() {
		<-started
		cancel()
		time.Sleep(5 * time.Millisecond) // let Do see its ctx end
		close(release)
	}()
	var err error
	testkit.Do(t, "Do", func() {
		err = l.Do(ctx, func() { close(started); <-release; finished = true })
	})
	if err != nil || !finished {
		t.Errorf("Do() = %v with fn finished %v; want nil after fn finished, though ctx ended while it ran", err, finished)
	}
}

// TestDoOnLoopClosedBeforeServing checks that a Do posted to a loop that
// never served returns ErrClosed when the loop is closed, and its fn never
// runs: no thread of the loop's ever will.
func TestDoOnLoopClosedBeforeServing(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()
	ran := false
	errc := make(chan error, 1)
	go func() { errc <- l.Do(context.Background(), func() { ran = true }) }()
	testkit.WaitFor(t, "Do to post its function", func() bool { return l.Stats().Inbox == 1 })
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := testkit.Await(t, errc, "Do to return"); !errors.Is(err, aio.ErrClosed) || ran {
		t.Errorf("Do() on a loop closed before it served = %v (fn ran: %v); want ErrClosed, fn not run", err, ran)
	}
}

// TestDoReturnsAfterFnRan checks, with callers whose Dos take the fast path
// and the slow one by turns, that every Do returns after its own fn has run
// (a reused record must never be woken by the settle of the Do before it).
func TestDoReturnsAfterFnRan(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	testkit.CloseAtEnd(t, l)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for i := range 3000 {
				ran := false
				if err := l.Do(testkit.Context(t), func() { ran = true }); err != nil || !ran {
					t.Errorf("Do() #%d = %v with fn run %v; want nil after it ran", i, err, ran)
					return
				}
			}
		})
	}
	testkit.Do(t, "the Dos", wg.Wait)
}

// TestDoGoexitNotLogged checks that a Goexit in Do's fn, which goes on in
// Do's caller, is not also logged as a callback's stray Goexit.
func TestDoGoexitNotLogged(t *testing.T) {
	testkit.Check(t)
	var sink testkit.LogSink
	l := aio.Start(aio.Logger(sink.Logger()))
	testkit.CloseAtEnd(t, l)
	if goexited, _ := testkit.Goexits(func() { l.Do(testkit.Context(t), func() { runtime.Goexit() }) }); !goexited {
		t.Fatalf("Do() returned; want it to call Goexit")
	}
	if err := l.Do(testkit.Context(t), func() {}); err != nil { // the loop goes on
		t.Fatalf("Do() after = %v", err)
	}
	if got := sink.String(); got != "" {
		t.Errorf("logged %q; want nothing: the Goexit went to Do's caller", got)
	}
}
