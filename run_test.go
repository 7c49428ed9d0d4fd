package threadrunner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// Tests of Run and Submit (run.go): values, errors, panics and Goexits
// coming back, cancellation, bad input; the fault matrix (a fault of every
// kind, with a bystander call that must not notice); the slow-task watchdog,
// which reports a task that holds the loop.

// # The bad-input harness, shared by the package's bad-input tests

// badCase is one misuse of the API: call makes it and returns the error it
// got, setting ran if any work it handed over ran (a task, Enter, a body, a
// generator). want is the error it must get (errors.Is).
type badCase struct {
	name string
	call func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error
	want error
	// closes says the case closes the runner itself.
	closes bool
	// startsNothing says the call must leave no goroutine running as it
	// returns.
	startsNothing bool
}

// runBadCases runs each case against a runner made by setup and checks that
// it fails with its error, without panicking or hanging, without running
// what it was given (neither before it returns nor after), and that the
// runner serves on (unless closed is set).
func runBadCases(t *testing.T, tests []badCase, setup func(t *testing.T) *threadrunner.Runner, closed bool) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			r := setup(t)
			var (
				ran    atomic.Bool
				err    error
				p      any
				leaked []string
			)
			ctx := testkit.Context(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				before := testkit.Snapshot()
				p = testkit.RecoverPanic(func() { err = tt.call(ctx, r, &ran) })
				if tt.startsNothing {
					leaked = testkit.Leaked(before) // the calling goroutine is left out
				}
			}()
			testkit.Await(t, done, tt.name)
			if p != nil {
				t.Fatalf("%s panicked with %v; want the error %v", tt.name, p, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("%s = %v; want %v", tt.name, err, tt.want)
			}
			if len(leaked) != 0 {
				t.Errorf("%s started %d goroutine(s); want none:\n%v", tt.name, len(leaked), leaked)
			}
			if r != nil && !closed && !tt.closes {
				servesOn(t, r) // and every refused task would have run by now
			}
			if ran.Load() {
				t.Errorf("%s ran the work it was given; want it refused", tt.name)
			}
		})
	}
}

// runEndedContextCases runs the cases that calls makes with a cancelled, an
// expired and a nil context, against a started runner.
func runEndedContextCases(t *testing.T, calls func(want error) []badCase) {
	t.Helper()
	t.Run("cancelled context", func(t *testing.T) {
		cancelled := func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}
		runBadCases(t, withContext(calls(context.Canceled), cancelled), startedRunner, false)
	})
	t.Run("expired context", func(t *testing.T) {
		expired := func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			_ = cancel // the deadline has passed: it is done already
			return ctx
		}
		runBadCases(t, withContext(calls(context.DeadlineExceeded), expired), startedRunner, false)
	})
	t.Run("nil context", func(t *testing.T) {
		runBadCases(t, withContext(calls(aio.ErrInvalid), func() context.Context { return nilContext }), startedRunner, false)
	})
}

// runInvalidCases runs cases that pass nil where a function, a resource, a
// body, a generator or a context is due, against a started runner: each must
// fail with ErrInvalid.
func runInvalidCases(t *testing.T, tests []badCase) {
	t.Helper()
	for i := range tests {
		tests[i].want = aio.ErrInvalid
	}
	runBadCases(t, tests, startedRunner, false)
}

// nilContext is a nil context, passed on purpose.
var nilContext context.Context

// withContext returns the cases with ctx in place of the one the harness
// passes.
func withContext(tests []badCase, ctx func() context.Context) []badCase {
	for i, tt := range tests {
		call := tt.call
		tests[i].call = func(_ context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return call(ctx(), r, ran)
		}
	}
	return tests
}

// startedRunner returns a new runner whose loop runs, closed when the test
// ends.
func startedRunner(t *testing.T) *threadrunner.Runner {
	r := newRunner(t)
	servesOn(t, r)
	return r
}

// inTask runs fn in a task of r and returns what fn returned.
func inTask(ctx context.Context, r *threadrunner.Runner, fn func(t *aio.Task) error) error {
	err, runErr := threadrunner.Run(ctx, r, func(t *aio.Task) (error, error) { return fn(t), nil })
	if runErr != nil {
		return fmt.Errorf("Run() = %w", runErr)
	}
	return err
}

// markRan returns a task that sets ran.
func markRan(ran *atomic.Bool) func(*aio.Task) (int, error) {
	return func(*aio.Task) (int, error) {
		ran.Store(true)
		return 1, nil
	}
}

// runCalls are Run and Submit, each made with the ctx it is given.
func runCalls(want error) []badCase {
	return []badCase{
		{name: "Run", want: want, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Run(ctx, r, markRan(ran))
			return err
		}},
		{name: "Submit", want: want, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Submit(ctx, r, markRan(ran)).Wait(context.Background())
			return err
		}},
	}
}

// allCalls are the entry points that take a ctx: Run, Submit, With, Open,
// Keep and Iter.
func allCalls(want error) []badCase {
	return slices.Concat(runCalls(want), resourceCalls(want), iterCalls(want))
}

// # Run

func TestRunReturnsValue(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		give int
		want int
	}{
		{give: 0, want: 0},
		{give: 4, want: 8},
		{give: -21, want: -42},
	}
	for _, tt := range tests {
		got, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 2 * tt.give, nil })
		if got != tt.want || err != nil {
			t.Errorf("Run(double %d) = %v, %v; want %v, nil", tt.give, got, err, tt.want)
		}
	}
}

// codeError is an error type that must come back through Run as it went in.
type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestRunReturnsErrorUnchanged(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	wrapped := fmt.Errorf("fetch: %w", testkit.ErrTask)
	coded := &codeError{code: 7}
	tests := []struct {
		name string
		give error
	}{
		{"sentinel", testkit.ErrTask},
		{"wrapped", wrapped},
		{"typed", coded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 3, tt.give })
			if err != tt.give {
				t.Errorf("Run() error = %v; want %v itself", err, tt.give)
			}
			if v != 3 {
				t.Errorf("Run() value = %v; want 3, returned with the error", v)
			}
		})
	}
	_, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 0, wrapped })
	if !errors.Is(err, testkit.ErrTask) {
		t.Errorf("errors.Is(Run() = %v, %v) = false; want true", err, testkit.ErrTask)
	}
	_, err = threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 0, coded })
	var ce *codeError
	if !errors.As(err, &ce) || ce.code != 7 {
		t.Errorf("errors.As(Run() = %v, *codeError) = %v; want code 7", err, ce)
	}
}

// panickingTask is a task that panics with v; its name must show in the
// *aio.PanicError's stack.
func panickingTask(v any) func(*aio.Task) (int, error) {
	return func(*aio.Task) (int, error) { panic(v) }
}

func TestRunPanicGoesOnInCaller(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	before := loopTID(t, r)
	l := r.Loop()
	p := testkit.RecoverPanic(func() {
		threadrunner.Run(context.Background(), r, panickingTask("boom"))
		t.Error("Run() of a panicking task returned; want it to panic")
	})
	pe := panicError(t, p)
	if pe.Value != "boom" {
		t.Errorf("PanicError.Value = %v; want %q", pe.Value, "boom")
	}
	if !bytes.Contains(pe.Stack, []byte("panickingTask")) {
		t.Errorf("PanicError.Stack does not show the task that panicked:\n%s", pe.Stack)
	}
	// The loop serves on, on the same thread.
	if got := loopTID(t, r); got != before || r.Loop() != l {
		t.Errorf("after a panic, tasks run on loop %v thread %d; want %v thread %d", r.Loop(), got, l, before)
	}
}

func TestRunPanicWithErrorUnwraps(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	p := testkit.RecoverPanic(func() { threadrunner.Run(context.Background(), r, panickingTask(testkit.ErrTask)) })
	pe := panicError(t, p)
	if !errors.Is(pe, testkit.ErrTask) {
		t.Errorf("errors.Is(%v, %v) = false; want true", pe, testkit.ErrTask)
	}
}

func TestRunGoexitGoesOnInCaller(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	goexited, p := testkit.Goexits(func() {
		threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) {
			runtime.Goexit()
			return 1, nil
		})
	})
	if !goexited {
		t.Errorf("Run() of a task that called runtime.Goexit returned or panicked (with %v); want runtime.Goexit in the caller", p)
	}
	v, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 5, nil })
	if v != 5 || err != nil {
		t.Errorf("Run() after a Goexit = %v, %v; want 5, nil", v, err)
	}
}

func TestRunCancellation(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		name string
		// ctx returns the context for attempt i (0, 1, ...), which ends
		// once started is closed or, for a deadline, after a while.
		ctx  func(i int, started <-chan struct{}) (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func(_ int, started <-chan struct{}) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-started
				cancel()
			}()
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func(i int, _ <-chan struct{}) (context.Context, context.CancelFunc) {
			// A deadline may pass before a task on a loaded machine
			// starts; each attempt allows ten times longer.
			d := 10 * time.Millisecond
			for range i {
				d *= 10
			}
			return context.WithTimeout(context.Background(), d)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 4 {
				if cancellationAttempt(t, r, tt.want, func(started <-chan struct{}) (context.Context, context.CancelFunc) {
					return tt.ctx(i, started)
				}) {
					return
				}
			}
			t.Fatal("the task never started before its context ended")
		})
	}
}

// cancellationAttempt runs a task that awaits until ctx (made by newCtx)
// ends, and checks how the cancellation reached it. It reports false if ctx
// ended before the task could start, so that nothing was checked.
func cancellationAttempt(t *testing.T, r *threadrunner.Runner, want error, newCtx func(started <-chan struct{}) (context.Context, context.CancelFunc)) bool {
	t.Helper()
	started := make(chan struct{})
	ctx, cancel := newCtx(started)
	defer cancel()
	// Written by the task, read once Run has returned.
	var sleepErr, ctxErr error
	var ran, doneClosed, ended bool
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		ran = true
		close(started)
		sleepErr = aio.Sleep(t, time.Hour)
		ctxErr = t.Context().Err()
		select {
		case <-t.Context().Done():
			doneClosed = true
		default:
		}
		// Cleanup that takes a while: Run must wait for it.
		time.Sleep(5 * time.Millisecond)
		ended = true
		return 0, sleepErr
	})
	if !errors.Is(err, want) {
		t.Errorf("Run() = %v; want %v", err, want)
	}
	if !ran {
		return false
	}
	if !errors.Is(sleepErr, want) {
		t.Errorf("Sleep in the task = %v; want %v", sleepErr, want)
	}
	if ctxErr != want || !doneClosed {
		t.Errorf("task's Context().Err() = %v, Done closed %v; want %v, true", ctxErr, doneClosed, want)
	}
	if !ended {
		t.Error("Run() returned before its cancelled task ended")
	}
	return true
}

func TestRunCancelledTaskErrorIsContextError(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		name    string
		give    error // what the task returns after its await failed
		wantToo error // also in Run's error
	}{
		{"nil", nil, nil},
		{"other error", testkit.ErrTask, testkit.ErrTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
				cancel()
				_, _, _ = aio.Recv(t, make(chan int)) // returns once cancelled
				return 1, tt.give
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run() = %v; want %v", err, context.Canceled)
			}
			if tt.wantToo != nil && !errors.Is(err, tt.wantToo) {
				t.Errorf("Run() = %v; want it to include %v", err, tt.wantToo)
			}
		})
	}
}

func TestRunContextValuesReachTheTask(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	ctx := context.WithValue(context.Background(), testkit.CtxKey{}, "v")
	got, err := threadrunner.Run(ctx, r, func(t *aio.Task) ([3]any, error) {
		child, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (any, error) {
			return t.Context().Value(testkit.CtxKey{}), nil
		}))
		if err != nil {
			return [3]any{}, err
		}
		thread, err := aio.ToThread(t, func(ctx context.Context) (any, error) {
			return ctx.Value(testkit.CtxKey{}), nil
		})
		return [3]any{t.Context().Value(testkit.CtxKey{}), child, thread}, err
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if want := [3]any{"v", "v", "v"}; got != want {
		t.Errorf("ctx value seen by task, child task, ToThread = %v; want %v", got, want)
	}
}

func TestRunBadInput(t *testing.T) {
	t.Run("nil", func(t *testing.T) {
		tests := []badCase{
			{name: "Run nil function", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				_, err := threadrunner.Run[int](ctx, r, nil)
				return err
			}},
			{name: "Submit nil function", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				_, err := threadrunner.Submit[int](ctx, r, nil).Wait(ctx)
				return err
			}},
			{name: "Go nil function", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return inTask(ctx, r, func(t *aio.Task) error {
					_, err := aio.Await(t, aio.Go[int](t, nil))
					return err
				})
			}},
			{name: "ToThread nil function", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return inTask(ctx, r, func(t *aio.Task) error {
					_, err := aio.ToThread[int](t, nil)
					return err
				})
			}},
			{name: "Group.Go nil function", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return inTask(ctx, r, func(t *aio.Task) error {
					g := aio.NewGroup(t)
					g.Go(nil)
					g.Go(func(t *aio.Task) error { // starts cancelled: the group failed
						if err := aio.Sleep(t, time.Hour); !errors.Is(err, context.Canceled) {
							ran.Store(true) // it slept: the failure did not cancel it
						}
						return nil
					})
					return g.Wait()
				})
			}},
			{name: "Future.Wait nil context", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				f := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
				defer f.Cancel()
				_, err := f.Wait(nilContext)
				return err
			}},
		}
		runInvalidCases(t, tests)
	})
	runEndedContextCases(t, runCalls)
}

// # Submit

func TestSubmitReturnsFuture(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	ctx := testkit.Context(t)
	ok := threadrunner.Submit(ctx, r, func(*aio.Task) (string, error) { return "ok", nil })
	failed := threadrunner.Submit(ctx, r, func(*aio.Task) (string, error) { return "", testkit.ErrTask })
	if v, err := ok.Wait(ctx); v != "ok" || err != nil {
		t.Errorf("Wait() = %q, %v; want %q, nil", v, err, "ok")
	}
	if _, err := failed.Wait(ctx); err != testkit.ErrTask {
		t.Errorf("Wait() = %v; want %v", err, testkit.ErrTask)
	}
	select {
	case <-ok.Done():
	default:
		t.Error("Done() is open after Wait returned")
	}
	panicked := threadrunner.Submit(ctx, r, panickingTask("boom"))
	p := testkit.RecoverPanic(func() { panicked.Wait(ctx) })
	if pe := panicError(t, p); pe.Value != "boom" {
		t.Errorf("PanicError.Value = %v; want %q", pe.Value, "boom")
	}
}

func TestSubmitCancel(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		name   string
		cancel func(f *aio.Future[int], cancelCtx context.CancelFunc)
	}{
		{"Future.Cancel", func(f *aio.Future[int], _ context.CancelFunc) { f.Cancel() }},
		{"ctx", func(_ *aio.Future[int], cancelCtx context.CancelFunc) { cancelCtx() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			var sleepErr error
			f := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
				close(started)
				sleepErr = aio.Sleep(t, time.Hour)
				return 0, sleepErr
			})
			<-started
			tt.cancel(f, cancel)
			if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait() = %v; want %v", err, context.Canceled)
			}
			if !errors.Is(sleepErr, context.Canceled) {
				t.Errorf("Sleep in the task = %v; want %v", sleepErr, context.Canceled)
			}
		})
	}
}

func TestSubmitWaitContextBoundsOnlyTheWait(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	release := make(chan int)
	f := threadrunner.Submit(context.Background(), r, func(t *aio.Task) (int, error) {
		v, _, err := aio.Recv(t, release)
		return v, err
	})
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := f.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait(short ctx) = %v; want %v", err, context.DeadlineExceeded)
	}
	release <- 42 // the task still runs and receives it
	if v, err := f.Wait(testkit.Context(t)); v != 42 || err != nil {
		t.Errorf("Wait() = %v, %v; want 42, nil", v, err)
	}
}

func TestSubmitFromTask(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	v, err := threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) {
		f := threadrunner.Submit(t.Context(), r, func(*aio.Task) (int, error) { return 21, nil })
		n, err := aio.Await(t, f)
		return 2 * n, err
	})
	if v != 42 || err != nil {
		t.Errorf("Run(Submit and Await from a task) = %v, %v; want 42, nil", v, err)
	}
}

// # Panics that were retrieved

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestRetrievedPanicsAreNotRetained checks what the soak (bench/cmd/soak) found: a long-lived
// runner whose tasks panic, each panic retrieved by the Run that waited for
// it, must not keep those panics (their futures and stacks) until Close.
func TestRetrievedPanicsAreNotRetained(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	defer r.Close()
	ctx := context.Background()
	panics := func(n int) int {
		got := 0
		for range n {
			func() {
				defer func() {
					if _, ok := recover().(*aio.PanicError); ok {
						got++
					}
				}()
				threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { panic("boom") })
			}()
		}
		return got
	}
	const warm, n = 1000, 10_000
	panics(warm)
	before := liveHeap()
	if got := panics(n); got != n {
		t.Fatalf("recovered %d *aio.PanicError from %d panicking Runs; want %d", got, n, n)
	}
	after := liveHeap()
	if grew := int64(after) - int64(before); grew > 4<<20 {
		t.Errorf("live heap grew by %d bytes (%d per retrieved panic) over %d panicking Runs; want < 4 MiB in all",
			grew, grew/n, n)
	}
}

// # The fault matrix

// faultRunner returns a runner for a fault test, closed (with a nil
// error) when the test ends, and the recorder of what its loop logs.
func faultRunner(t *testing.T, opts ...aio.Option) (*threadrunner.Runner, *testkit.LogSink) {
	t.Helper()
	rec := &testkit.LogSink{}
	return newRunner(t, append([]aio.Option{aio.Logger(rec.Logger())}, opts...)...), rec
}

// bystander starts a call, from another goroutine, that waits on the
// loop while a fault happens, and returns a function that lets it finish and
// fails t unless it got exactly its own result: no fault leaked into it.
func bystander(t *testing.T, r *threadrunner.Runner) (check func()) {
	t.Helper()
	ctx := testkit.Context(t)
	release := make(chan struct{})
	started := make(chan struct{})
	type outcome struct {
		v   int
		err error
		p   any
	}
	out := make(chan outcome, 1)
	go func() {
		var o outcome
		o.p = testkit.RecoverPanic(func() {
			o.v, o.err = threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
				close(started)
				if _, _, err := aio.Recv(t, release); err != nil {
					return 0, err
				}
				return 42, nil
			})
		})
		out <- o
	}()
	testkit.Await(t, started, "the bystander to start")
	return func() {
		t.Helper()
		close(release)
		if o := testkit.Await(t, out, "the bystander to return"); o.p != nil || o.v != 42 || o.err != nil {
			t.Errorf("bystander Run() = %v, %v, panic %v; want 42, nil, no panic", o.v, o.err, o.p)
		}
	}
}

// noLogs fails t if the loop logged anything: every fault must reach a
// caller, not a log.
func noLogs(t *testing.T, rec *testkit.LogSink) {
	t.Helper()
	for _, r := range rec.Records() {
		t.Errorf("the loop logged %q %v; want nothing", r.Message, r.Attrs)
	}
}

//go:noinline
func panicAfterAwait(t *aio.Task) (int, error) {
	_ = aio.Sleep(t, 0)
	panic(&faultValue{"task"})
}

//go:noinline
func panicInToThread(context.Context) (int, error) {
	panic(&faultValue{"ToThread"})
}

func TestFault(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *threadrunner.Runner)
	}{
		{"panic in a task", faultTaskPanic},
		{"panic in Enter", faultEnterPanic},
		{"panic in Exit", faultExitPanic},
		{"panic in a generator", faultGeneratorPanic},
		{"panic in a With body", faultBodyPanic},
		{"panic in a ToThread function", faultToThreadPanic},
		{"Exit awaits in a cancelled task", faultExitAwaitsCancelled},
		{"Exit awaits in a task that Close cancels", faultExitAwaitsClose},
		{"generator ignores yield returning false", func(t *testing.T, r *threadrunner.Runner) {
			checkYieldAfterStop(t, r, 5, threadrunner.BatchSize(8))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			r, rec := faultRunner(t)
			check := bystander(t, r)
			tt.run(t, r)
			check()
			servesOn(t, r)
			noLogs(t, rec)
		})
	}
}

func faultTaskPanic(t *testing.T, r *threadrunner.Runner) {
	p := testkit.RecoverPanic(func() { _, _ = threadrunner.Run(testkit.Context(t), r, panicAfterAwait) })
	pe := panicError(t, p)
	if v, ok := pe.Value.(*faultValue); !ok || v.where != "task" {
		t.Errorf("Run() panicked with %v; want the task's panic", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panicAfterAwait") {
		t.Errorf("the panic's stack does not name the task:\n%s", pe.Stack)
	}
	// A submitted task's panic comes out of Wait.
	f := threadrunner.Submit(testkit.Context(t), r, panicAfterAwait)
	p = testkit.RecoverPanic(func() { _, _ = f.Wait(testkit.Context(t)) })
	if pe := panicError(t, p); pe.Value.(*faultValue).where != "task" {
		t.Errorf("Wait() panicked with %v; want the task's panic", pe.Value)
	}
}

func faultEnterPanic(t *testing.T, r *threadrunner.Runner) {
	calls := []struct {
		name string
		call func(res *probe) error
	}{
		{"With", func(res *probe) error {
			return threadrunner.With(testkit.Context(t), r, res, func(*probe) error {
				t.Error("With ran its body after Enter panicked")
				return nil
			})
		}},
		{"Open", func(res *probe) error {
			_, release, err := threadrunner.Open(testkit.Context(t), r, res)
			if release != nil {
				t.Error("Open returned a release after Enter panicked")
			}
			return err
		}},
		{"Keep", func(res *probe) error {
			_, err := threadrunner.Keep(testkit.Context(t), r, res)
			return err
		}},
	}
	for _, c := range calls {
		want := &faultValue{"Enter"}
		res := &probe{name: "enter", enterPanic: want}
		var err error
		p := testkit.RecoverPanic(func() { err = c.call(res) })
		if p == nil {
			t.Errorf("%s() = %v and did not panic; want Enter's panic", c.name, err)
			continue
		}
		if pe := panicError(t, p); pe.Value != want {
			t.Errorf("%s() panicked with %v; want Enter's panic %v", c.name, pe.Value, want)
		}
		if res.enters != 1 || res.exits != 0 {
			t.Errorf("%s: Enter ran %d times, Exit %d times; want 1 and 0", c.name, res.enters, res.exits)
		}
	}
}

func faultExitPanic(t *testing.T, r *threadrunner.Runner) {
	want := &faultValue{"Exit"}
	res := &probe{name: "exit", id: 1, exitPanic: want}
	err := threadrunner.With(testkit.Context(t), r, res, func(*probe) error { return nil })
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != want {
		t.Errorf("With() = %v; want an error holding Exit's *aio.PanicError", err)
	}
	if err := res.check(); err != nil || res.entered != 1 {
		t.Errorf("With: %v (entered %d times)", err, res.entered)
	}

	res = &probe{name: "exit", id: 2, exitPanic: want}
	_, release, err := threadrunner.Open(testkit.Context(t), r, res)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	if err := release(errors.New("use failed")); !errors.As(err, &pe) || pe.Value != want {
		t.Errorf("release() = %v; want an error holding Exit's *aio.PanicError", err)
	}
	if err := release(nil); err != nil {
		t.Errorf("second release() = %v; want nil", err)
	}
	if err := res.check(); err != nil || res.entered != 1 {
		t.Errorf("Open: %v (entered %d times)", err, res.entered)
	}
}

func faultGeneratorPanic(t *testing.T, r *threadrunner.Runner) {
	want := &faultValue{"generator"}
	cleaned := 0 // loop-owned
	seq := func(t *aio.Task, yield func(int) bool) error {
		defer func() { cleaned++ }()
		for i := range 10 {
			if !yield(i) {
				return nil
			}
			if i == 4 {
				_ = aio.Sleep(t, 0)
			}
		}
		panic(want)
	}
	var got []int
	p := testkit.RecoverPanic(func() {
		for v, err := range threadrunner.Iter(testkit.Context(t), r, seq, threadrunner.BatchSize(3)) {
			if err != nil {
				t.Errorf("Iter yielded error %v; want values, then a panic", err)
			}
			got = append(got, v)
		}
	})
	if pe := panicError(t, p); pe.Value != want {
		t.Errorf("range loop panicked with %v; want the generator's panic", pe.Value)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
		t.Errorf("values before the panic = %v; want %v", got, want)
	}
	if cleaned != 1 {
		t.Errorf("the generator's cleanup ran %d times; want 1", cleaned)
	}
}

func faultBodyPanic(t *testing.T, r *threadrunner.Runner) {
	want := &faultValue{"body"}
	res := &probe{name: "body"}
	p := testkit.RecoverPanic(func() {
		_ = threadrunner.With(testkit.Context(t), r, res, func(*probe) error { panic(want) })
	})
	if p != any(want) {
		t.Errorf("With() panicked with %v; want the body's own panic value %v", p, want)
	}
	if err := res.check(); err != nil || res.entered != 1 {
		t.Fatalf("%v (entered %d times)", err, res.entered)
	}
	var pe *aio.PanicError
	if !errors.As(res.hows[0], &pe) || pe.Value != want {
		t.Errorf("Exit was told %v; want a *aio.PanicError holding the body's panic", res.hows[0])
	}
}

func faultToThreadPanic(t *testing.T, r *threadrunner.Runner) {
	p := testkit.RecoverPanic(func() {
		_, _ = threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (int, error) {
			return aio.ToThread(t, panicInToThread)
		})
	})
	pe := panicError(t, p)
	if v, ok := pe.Value.(*faultValue); !ok || v.where != "ToThread" {
		t.Errorf("Run() panicked with %v; want the ToThread function's panic", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panicInToThread") {
		t.Errorf("the panic's stack does not name the ToThread function:\n%s", pe.Stack)
	}
	// The task can also recover it itself.
	v, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (v string, err error) {
		defer func() {
			if p := recover(); p != nil {
				v = "recovered " + p.(*aio.PanicError).Value.(*faultValue).where
			}
		}()
		_, err = aio.ToThread(t, panicInToThread)
		return "no panic", err
	})
	if v != "recovered ToThread" || err != nil {
		t.Errorf("Run() = %q, %v; want %q, nil", v, err, "recovered ToThread")
	}
}

// awaitingExit returns a resource whose Exit awaits something that never
// comes, in its own task, and records what the await returned.
func awaitingExit(awaited *error) *probe {
	return &probe{name: "awaiting", exit: func(t *aio.Task, how error) error {
		_, _, err := aio.Recv(t, make(chan int)) // nothing ever comes
		*awaited = err
		return err
	}}
}

// faultExitAwaitsCancelled cancels a task while it is inside aio.With:
// the body's await and then Exit's await return at once, so the caller is
// not left hanging.
func faultExitAwaitsCancelled(t *testing.T, r *threadrunner.Runner) {
	var awaited error // loop-owned
	res := awaitingExit(&awaited)
	ctx, cancel := context.WithCancel(testkit.Context(t))
	inBody := make(chan struct{})
	go func() {
		<-inBody
		cancel()
	}()
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		return 0, aio.With(t, res, func(*probe) error {
			close(inBody)
			return aio.Sleep(t, time.Hour)
		})
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, aio.ErrClosed) {
		t.Errorf("Run() = %v; want context.Canceled", err)
	}
	if err := res.check(); err != nil || res.entered != 1 {
		t.Fatalf("%v (entered %d times)", err, res.entered)
	}
	if !errors.Is(res.hows[0], context.Canceled) {
		t.Errorf("Exit was told %v; want context.Canceled", res.hows[0])
	}
	if !errors.Is(awaited, context.Canceled) {
		t.Errorf("the await in Exit returned %v; want context.Canceled", awaited)
	}
}

// faultExitAwaitsClose closes a second runner while one of its tasks is
// inside aio.With: Close cancels the task, Exit's await returns at once, and
// Close does not hang.
func faultExitAwaitsClose(t *testing.T, _ *threadrunner.Runner) {
	r := threadrunner.New()
	var awaited error // loop-owned
	res := awaitingExit(&awaited)
	inBody := make(chan struct{})
	f := threadrunner.Submit(testkit.Context(t), r, func(t *aio.Task) (int, error) {
		return 0, aio.With(t, res, func(*probe) error {
			close(inBody)
			return aio.Sleep(t, time.Hour)
		})
	})
	testkit.Await(t, inBody, "the body to start")
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	if err := testkit.Await(t, closed, "Close to return while an Exit awaits"); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want ErrClosed and context.Canceled", err)
	}
	if err := res.check(); err != nil || res.entered != 1 {
		t.Fatalf("%v (entered %d times)", err, res.entered)
	}
	if !errors.Is(awaited, context.Canceled) {
		t.Errorf("the await in Exit returned %v; want context.Canceled", awaited)
	}
}

func TestFaultTaskNeverAwaits(t *testing.T) {
	testkit.Check(t)
	rec := &testkit.LogSink{}
	r := newRunner(t, aio.SlowTask(20*time.Millisecond), aio.Logger(rec.Logger()))
	check := bystander(t, r)
	ctx := testkit.Context(t)
	h := newLoopHogger(rec, "")
	hog := threadrunner.Submit(ctx, r, h.hog)
	testkit.Await(t, h.hogging, "the hog to start")
	// Calls made while the hog holds the loop wait for it, then run.
	results := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) {
				if !h.done.Load() {
					return 0, errors.New("a task ran while the hog held the loop")
				}
				return 2, nil
			})
			results <- err
		}()
	}
	for range 3 {
		if err := <-results; err != nil {
			t.Errorf("Run() while the hog held the loop = %v; want nil", err)
		}
	}
	if v, err := hog.Wait(ctx); v != 1 || err != nil {
		t.Errorf("hog's Wait() = %v, %v; want 1, nil", v, err)
	}
	check()
	servesOn(t, r)
	checkHogWarning(t, rec, "loopHogger", 20*time.Millisecond)
}

// # The slow-task watchdog

// blockingMsg is the slow-task watchdog's warning about a step that is still
// holding the loop.
const blockingMsg = "aio: task is blocking the loop"

// loopHogger is a task that holds the loop without awaiting.
type loopHogger struct {
	rec     *testkit.LogSink
	name    string        // if set, the task first names itself so
	hogging chan struct{} // closed when the hog starts holding the loop
	done    atomic.Bool   // set when it stops
}

func newLoopHogger(rec *testkit.LogSink, name string) *loopHogger {
	return &loopHogger{rec: rec, name: name, hogging: make(chan struct{})}
}

// hog is the task. Its step holds the loop until holdLoop returns.
func (h *loopHogger) hog(t *aio.Task) (int, error) {
	if h.name != "" {
		t.SetName(h.name)
	}
	close(h.hogging)
	holdLoop(h.rec, h.reported)
	h.done.Store(true)
	return 1, nil
}

// reported reports whether w is the watchdog's warning about the hog: it
// names the hog's function or name, or shows holdLoop on its stack.
func (h *loopHogger) reported(w testkit.Record) bool {
	task := w.Attrs["task"]
	return w.Message == blockingMsg && (strings.Contains(task, "loopHogger") ||
		h.name != "" && strings.Contains(task, h.name) ||
		strings.Contains(w.Attrs["stack"], "holdLoop"))
}

// holdLoop holds the loop without awaiting: it busy-waits at least 60ms, and
// until rec holds a record for which reported is true (bounded by
// testkit.Timeout, so that a library that never warns fails rather than
// hangs).
//
//go:noinline
func holdLoop(rec *testkit.LogSink, reported func(testkit.Record) bool) {
	start := time.Now()
	for time.Since(start) < 60*time.Millisecond || !slices.ContainsFunc(rec.Records(), reported) {
		if time.Since(start) > testkit.Timeout {
			return
		}
	}
}

// checkHogWarning fails t unless rec holds exactly one warning that the loop
// is blocked by a task whose name contains name, with a stack in holdLoop,
// held at least threshold.
func checkHogWarning(t *testing.T, rec *testkit.LogSink, name string, threshold time.Duration) {
	t.Helper()
	warnings := rec.Find(blockingMsg, "task", name)
	if len(warnings) != 1 {
		t.Fatalf("got %d warnings %q naming %q; want 1 (all records: %v)", len(warnings), blockingMsg, name, rec.Records())
	}
	w := warnings[0]
	if w.Level != slog.LevelWarn {
		t.Errorf("the warning's level is %v; want %v", w.Level, slog.LevelWarn)
	}
	if stack := w.Attrs["stack"]; !strings.Contains(stack, "holdLoop") || !strings.Contains(stack, "loopHogger") {
		t.Errorf("the warning's stack does not show the busy function holdLoop called by the task:\n%s", stack)
	}
	if held, err := time.ParseDuration(w.Attrs["held"]); err != nil || held < threshold {
		t.Errorf("the warning says held=%q; want a duration of at least %v", w.Attrs["held"], threshold)
	}
	if got := w.Attrs["threshold"]; got != threshold.String() {
		t.Errorf("the warning says threshold=%q; want %q", got, threshold)
	}
}

// stepEndedMsg is the warning about a slow step that ended before the
// watchdog reported it.
const stepEndedMsg = "aio: task step blocked the loop"

func TestSlowTaskWarning(t *testing.T) {
	const threshold = 10 * time.Millisecond
	tests := []struct {
		name string
		warm bool // a task ran before, so the hog reuses its coroutine
		// how the hog is named: "" by its function, else by SetName, in
		// the step that hogs or in an earlier one.
		setName     string
		earlierStep bool
		want        string // what the warning's task attribute must contain
	}{
		{name: "function name, first task of the loop", want: "(*loopHogger).hog"},
		{name: "function name, reused coroutine", warm: true, want: "(*loopHogger).hog"},
		{name: "SetName in an earlier step", warm: true, setName: "hog-a", earlierStep: true, want: "(hog-a)"},
		{name: "SetName in the slow step", warm: true, setName: "hog-b", want: "(hog-b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			rec := &testkit.LogSink{}
			r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(rec.Logger()), aio.Name("slow-loop"))
			ctx := testkit.Context(t)
			if tt.warm {
				servesOn(t, r)
			}
			h := newLoopHogger(rec, "")
			task := h.hog
			if tt.earlierStep {
				task = func(t *aio.Task) (int, error) {
					t.SetName(tt.setName)
					if err := aio.Sleep(t, 0); err != nil {
						return 0, err
					}
					return h.hog(t)
				}
			} else {
				h.name = tt.setName
			}
			if v, err := threadrunner.Run(ctx, r, task); v != 1 || err != nil {
				t.Errorf("Run(hog) = %v, %v; want 1, nil", v, err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
			checkHogWarning(t, rec, tt.want, threshold)
			for _, w := range rec.Find(blockingMsg, "task", tt.want) {
				if w.Attrs["loop"] != "slow-loop" {
					t.Errorf("the warning names loop %q; want %q", w.Attrs["loop"], "slow-loop")
				}
			}
			if ended := rec.Find(stepEndedMsg, "task", tt.want); len(ended) != 0 {
				t.Errorf("the step the watchdog reported was reported again when it ended: %v", ended)
			}
		})
	}
}

func TestSlowTaskFastTasksNotReported(t *testing.T) {
	testkit.Check(t)
	// A threshold far above any step here, so that a busy machine cannot
	// make a fast step look slow; the tasks wait much longer than it in
	// total, suspended, which must not count.
	const threshold = 200 * time.Millisecond
	rec := &testkit.LogSink{}
	r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(rec.Logger()))
	ctx := testkit.Context(t)
	for i := range 50 {
		if v, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return i, nil }); v != i || err != nil {
			t.Fatalf("Run() = %v, %v; want %d, nil", v, err, i)
		}
	}
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error { return aio.Sleep(t, 3*threshold/2) }) // awaits on the loop
		g.Go(func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(context.Context) (int, error) {
				time.Sleep(3 * threshold / 2) // blocks a worker, not the loop
				return 0, nil
			})
			return err
		})
		return 0, g.Wait()
	})
	if err != nil {
		t.Errorf("Run(waiting tasks) = %v; want nil", err)
	}
	for _, err := range threadrunner.Iter(ctx, r, aio.SliceSeq(make([]int, 1000))) {
		if err != nil {
			t.Errorf("Iter yielded %v; want nil", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	for _, rec := range rec.Records() {
		t.Errorf("the loop logged %q %v; want nothing: no step was slow", rec.Message, rec.Attrs)
	}
}

// spinFor busy-waits for d without awaiting.
//
//go:noinline
func spinFor(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func TestSlowTaskReportedWhenStepEnds(t *testing.T) {
	testkit.Check(t)
	// Steps just over the threshold often end before the watchdog, which
	// looks every quarter of it and then takes a stack dump, can report
	// them: the loop must report those when they end. Every slow step is
	// reported, at least once and at most once by each side.
	const threshold = time.Millisecond
	rec := &testkit.LogSink{}
	r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(rec.Logger()))
	ctx := testkit.Context(t)
	endReports := 0
	for i := 0; i < 500 && endReports == 0; i++ {
		name := fmt.Sprintf("step-%d", i)
		_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
			t.SetName(name)
			if err := aio.Sleep(t, 0); err != nil { // the slow step is the next one
				return 0, err
			}
			spinFor(threshold + threshold/5)
			return 0, nil
		})
		if err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		// Reading the records is safe once Run has returned for the
		// loop's own report; the watchdog's may come a little later, so
		// wait for at least one.
		tag := "(" + name + ")"
		var blocking, ended []testkit.Record
		deadline := time.Now().Add(testkit.Timeout)
		for {
			blocking, ended = rec.Find(blockingMsg, "task", tag), rec.Find(stepEndedMsg, "task", tag)
			if len(blocking)+len(ended) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if len(blocking)+len(ended) == 0 {
			t.Fatalf("%s held the loop over the threshold and was never reported", name)
		}
		if len(blocking) > 1 || len(ended) > 1 {
			t.Errorf("%s was reported %d times by the watchdog and %d times when it ended; want at most once each", name, len(blocking), len(ended))
		}
		for _, e := range ended {
			endReports++
			if held, err := time.ParseDuration(e.Attrs["held"]); err != nil || held < threshold {
				t.Errorf("%s: the report says held=%q; want a duration of at least %v", name, e.Attrs["held"], threshold)
			}
			if e.Level != slog.LevelWarn || e.Attrs["threshold"] != threshold.String() {
				t.Errorf("%s: the report is %v %v; want a warning with threshold=%v", name, e.Level, e.Attrs, threshold)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if endReports == 0 {
		t.Errorf("no slow step was reported when it ended (the watchdog caught all 500): want the loop's own report")
	}
	// The watchdog's reports carry the stack of the step's goroutine. (A
	// step barely over the threshold may be caught in its tail, after
	// spinFor returned: TestSlowTaskWarning checks the stack's frames.)
	for _, w := range rec.Find(blockingMsg, "task", "(step-") {
		if !strings.HasPrefix(w.Attrs["stack"], "goroutine ") {
			t.Errorf("a watchdog report's stack is %q; want a goroutine's stack", w.Attrs["stack"])
		}
	}
}
