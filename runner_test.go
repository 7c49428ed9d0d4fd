package threadrunner_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

func TestNewStartsNothing(t *testing.T) {
	leaktest.Check(t)
	before := leaktest.Snapshot()
	r := threadrunner.New(aio.Name("lazy"))
	if leaked := leaktest.Leaked(before); len(leaked) != 0 {
		t.Fatalf("New() started %d goroutine(s); want none:\n%v", len(leaked), leaked)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if leaked := leaktest.Leaked(before); len(leaked) != 0 {
		t.Fatalf("Close() of a runner that never started started %d goroutine(s); want none:\n%v", len(leaked), leaked)
	}
	if l := r.Loop(); l != nil {
		t.Errorf("Loop() after Close of a runner that never started = %v; want nil", l)
	}
	if leaked := leaktest.Leaked(before); len(leaked) != 0 {
		t.Errorf("Loop() after Close started %d goroutine(s); want none", len(leaked))
	}
}

func TestLoopStartsOnFirstUse(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New(aio.Name("first-use"))
	l := r.Loop()
	if l == nil {
		t.Fatal("Loop() = nil; want the started loop")
	}
	if again := r.Loop(); again != l {
		t.Errorf("second Loop() = %v; want the same loop %v", again, l)
	}
	if got := l.Name(); got != "first-use" {
		t.Errorf("Loop().Name() = %q; want %q (the options of New)", got, "first-use")
	}
	if !l.Pinned() {
		t.Error("Loop().Pinned() = false; want true by default")
	}
	tid := loopTID(t, r)
	if got := l.ThreadID(); got != tid {
		t.Errorf("Loop().ThreadID() = %d; want %d, where its tasks run", got, tid)
	}
	select {
	case <-l.Done():
		t.Fatal("Loop().Done() is closed before Close")
	default:
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	select {
	case <-l.Done():
	default:
		t.Error("Loop().Done() is still open after Close returned")
	}
	if got := r.Loop(); got != l {
		t.Errorf("Loop() after Close = %v; want the stopped loop %v", got, l)
	}
}

func TestUnpinnedRunner(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t, aio.Unpinned())
	l := r.Loop()
	if l.Pinned() {
		t.Error("Loop().Pinned() = true; want false with aio.Unpinned")
	}
	if got := l.ThreadID(); got != 0 {
		t.Errorf("Loop().ThreadID() = %d; want 0 for an unpinned loop", got)
	}
	v, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Errorf("Run() = %v, %v; want 7, nil", v, err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p", exitErr: errExit}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	tid := r.Loop().ThreadID()
	for i := range 3 {
		if err := r.Close(); !errors.Is(err, errExit) {
			t.Errorf("Close() #%d = %v; want %v", i+1, err, errExit)
		}
	}
	p.checkOnce(t, tid, nil)
}

func TestConcurrentClose(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p", exitErr: errExit}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	l := r.Loop()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			<-start
			if err := r.Close(); !errors.Is(err, errExit) {
				t.Errorf("Close() in goroutine %d = %v; want %v", i, err, errExit)
			}
			select {
			case <-l.Done():
			default:
				t.Errorf("Close() in goroutine %d returned before the loop stopped", i)
			}
		})
	}
	close(start)
	wg.Wait()
	p.checkOnce(t, l.ThreadID(), nil)
}

// callsAfterClose are the runner's entry points, each reporting the error it
// returns and whether the work it was given ran.
var callsAfterClose = []struct {
	name string
	call func(r *threadrunner.Runner, ran *atomic.Bool) error
}{
	{"Run", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		_, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) {
			ran.Store(true)
			return 1, nil
		})
		return err
	}},
	{"Submit", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		f := threadrunner.Submit(context.Background(), r, func(*aio.Task) (int, error) {
			ran.Store(true)
			return 1, nil
		})
		_, err := f.Wait(context.Background())
		return err
	}},
	{"With", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		res := aio.ResourceFunc(func(*aio.Task) (int, error) {
			ran.Store(true)
			return 1, nil
		}, nil)
		return threadrunner.With(context.Background(), r, res, func(int) error {
			ran.Store(true)
			return nil
		})
	}},
	{"Open", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		res := aio.ResourceFunc(func(*aio.Task) (int, error) {
			ran.Store(true)
			return 1, nil
		}, nil)
		_, release, err := threadrunner.Open(context.Background(), r, res)
		if release != nil {
			ran.Store(true)
		}
		return err
	}},
	{"Keep", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		res := aio.ResourceFunc(func(*aio.Task) (int, error) {
			ran.Store(true)
			return 1, nil
		}, nil)
		_, err := threadrunner.Keep(context.Background(), r, res)
		return err
	}},
	{"Iter", func(r *threadrunner.Runner, ran *atomic.Bool) error {
		seq := func(t *aio.Task, yield func(int) bool) error {
			ran.Store(true)
			yield(1)
			return nil
		}
		var errs []error
		for v, err := range threadrunner.Iter(context.Background(), r, seq) {
			if err == nil {
				ran.Store(true) // a value came through
				continue
			}
			if v != 0 {
				return errors.New("Iter yielded an error with a non-zero value")
			}
			errs = append(errs, err)
		}
		if len(errs) != 1 {
			return errors.New("Iter did not yield exactly one error")
		}
		return errs[0]
	}},
}

func TestCallsAfterCloseReturnErrClosed(t *testing.T) {
	for _, started := range []bool{true, false} {
		for _, tt := range callsAfterClose {
			name := tt.name + "/never-started"
			if started {
				name = tt.name + "/started"
			}
			t.Run(name, func(t *testing.T) {
				leaktest.Check(t)
				r := threadrunner.New()
				if started {
					loopTID(t, r)
				}
				if err := r.Close(); err != nil {
					t.Fatalf("Close() = %v; want nil", err)
				}
				before := leaktest.Snapshot()
				var ran atomic.Bool
				if err := tt.call(r, &ran); !errors.Is(err, aio.ErrClosed) {
					t.Errorf("%s after Close = %v; want %v", tt.name, err, aio.ErrClosed)
				}
				if ran.Load() {
					t.Errorf("%s after Close ran its work; want it refused", tt.name)
				}
				if leaked := leaktest.Leaked(before); len(leaked) != 0 {
					t.Errorf("%s after Close started %d goroutine(s); want none:\n%v", tt.name, len(leaked), leaked)
				}
			})
		}
	}
}

// reentrantCalls are the blocking calls of the runner, made from inside one
// of its own tasks.
var reentrantCalls = []struct {
	name string
	call func(ctx context.Context, r *threadrunner.Runner) error
}{
	{"Run", func(ctx context.Context, r *threadrunner.Runner) error {
		_, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return 1, nil })
		return err
	}},
	{"Submit+Wait", func(ctx context.Context, r *threadrunner.Runner) error {
		_, err := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
			return 1, aio.Sleep(t, time.Hour) // still pending when Wait looks
		}).Wait(ctx)
		return err
	}},
	{"With", func(ctx context.Context, r *threadrunner.Runner) error {
		return threadrunner.With(ctx, r, &probe{name: "with"}, func(*probe) error { return nil })
	}},
	{"Open", func(ctx context.Context, r *threadrunner.Runner) error {
		_, _, err := threadrunner.Open(ctx, r, &probe{name: "open"})
		return err
	}},
	{"Keep", func(ctx context.Context, r *threadrunner.Runner) error {
		_, err := threadrunner.Keep(ctx, r, &probe{name: "keep"})
		return err
	}},
	{"Iter", func(ctx context.Context, r *threadrunner.Runner) error {
		for _, err := range threadrunner.Iter(ctx, r, aio.SliceSeq([]int{1, 2})) {
			return err
		}
		return errors.New("Iter yielded nothing")
	}},
	{"Close", func(ctx context.Context, r *threadrunner.Runner) error { return r.Close() }},
	{"Shutdown", func(ctx context.Context, r *threadrunner.Runner) error { return r.Shutdown(ctx) }},
}

func TestReentrantCallsReturnErrLoopThread(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	for _, tt := range reentrantCalls {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			err, runErr := threadrunner.Run(ctx, r, func(task *aio.Task) (error, error) {
				return tt.call(task.Context(), r), nil
			})
			if runErr != nil {
				t.Fatalf("Run() = %v; want nil", runErr)
			}
			if !errors.Is(err, aio.ErrLoopThread) {
				t.Errorf("%s from a task = %v; want %v", tt.name, err, aio.ErrLoopThread)
			}
			// The refused call changed nothing: the runner serves on.
			v, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return 2, nil })
			if v != 2 || err != nil {
				t.Errorf("Run() after %s from a task = %v, %v; want 2, nil", tt.name, v, err)
			}
		})
	}
}

func TestShutdownWithinDeadline(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p"}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	l := r.Loop()
	if err := r.Shutdown(testContext(t)); err != nil {
		t.Fatalf("Shutdown() = %v; want nil", err)
	}
	select {
	case <-l.Done():
	default:
		t.Error("Shutdown() returned before the loop stopped")
	}
	p.checkOnce(t, l.ThreadID(), nil)
}

func TestShutdownPastDeadline(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	// first is exited last; its Exit awaits briefly. slow's Exit awaits until
	// it is cancelled, which only the end of Shutdown's deadline does.
	var firstSleep, slowSleep error // written by the Exits, on the loop
	first := &probe{name: "first", exit: func(t *aio.Task) { firstSleep = aio.Sleep(t, time.Millisecond) }}
	slow := &probe{name: "slow", exit: func(t *aio.Task) { slowSleep = aio.Sleep(t, time.Hour) }}
	for _, p := range []*probe{first, slow} {
		if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
			t.Fatalf("Keep(%s) = %v; want nil", p.name, err)
		}
	}
	l := r.Loop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown() = %v; want %v", err, context.DeadlineExceeded)
	}
	// The loop finishes stopping in the background.
	select {
	case <-l.Done():
	case <-time.After(testTimeout):
		t.Fatal("the loop did not stop after Shutdown's deadline")
	}
	slow.checkOnce(t, l.ThreadID(), nil)
	first.checkOnce(t, l.ThreadID(), nil)
	if !errors.Is(slowSleep, context.Canceled) {
		t.Errorf("Sleep in the Exit that outlived the deadline = %v; want %v", slowSleep, context.Canceled)
	}
	if !errors.Is(firstSleep, context.Canceled) {
		t.Errorf("Sleep in an Exit after the deadline = %v; want %v (a cancelled context)", firstSleep, context.Canceled)
	}
	if _, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 1, nil }); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Run() after Shutdown = %v; want %v", err, aio.ErrClosed)
	}
}

func TestFromLoop(t *testing.T) {
	leaktest.Check(t)
	l := aio.NewLoop(aio.Name("served"))
	r := threadrunner.FromLoop(l)
	if got := r.Loop(); got != l {
		t.Fatalf("Loop() = %v; want the loop given to FromLoop, %v", got, l)
	}
	// Work submitted before Serve waits for it.
	f := threadrunner.Submit(context.Background(), r, func(*aio.Task) (int, error) { return threadID(), nil })
	serverTID := make(chan int, 1)
	served := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		serverTID <- threadID()
		served <- l.Serve()
	}()
	ctx := testContext(t)
	tid, err := f.Wait(ctx)
	if err != nil {
		t.Fatalf("Submit(...).Wait() = %v; want nil", err)
	}
	if want := <-serverTID; tid != want {
		t.Errorf("task ran on thread %d; want %d, the thread that called Serve", tid, want)
	}
	v, err := threadrunner.Run(ctx, r, func(*aio.Task) (string, error) { return "ok", nil })
	if v != "ok" || err != nil {
		t.Errorf("Run() = %q, %v; want %q, nil", v, err, "ok")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve() = %v; want nil", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return after Close")
	}
}

func TestFromLoopClosedBeforeServe(t *testing.T) {
	leaktest.Check(t)
	l := aio.NewLoop()
	r := threadrunner.FromLoop(l)
	// Submitted to a loop that is waiting for Serve; Close comes first.
	f := threadrunner.Submit(context.Background(), r, func(*aio.Task) (int, error) { return 1, nil })
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	case <-time.After(testTimeout):
		// Serve the loop so that Close can end and the test leaks nothing.
		go l.Serve()
		<-closed
		t.Fatal("Close() of a FromLoop runner whose loop never served did not return; want it to close the loop")
	}
	select {
	case <-f.Done():
	case <-time.After(testTimeout):
		t.Fatal("a task submitted before Serve never settled after Close; want it failed with ErrClosed")
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v; want %v", err, aio.ErrClosed)
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() after Close = %v; want %v", err, aio.ErrClosed)
	}
}

func TestNilRunner(t *testing.T) {
	var r *threadrunner.Runner
	ctx := context.Background()
	if _, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return 1, nil }); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Run(nil runner) = %v; want %v", err, aio.ErrInvalid)
	}
	if _, err := threadrunner.Submit(ctx, r, func(*aio.Task) (int, error) { return 1, nil }).Wait(ctx); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Submit(nil runner).Wait() = %v; want %v", err, aio.ErrInvalid)
	}
	if err := threadrunner.With(ctx, r, &probe{}, func(*probe) error { return nil }); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("With(nil runner) = %v; want %v", err, aio.ErrInvalid)
	}
	if _, err := threadrunner.Keep(ctx, r, &probe{}); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Keep(nil runner) = %v; want %v", err, aio.ErrInvalid)
	}
	for _, err := range threadrunner.Iter(ctx, r, aio.SliceSeq([]int{1})) {
		if !errors.Is(err, aio.ErrInvalid) {
			t.Errorf("Iter(nil runner) yielded %v; want %v", err, aio.ErrInvalid)
		}
	}
	if err := r.Close(); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("(*Runner)(nil).Close() = %v; want %v", err, aio.ErrInvalid)
	}
	if err := r.Shutdown(ctx); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("(*Runner)(nil).Shutdown() = %v; want %v", err, aio.ErrInvalid)
	}
	if p := recoverPanic(func() { r.Loop() }); p != nil {
		t.Errorf("(*Runner)(nil).Loop() panicked with %v; want nil, as for a runner without a loop", p)
	}
}
