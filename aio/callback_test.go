package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// TestPost checks that posted callbacks run on the loop's thread, in order of
// posting from each goroutine, none lost, while tasks go on; that a
// blocking call from a callback is refused with ErrLoopThread; and that
// bad input is refused.
func TestPost(t *testing.T) {
	for _, opts := range [][]aio.Option{nil, {aio.Unpinned()}} {
		t.Run(fmt.Sprintf("%d options", len(opts)), func(t *testing.T) {
			leaktest.Check(t)
			l := startLoop(t, opts...)
			const posters, each = 8, 500
			var got [posters][]int // loop-owned
			tids := map[int]bool{} // loop-owned
			var wg sync.WaitGroup
			for p := range posters {
				wg.Go(func() {
					for i := range each {
						if err := l.Post(func() {
							got[p] = append(got[p], i)
							tids[threadID()] = true
						}); err != nil {
							t.Errorf("Post() = %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			reentrant := make(chan error, 1)
			l.Post(func() {
				_, err := aio.Call(context.Background(), l, func(*aio.Task) (int, error) { return 1, nil })
				reentrant <- err
			})
			if err := <-reentrant; !errors.Is(err, aio.ErrLoopThread) {
				t.Errorf("Call() from a callback = %v; want ErrLoopThread", err)
			}
			call(t, l, func(*aio.Task) (int, error) { return 0, nil }) // after every callback
			for p := range posters {
				if !slices.Equal(got[p], ints(each)) {
					t.Errorf("poster %d's callbacks ran as %v...; want all %d, in order", p, got[p][:min(10, len(got[p]))], each)
				}
			}
			if l.Pinned() && (len(tids) != 1 || !tids[l.ThreadID()]) {
				t.Errorf("callbacks ran on threads %v; want only the loop's, %d", tids, l.ThreadID())
			}
			if err := l.Post(nil); !errors.Is(err, aio.ErrInvalid) {
				t.Errorf("Post(nil) = %v; want ErrInvalid", err)
			}
			if err := (*aio.Loop)(nil).Post(func() {}); !errors.Is(err, aio.ErrInvalid) {
				t.Errorf("nil Loop's Post() = %v; want ErrInvalid", err)
			}
		})
	}
}

// TestPostFaults checks that a callback's panic, panic(nil) and Goexit are
// logged with what happened, that the callbacks after it still run, in
// order, and that the loop serves on.
func TestPostFaults(t *testing.T) {
	leaktest.Check(t)
	logger, logs := newLogger()
	l := startLoop(t, aio.Logger(logger))
	var ran []string // loop-owned
	faults := []func(){
		func() { panic("callback boom") },
		func() { panic(nil) },
		func() { runtime.Goexit() },
	}
	for i, fault := range faults {
		l.Post(fault)
		l.Post(func() { ran = append(ran, fmt.Sprint("after ", i)) })
	}
	checkLoopServes(t, l)
	if want := []string{"after 0", "after 1", "after 2"}; !slices.Equal(ran, want) {
		t.Errorf("callbacks after the faulty ones ran as %q; want %q", ran, want)
	}
	waitFor(t, "the faults to be logged", func() bool {
		got := logs.String()
		return strings.Count(got, "callback panicked") == 2 && strings.Contains(got, "callback called runtime.Goexit")
	})
	if got := logs.String(); !strings.Contains(got, "callback boom") || !strings.Contains(got, "TestPostFaults") {
		t.Errorf("log = %q; want the panic's value and stack", got)
	}
}

// TestPostAndClose checks the rule for callbacks and Close: callbacks posted
// before Close began run before the loop stops; Post after that returns
// ErrClosed and the callback never runs.
func TestPostAndClose(t *testing.T) {
	leaktest.Check(t)
	l := aio.Start()
	gate := make(chan struct{})
	l.Post(func() { <-gate }) // holds the loop, so the next ones queue up
	const n = 100
	var ran int // loop-owned; read after Close
	for range n {
		if err := l.Post(func() { ran++ }); err != nil {
			t.Fatalf("Post() = %v", err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	waitFor(t, "Close to begin", func() bool { return errors.Is(l.Post(func() {}), aio.ErrClosed) })
	if err := l.Post(func() { ran += 1000 }); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Post() once Close began = %v; want ErrClosed", err)
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if ran != n {
		t.Errorf("%d callbacks ran; want the %d posted before Close, none after", ran, n)
	}
}

// TestOnSettle checks that OnSettle callbacks run on the loop once the
// future settles, in order of registration, with the value and error; with
// the panic as a *PanicError, which then counts as retrieved; at once for a
// settled future; and with no task held while the future is pending.
func TestOnSettle(t *testing.T) {
	leaktest.Check(t)
	l := startLoop(t)
	f, settle := aio.NewFuture[int](l)
	var got []string // loop-owned
	done := make(chan struct{})
	for i := range 3 {
		f.OnSettle(func(v int, err error) {
			got = append(got, fmt.Sprintf("%d:%d %v %v", i, v, err, threadID() == l.ThreadID()))
			if i == 2 {
				close(done)
			}
		})
	}
	call(t, l, func(*aio.Task) (int, error) { return 0, nil })
	waitFor(t, "no task live while OnSettle waits", func() bool { return l.Stats().Tasks == 0 })
	settle(7, errTask)
	<-done
	want := []string{"0:7 task failed true", "1:7 task failed true", "2:7 task failed true"}
	if !slices.Equal(got, want) {
		t.Errorf("callbacks saw %q; want %q", got, want)
	}

	// A settled future: the callback comes soon, on the loop.
	late := make(chan int, 1)
	f.OnSettle(func(v int, err error) { late <- v })
	if v := <-late; v != 7 {
		t.Errorf("OnSettle after settling got %d; want 7", v)
	}

	// A panic reaches the callback and is not reported again by Close.
	logger, logs := newLogger()
	l2 := aio.Start(aio.Logger(logger))
	pf := aio.Spawn(context.Background(), l2, panickingTask("to the callback"))
	pe := make(chan *aio.PanicError, 1)
	pf.OnSettle(func(_ int, err error) {
		var p *aio.PanicError
		errors.As(err, &p)
		pe <- p
	})
	if p := <-pe; p == nil || p.Value != "to the callback" {
		t.Errorf("OnSettle saw %v; want the task's *PanicError", p)
	}
	if err := l2.Close(); err != nil || strings.Contains(logs.String(), "to the callback") {
		t.Errorf("Close() = %v, log %q; want the panic counted as retrieved", err, logs.String())
	}
	runtime.KeepAlive(pf)

	// A future of no loop runs the callback at once, in the caller.
	var now string
	aio.Completed(3, nil).OnSettle(func(v int, err error) { now = fmt.Sprint(v, err) })
	if now != "3 <nil>" {
		t.Errorf("OnSettle of a Completed future: %q; want it called at once with 3, nil", now)
	}
	if p := recoverPanic(func() { f.OnSettle(nil) }); p == nil {
		t.Errorf("OnSettle(nil) did not panic")
	}
}

// TestOnSettleLoopStopsFirst checks the documented rule: a callback whose
// future has not settled when its loop stops is never called.
func TestOnSettleLoopStopsFirst(t *testing.T) {
	leaktest.Check(t)
	l := aio.Start()
	f, settle := aio.NewFuture[int](l)
	called := make(chan struct{}, 1)
	f.OnSettle(func(int, error) { called <- struct{}{} })
	call(t, l, func(*aio.Task) (int, error) { return 0, nil })
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	settle(1, nil) // settles at once, off the stopped loop
	select {
	case <-called:
		t.Errorf("the callback of a future settled after its loop stopped was called")
	default:
	}
}
