package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// relFaultRunner returns a runner for a fault test, closed (with a nil
// error) when the test ends, and the recorder of what its loop logs.
func relFaultRunner(t *testing.T, opts ...aio.Option) (*threadrunner.Runner, *relRecorder) {
	t.Helper()
	rec := &relRecorder{}
	return newRunner(t, append([]aio.Option{aio.Logger(slog.New(rec))}, opts...)...), rec
}

// relBystander starts a call, from another goroutine, that waits on the
// loop while a fault happens, and returns a function that lets it finish and
// fails t unless it got exactly its own result: no fault leaked into it.
func relBystander(t *testing.T, r *threadrunner.Runner) (check func()) {
	t.Helper()
	ctx := testContext(t)
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
		o.p = relCatch(func() {
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
	relAwait(t, started, "the bystander to start")
	return func() {
		t.Helper()
		close(release)
		select {
		case o := <-out:
			if o.p != nil || o.v != 42 || o.err != nil {
				t.Errorf("bystander Run() = %v, %v, panic %v; want 42, nil, no panic", o.v, o.err, o.p)
			}
		case <-time.After(testTimeout):
			t.Fatalf("the bystander never returned; goroutines:\n%s", relDump())
		}
	}
}

// relNoLogs fails t if the loop logged anything: every fault must reach a
// caller, not a log.
func relNoLogs(t *testing.T, rec *relRecorder) {
	t.Helper()
	for _, r := range rec.list() {
		t.Errorf("the loop logged %q %v; want nothing", r.msg, r.attrs)
	}
}

// relFaultValue is what the fault tests panic with.
type relFaultValue struct{ where string }

//go:noinline
func relPanickingTask(t *aio.Task) (int, error) {
	_ = aio.Sleep(t, 0)
	panic(&relFaultValue{"task"})
}

//go:noinline
func relPanickingToThread(context.Context) (int, error) {
	panic(&relFaultValue{"ToThread"})
}

func TestFault(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *threadrunner.Runner)
	}{
		{"panic in a task", relFaultTaskPanic},
		{"panic in Enter", relFaultEnterPanic},
		{"panic in Exit", relFaultExitPanic},
		{"panic in a generator", relFaultGeneratorPanic},
		{"panic in a With body", relFaultBodyPanic},
		{"panic in a ToThread function", relFaultToThreadPanic},
		{"Exit awaits in a cancelled task", relFaultExitAwaitsCancelled},
		{"Exit awaits in a task that Close cancels", relFaultExitAwaitsClose},
		{"generator ignores yield returning false", relCheckYieldAfterStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			r, rec := relFaultRunner(t)
			check := relBystander(t, r)
			tt.run(t, r)
			check()
			relServesOn(t, r)
			relNoLogs(t, rec)
		})
	}
}

func relFaultTaskPanic(t *testing.T, r *threadrunner.Runner) {
	p := relCatch(func() { _, _ = threadrunner.Run(testContext(t), r, relPanickingTask) })
	pe := relPanicError(t, p)
	if v, ok := pe.Value.(*relFaultValue); !ok || v.where != "task" {
		t.Errorf("Run() panicked with %v; want the task's panic", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "relPanickingTask") {
		t.Errorf("the panic's stack does not name the task:\n%s", pe.Stack)
	}
	// A submitted task's panic comes out of Wait.
	f := threadrunner.Submit(testContext(t), r, relPanickingTask)
	p = relCatch(func() { _, _ = f.Wait(testContext(t)) })
	if pe := relPanicError(t, p); pe.Value.(*relFaultValue).where != "task" {
		t.Errorf("Wait() panicked with %v; want the task's panic", pe.Value)
	}
}

func relFaultEnterPanic(t *testing.T, r *threadrunner.Runner) {
	calls := []struct {
		name string
		call func(res *relResource) error
	}{
		{"With", func(res *relResource) error {
			return threadrunner.With(testContext(t), r, res, func(int) error {
				t.Error("With ran its body after Enter panicked")
				return nil
			})
		}},
		{"Open", func(res *relResource) error {
			_, release, err := threadrunner.Open(testContext(t), r, res)
			if release != nil {
				t.Error("Open returned a release after Enter panicked")
			}
			return err
		}},
		{"Keep", func(res *relResource) error {
			_, err := threadrunner.Keep(testContext(t), r, res)
			return err
		}},
	}
	for _, c := range calls {
		want := &relFaultValue{"Enter"}
		res := &relResource{id: 1, enterPanic: want}
		var err error
		p := relCatch(func() { err = c.call(res) })
		if p == nil {
			t.Errorf("%s() = %v and did not panic; want Enter's panic", c.name, err)
			continue
		}
		if pe := relPanicError(t, p); pe.Value != want {
			t.Errorf("%s() panicked with %v; want Enter's panic %v", c.name, pe.Value, want)
		}
		if res.attempts != 1 || res.exits != 0 {
			t.Errorf("%s: Enter ran %d times, Exit %d times; want 1 and 0", c.name, res.attempts, res.exits)
		}
	}
}

func relFaultExitPanic(t *testing.T, r *threadrunner.Runner) {
	want := &relFaultValue{"Exit"}
	res := &relResource{id: 1, exitPanic: want}
	err := threadrunner.With(testContext(t), r, res, func(int) error { return nil })
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != want {
		t.Errorf("With() = %v; want an error holding Exit's *aio.PanicError", err)
	}
	if err := res.check(); err != nil || res.enters != 1 {
		t.Errorf("With: %v (entered %d times)", err, res.enters)
	}

	res = &relResource{id: 2, exitPanic: want}
	_, release, err := threadrunner.Open(testContext(t), r, res)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	if err := release(errors.New("use failed")); !errors.As(err, &pe) || pe.Value != want {
		t.Errorf("release() = %v; want an error holding Exit's *aio.PanicError", err)
	}
	if err := release(nil); err != nil {
		t.Errorf("second release() = %v; want nil", err)
	}
	if err := res.check(); err != nil || res.enters != 1 {
		t.Errorf("Open: %v (entered %d times)", err, res.enters)
	}
}

func relFaultGeneratorPanic(t *testing.T, r *threadrunner.Runner) {
	want := &relFaultValue{"generator"}
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
	p := relCatch(func() {
		for v, err := range threadrunner.Iter(testContext(t), r, seq, threadrunner.BatchSize(3)) {
			if err != nil {
				t.Errorf("Iter yielded error %v; want values, then a panic", err)
			}
			got = append(got, v)
		}
	})
	if pe := relPanicError(t, p); pe.Value != want {
		t.Errorf("range loop panicked with %v; want the generator's panic", pe.Value)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
		t.Errorf("values before the panic = %v; want %v", got, want)
	}
	if cleaned != 1 {
		t.Errorf("the generator's cleanup ran %d times; want 1", cleaned)
	}
}

func relFaultBodyPanic(t *testing.T, r *threadrunner.Runner) {
	want := &relFaultValue{"body"}
	res := &relResource{id: 1}
	p := relCatch(func() {
		_ = threadrunner.With(testContext(t), r, res, func(int) error { panic(want) })
	})
	if p != any(want) {
		t.Errorf("With() panicked with %v; want the body's own panic value %v", p, want)
	}
	if err := res.check(); err != nil || res.enters != 1 {
		t.Fatalf("%v (entered %d times)", err, res.enters)
	}
	var pe *aio.PanicError
	if !errors.As(res.hows[0], &pe) || pe.Value != want {
		t.Errorf("Exit was told %v; want a *aio.PanicError holding the body's panic", res.hows[0])
	}
}

func relFaultToThreadPanic(t *testing.T, r *threadrunner.Runner) {
	p := relCatch(func() {
		_, _ = threadrunner.Run(testContext(t), r, func(t *aio.Task) (int, error) {
			return aio.ToThread(t, relPanickingToThread)
		})
	})
	pe := relPanicError(t, p)
	if v, ok := pe.Value.(*relFaultValue); !ok || v.where != "ToThread" {
		t.Errorf("Run() panicked with %v; want the ToThread function's panic", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "relPanickingToThread") {
		t.Errorf("the panic's stack does not name the ToThread function:\n%s", pe.Stack)
	}
	// The task can also recover it itself.
	v, err := threadrunner.Run(testContext(t), r, func(t *aio.Task) (v string, err error) {
		defer func() {
			if p := recover(); p != nil {
				v = "recovered " + p.(*aio.PanicError).Value.(*relFaultValue).where
			}
		}()
		_, err = aio.ToThread(t, relPanickingToThread)
		return "no panic", err
	})
	if v != "recovered ToThread" || err != nil {
		t.Errorf("Run() = %q, %v; want %q, nil", v, err, "recovered ToThread")
	}
}

// relAwaitingExit returns a resource whose Exit awaits something that never
// comes, in its own task, and records what the await returned.
func relAwaitingExit(awaited *error) *relResource {
	return &relResource{id: 1, onExit: func(t *aio.Task, how error) error {
		_, _, err := aio.Recv(t, make(chan int)) // nothing ever comes
		*awaited = err
		return err
	}}
}

// relFaultExitAwaitsCancelled cancels a task while it is inside aio.With:
// the body's await and then Exit's await return at once, so the caller is
// not left hanging.
func relFaultExitAwaitsCancelled(t *testing.T, r *threadrunner.Runner) {
	var awaited error // loop-owned
	res := relAwaitingExit(&awaited)
	ctx, cancel := context.WithCancel(testContext(t))
	inBody := make(chan struct{})
	go func() {
		<-inBody
		cancel()
	}()
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		return 0, aio.With(t, res, func(int) error {
			close(inBody)
			return aio.Sleep(t, time.Hour)
		})
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, aio.ErrClosed) {
		t.Errorf("Run() = %v; want context.Canceled", err)
	}
	if err := res.check(); err != nil || res.enters != 1 {
		t.Fatalf("%v (entered %d times)", err, res.enters)
	}
	if !errors.Is(res.hows[0], context.Canceled) {
		t.Errorf("Exit was told %v; want context.Canceled", res.hows[0])
	}
	if !errors.Is(awaited, context.Canceled) {
		t.Errorf("the await in Exit returned %v; want context.Canceled", awaited)
	}
}

// relFaultExitAwaitsClose closes a second runner while one of its tasks is
// inside aio.With: Close cancels the task, Exit's await returns at once, and
// Close does not hang.
func relFaultExitAwaitsClose(t *testing.T, _ *threadrunner.Runner) {
	r := threadrunner.New()
	var awaited error // loop-owned
	res := relAwaitingExit(&awaited)
	inBody := make(chan struct{})
	f := threadrunner.Submit(testContext(t), r, func(t *aio.Task) (int, error) {
		return 0, aio.With(t, res, func(int) error {
			close(inBody)
			return aio.Sleep(t, time.Hour)
		})
	})
	relAwait(t, inBody, "the body to start")
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	case <-time.After(testTimeout):
		t.Fatalf("Close hung on an Exit that awaits; goroutines:\n%s", relDump())
	}
	if _, err := f.Wait(testContext(t)); !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want ErrClosed and context.Canceled", err)
	}
	if err := res.check(); err != nil || res.enters != 1 {
		t.Fatalf("%v (entered %d times)", err, res.enters)
	}
	if !errors.Is(awaited, context.Canceled) {
		t.Errorf("the await in Exit returned %v; want context.Canceled", awaited)
	}
}

func TestFaultExitPanicsDuringClose(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	ledger := &relLedger{}
	want := &relFaultValue{"Exit during Close"}
	failing := errors.New("exit failed")
	res := []*relResource{
		{id: 1, ledger: ledger},
		{id: 2, ledger: ledger, exitPanic: want},
		{id: 3, ledger: ledger, exitErr: failing},
		{id: 4, ledger: ledger},
	}
	for _, p := range res {
		if _, err := threadrunner.Keep(testContext(t), r, p); err != nil {
			t.Fatalf("Keep(%d) = %v; want nil", p.id, err)
		}
	}
	err := r.Close()
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != want {
		t.Errorf("Close() = %v; want it to hold Exit's *aio.PanicError", err)
	}
	if !errors.Is(err, failing) {
		t.Errorf("Close() = %v; want it to hold %v too: one failure does not skip the rest", err, failing)
	}
	if err2 := r.Close(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second Close() = %v; want the same as the first, %v", err2, err)
	}
	for _, p := range res {
		if err := p.check(); err != nil || p.enters != 1 {
			t.Errorf("%v (entered %d times)", err, p.enters)
		}
	}
	var exits []int
	for _, e := range ledger.events {
		if e.kind == "exit" {
			exits = append(exits, e.id)
		}
	}
	if want := []int{4, 3, 2, 1}; !slices.Equal(exits, want) {
		t.Errorf("Close exited %v; want %v, the reverse order of entry", exits, want)
	}
	select {
	case <-r.Loop().Done():
	default:
		t.Error("the loop still runs after Close")
	}
}

func TestFaultExitAwaitsPastShutdownDeadline(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	var awaited error // loop-owned
	res := relAwaitingExit(&awaited)
	if _, err := threadrunner.Keep(testContext(t), r, res); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	l := r.Loop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown() = %v; want %v", err, context.DeadlineExceeded)
	}
	relAwait(t, l.Done(), "the loop to stop after Shutdown's deadline")
	if err := res.check(); err != nil || res.enters != 1 {
		t.Fatalf("%v (entered %d times)", err, res.enters)
	}
	if !errors.Is(awaited, context.Canceled) {
		t.Errorf("the await in Exit returned %v; want context.Canceled", awaited)
	}
}

func TestFaultTaskNeverAwaits(t *testing.T) {
	leaktest.Check(t)
	rec := &relRecorder{}
	r := newRunner(t, aio.SlowTask(20*time.Millisecond), aio.Logger(slog.New(rec)))
	check := relBystander(t, r)
	ctx := testContext(t)
	h := relNewHogger(rec, "")
	hog := threadrunner.Submit(ctx, r, h.hog)
	relAwait(t, h.hogging, "the hog to start")
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
	relServesOn(t, r)
	relCheckHogWarning(t, rec, "relHogger", 20*time.Millisecond)
}

// TestFaultPanicOnCloseReachesOnlyItsCaller closes a runner while callers
// wait in Run for tasks that panic once Close cancels them. Each panic has a
// caller waiting for it, which receives it: Close must not also return it
// (or log it) as a panic nobody retrieved, or the same panic is reported
// twice and Close's result depends on how fast the callers wake.
func TestFaultPanicOnCloseReachesOnlyItsCaller(t *testing.T) {
	leaktest.Check(t)
	const callers = 16
	rec := &relRecorder{}
	r := threadrunner.New(aio.Logger(slog.New(rec)))
	ctx := testContext(t)
	var started atomic.Int32
	allStarted := make(chan struct{})
	panics := make(chan any, callers)
	for i := range callers {
		go func() {
			panics <- relCatch(func() {
				_, _ = threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
					if started.Add(1) == callers {
						close(allStarted)
					}
					_ = aio.Sleep(t, time.Hour) // until Close cancels it
					panic(&relFaultValue{fmt.Sprint("caller ", i)})
				})
			})
		}()
	}
	relAwait(t, allStarted, "every task to start")
	time.Sleep(5 * time.Millisecond) // let the callers settle into their wait; not asserted
	closeErr := r.Close()
	for range callers {
		select {
		case p := <-panics:
			if pe := relPanicError(t, p); !strings.HasPrefix(pe.Value.(*relFaultValue).where, "caller ") {
				t.Errorf("Run() panicked with %v; want its task's panic", pe.Value)
			}
		case <-time.After(testTimeout):
			t.Fatalf("a caller never returned; goroutines:\n%s", relDump())
		}
	}
	if closeErr != nil {
		t.Errorf("Close() = %.200v...; want nil: every panic reached the caller waiting for it", closeErr)
	}
	for _, rec := range rec.list() {
		t.Errorf("the loop logged %q for task %s; want nothing: its caller received the panic", rec.msg, rec.attrs["task"])
	}
}
