package aio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestStartRunsPinnedLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	if !l.Pinned() {
		t.Errorf("Pinned() = false; want true")
	}
	type where struct {
		tid    int
		inLoop bool
	}
	got := call(t, l, func(t *aio.Task) (where, error) {
		return where{testkit.ThreadID(), t.Loop().InLoop()}, nil
	})
	if got.tid != l.ThreadID() {
		t.Errorf("task ran on thread %d; want ThreadID() = %d", got.tid, l.ThreadID())
	}
	if !got.inLoop {
		t.Errorf("InLoop() in a task = false; want true")
	}
	if l.InLoop() {
		t.Errorf("InLoop() off the loop = true; want false")
	}
}

func TestStartUnpinned(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Unpinned())

	if l.Pinned() {
		t.Errorf("Pinned() = true; want false")
	}
	if got := l.ThreadID(); got != 0 {
		t.Errorf("ThreadID() = %d; want 0 for an unpinned loop", got)
	}
	if got := call(t, l, func(t *aio.Task) (bool, error) { return t.Loop().InLoop(), nil }); !got {
		t.Errorf("InLoop() in a task of an unpinned loop = false; want true")
	}
	if l.InLoop() {
		t.Errorf("InLoop() off the loop = true; want false")
	}
}

// TestOptionsRefused checks that options that conflict or are out of range
// are refused, not silently overridden: the loop refuses all work with an
// error saying why, and Serve, Close and Run return it.
func TestOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		give []aio.Option
		want string
	}{
		{"Workers(0)", []aio.Option{aio.Workers(0)}, "Workers(0)"},
		{"Spin(-1)", []aio.Option{aio.Spin(-1)}, "Spin(-1ns)"},
		{"ParkInRuntime and Spin", []aio.Option{aio.ParkInRuntime(), aio.Spin(time.Millisecond)}, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s = %v; want ErrInvalid saying %q", what, err, tt.want)
				}
			}
			l := aio.NewLoop(tt.give...)
			check("Serve()", l.Serve())
			_, err := aio.Call(testkit.Context(t), l, func(*aio.Task) (int, error) { return 1, nil })
			check("Call()", err)
			_, err = aio.Spawn(testkit.Context(t), l, func(*aio.Task) (int, error) { return 1, nil }).Wait(testkit.Context(t))
			check("Spawn().Wait()", err)
			check("Post()", l.Post(func() {}))
			check("Close()", l.Close())
			_, err = aio.Run(testkit.Context(t), func(*aio.Task) (int, error) { return 1, nil }, tt.give...)
			check("Run()", err)
		})
	}
	// Spin(0) with ParkInRuntime agrees with it.
	l := startLoop(t, aio.ParkInRuntime(), aio.Spin(0))
	if got := call(t, l, func(*aio.Task) (int, error) { return 2, nil }); got != 2 {
		t.Errorf("Call() with ParkInRuntime and Spin(0) = %d; want 2", got)
	}
}

func TestNewLoopServe(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()

	// Work posted before Serve waits for it.
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { return testkit.ThreadID(), nil })
	if f.Settled() {
		t.Fatalf("Spawn() before Serve: future settled; want pending")
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve() }()
	got, err := f.Wait(testkit.Context(t))
	if err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if got != l.ThreadID() {
		t.Errorf("task ran on thread %d; want ThreadID() = %d", got, l.ThreadID())
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() after Close = %v; want ErrClosed", err)
	}
}

func TestServeTwice(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() on a running loop = %v; want ErrClosed", err)
	}
	if got := call(t, l, func(*aio.Task) (int, error) { return 1, nil }); got != 1 {
		t.Errorf("Call() after a second Serve = %d; want 1", got)
	}
}

func TestCloseLoopThatNeverRan(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()

	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	select {
	case <-l.Done():
	default:
		t.Errorf("Done() not closed after Close")
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() = %v; want ErrClosed", err)
	}
	ran := false
	if _, err := aio.Call(context.Background(), l, func(*aio.Task) (int, error) { ran = true; return 0, nil }); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Call() = %v; want ErrClosed", err)
	}
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { ran = true; return 0, nil })
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Spawn().Wait() = %v; want ErrClosed", err)
	}
	if ran {
		t.Errorf("a function ran on a loop closed before it ran")
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	call(t, l, func(*aio.Task) (int, error) { return 0, nil })

	for i := range 3 {
		if err := l.Close(); err != nil {
			t.Errorf("Close() #%d = %v; want nil", i+1, err)
		}
	}
	select {
	case <-l.Done():
	default:
		t.Errorf("Done() not closed after Close")
	}
}

func TestClosedLoopRefusesWork(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	ran := false
	fn := func(*aio.Task) (int, error) { ran = true; return 1, nil }
	if _, err := aio.Call(context.Background(), l, fn); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Call() = %v; want ErrClosed", err)
	}
	if _, err := aio.Spawn(context.Background(), l, fn).Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Spawn().Wait() = %v; want ErrClosed", err)
	}
	if _, err := aio.OpenStream(context.Background(), l, aio.SliceSeq([]int{1})).Next(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("OpenStream().Next() = %v; want ErrClosed", err)
	}
	if ran {
		t.Errorf("a function ran on a closed loop")
	}
}

func TestCloseCancelsAndAwaitsTasks(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	const n = 5
	started := make(chan struct{}, n)
	var sleepErrs [n]error // written by the tasks, read after Close
	futures := make([]*aio.Future[int], n)
	for i := range n {
		futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
			started <- struct{}{}
			err := aio.Sleep(t, testkit.Timeout)
			sleepErrs[i] = err
			return i, err
		})
	}
	for range n {
		<-started
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	for i, f := range futures {
		if !f.Settled() {
			t.Fatalf("task %d still pending after Close", i)
		}
		v, err := f.Wait(context.Background())
		if v != i || !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("task %d: Wait() = %v, %v; want %d, ErrClosed and context.Canceled", i, v, err, i)
		}
		if err := sleepErrs[i]; !errors.Is(err, context.Canceled) {
			t.Errorf("task %d: Sleep() = %v; want context.Canceled", i, err)
		}
	}
	if s := l.Stats(); s.Tasks != 0 {
		t.Errorf("Stats().Tasks after Close = %d; want 0", s.Tasks)
	}
}

func TestShutdownGivesUpAtDeadline(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	// A task that blocks the loop without awaiting cannot be stopped from
	// outside: Shutdown must give up when its ctx ends, and Close must
	// finish the job once the task lets go.
	blocking := make(chan struct{})
	release := make(chan struct{})
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) {
		close(blocking)
		<-release
		return 1, nil
	})
	<-blocking
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(ended ctx) = %v; want context.Canceled", err)
	}
	close(release)
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if v, err := f.Wait(context.Background()); v != 1 || err != nil {
		// The task never awaited again, so it returned as it liked.
		t.Errorf("Wait() = %v, %v; want 1, nil", v, err)
	}
}

func TestShutdownStopsLoop(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, testkit.Timeout)
	})

	if err := l.Shutdown(testkit.Context(t)); err != nil {
		t.Fatalf("Shutdown() = %v; want nil", err)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v; want ErrClosed", err)
	}
	<-l.Done()
}

func TestStats(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	const n = 20
	gate, open := aio.NewFuture[int](l)
	stepsBefore := l.Stats().Steps
	futures := make([]*aio.Future[int], n)
	for i := range futures {
		futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
			v, err := aio.Await(t, gate)
			return v + i, err
		})
	}
	testkit.WaitFor(t, fmt.Sprintf("Stats().Tasks = %d", n), func() bool { return l.Stats().Tasks == n })
	open(100, nil)
	for i, f := range futures {
		if v, err := f.Wait(testkit.Context(t)); v != 100+i || err != nil {
			t.Errorf("task %d: Wait() = %v, %v; want %d, nil", i, v, err, 100+i)
		}
	}
	testkit.WaitFor(t, "Stats().Tasks = 0", func() bool { return l.Stats().Tasks == 0 })
	// Each task ran at least twice: up to its Await, and after it.
	if got := l.Stats().Steps - stepsBefore; got < 2*n {
		t.Errorf("Stats().Steps grew by %d; want at least %d", got, 2*n)
	}
}

func TestLoopIdentity(t *testing.T) {
	testkit.Check(t)
	a := startLoop(t)
	b := startLoop(t, aio.Name("render"))

	if a.ID() == b.ID() || a.ID() == 0 || b.ID() == 0 {
		t.Errorf("ID() = %d and %d; want two different non-zero ids", a.ID(), b.ID())
	}
	if want := fmt.Sprintf("loop-%d", a.ID()); a.Name() != want || a.String() != want {
		t.Errorf("Name(), String() = %q, %q; want %q", a.Name(), a.String(), want)
	}
	if b.Name() != "render" || b.String() != "render" {
		t.Errorf("Name(), String() = %q, %q; want %q", b.Name(), b.String(), "render")
	}
	if testkit.HaveThreadIDs && a.ThreadID() == b.ThreadID() {
		t.Errorf("two pinned loops share thread %d", a.ThreadID())
	}
	if got := call(t, a, func(t *aio.Task) (uint64, error) { return t.Loop().ID(), nil }); got != a.ID() {
		t.Errorf("Task.Loop().ID() = %d; want %d", got, a.ID())
	}
}

func TestLoggerOption(t *testing.T) {
	testkit.Check(t)
	logger := new(testkit.LogSink).Logger()
	l := startLoop(t, aio.Logger(logger))

	if l.Logger() != logger {
		t.Errorf("Logger() = %p; want the logger given with aio.Logger, %p", l.Logger(), logger)
	}
	if def := startLoop(t, aio.Logger(nil)); def.Logger() == nil {
		t.Errorf("Logger() with aio.Logger(nil) = nil; want the default logger")
	}
}

func TestSlowTaskReported(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	logger := logs.Logger()
	l := startLoop(t, aio.SlowTask(1), aio.Logger(logger))

	// Any step takes longer than a nanosecond: the report of the step
	// after SetName names the task. It is written after the step, so
	// possibly after Call has returned.
	call(t, l, func(t *aio.Task) (int, error) {
		t.SetName("sluggish")
		return 0, aio.Sleep(t, 0)
	})
	testkit.WaitFor(t, "a slow-step report naming the task", func() bool {
		got := logs.String()
		return strings.Contains(got, "sluggish") && strings.Contains(got, "aio: task")
	})
}

// TestCloseNeverServed checks that closing a loop that never served fails
// what was posted to it, and that it never serves afterwards; and that
// closing a serving loop from outside does not discard it.
func TestCloseNeverServed(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()

	ran := false
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { ran = true; return 1, nil })
	if err := l.Post(func() { ran = true }); err != nil {
		t.Fatalf("Post() before Serve = %v; want nil", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() of a loop that never served = %v; want nil", err)
	}
	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() of work posted before Discard = %v; want ErrClosed", err)
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() after Discard = %v; want ErrClosed", err)
	}
	if ran {
		t.Errorf("work posted to a discarded loop ran")
	}

	select {
	case <-l.Done():
	default:
		t.Errorf("Done() of a loop closed before it served is not closed")
	}
}

// TestIdleLoopHoldsNoResult checks that once a call has returned and its
// result is dropped, an idle loop keeps nothing of it reachable.
func TestIdleLoopHoldsNoResult(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	type big struct{ b [1 << 20]byte }
	collected := make(chan struct{})
	func() {
		v := call(t, l, func(*aio.Task) (*big, error) { return new(big), nil })
		runtime.AddCleanup(v, func(chan struct{}) { close(collected) }, collected)
	}()
	testkit.WaitFor(t, "the dropped result to be collected while the loop idles", func() bool {
		runtime.GC()
		select {
		case <-collected:
			return true
		default:
			return false
		}
	})
}

// TestSlowTaskLoggerCallsRun checks that a SlowTask report whose handler
// calls back into the loop (Run from the logger) is refused with
// ErrLoopThread where it would deadlock, pinned or not, and that the loop
// serves on.
func TestSlowTaskLoggerCallsRun(t *testing.T) {
	for _, opts := range [][]aio.Option{nil, {aio.Unpinned()}} {
		t.Run(fmt.Sprintf("%d options", len(opts)), func(t *testing.T) {
			testkit.Check(t)
			var l *aio.Loop
			var mu sync.Mutex
			var errs []error
			logger := slog.New(recordFunc(func(slog.Record) {
				_, err := aio.Call(context.Background(), l, func(*aio.Task) (int, error) { return 1, nil })
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}))
			l = startLoop(t, append(opts, aio.SlowTask(time.Millisecond), aio.Logger(logger))...)
			testkit.Do(t, "a slow step whose report calls Run", func() {
				call(t, l, func(*aio.Task) (int, error) { time.Sleep(10 * time.Millisecond); return 0, nil })
				testkit.WaitFor(t, "the report", func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(errs) > 0
				})
			})
			checkLoopServes(t, l)
			mu.Lock()
			defer mu.Unlock()
			for _, err := range errs {
				// The watchdog's goroutine may call Run; the loop's own
				// thread must be refused.
				if err != nil && !errors.Is(err, aio.ErrLoopThread) {
					t.Errorf("Run from the slow-task logger = %v; want nil or ErrLoopThread", err)
				}
			}
		})
	}
}
