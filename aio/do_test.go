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
