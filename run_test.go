package threadrunner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

func TestRunReturnsValue(t *testing.T) {
	leaktest.Check(t)
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
	leaktest.Check(t)
	r := newRunner(t)
	wrapped := fmt.Errorf("fetch: %w", errTask)
	coded := &codeError{code: 7}
	tests := []struct {
		name string
		give error
	}{
		{"sentinel", errTask},
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
	if !errors.Is(err, errTask) {
		t.Errorf("errors.Is(Run() = %v, %v) = false; want true", err, errTask)
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
	leaktest.Check(t)
	r := newRunner(t)
	before := loopTID(t, r)
	l := r.Loop()
	p := recoverPanic(func() {
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
	leaktest.Check(t)
	r := newRunner(t)
	p := recoverPanic(func() { threadrunner.Run(context.Background(), r, panickingTask(errTask)) })
	pe := panicError(t, p)
	if !errors.Is(pe, errTask) {
		t.Errorf("errors.Is(%v, %v) = false; want true", pe, errTask)
	}
}

func TestRunGoexitGoesOnInCaller(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	type outcome struct {
		returned bool
		p        any
	}
	done := make(chan outcome)
	go func() {
		var o outcome
		defer func() {
			o.p = recover()
			done <- o
		}()
		threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) {
			runtime.Goexit()
			return 1, nil
		})
		o.returned = true
	}()
	o := <-done
	if o.returned || o.p != nil {
		t.Errorf("Run() of a task that called runtime.Goexit: returned %v, panicked with %v; want runtime.Goexit in the caller", o.returned, o.p)
	}
	v, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 5, nil })
	if v != 5 || err != nil {
		t.Errorf("Run() after a Goexit = %v, %v; want 5, nil", v, err)
	}
}

func TestRunCancellation(t *testing.T) {
	leaktest.Check(t)
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
	leaktest.Check(t)
	r := newRunner(t)
	tests := []struct {
		name    string
		give    error // what the task returns after its await failed
		wantToo error // also in Run's error
	}{
		{"nil", nil, nil},
		{"other error", errTask, errTask},
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
	leaktest.Check(t)
	r := newRunner(t)
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	got, err := threadrunner.Run(ctx, r, func(t *aio.Task) ([3]any, error) {
		child, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (any, error) {
			return t.Context().Value(ctxKey{}), nil
		}))
		if err != nil {
			return [3]any{}, err
		}
		thread, err := aio.ToThread(t, func(ctx context.Context) (any, error) {
			return ctx.Value(ctxKey{}), nil
		})
		return [3]any{t.Context().Value(ctxKey{}), child, thread}, err
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if want := [3]any{"v", "v", "v"}; got != want {
		t.Errorf("ctx value seen by task, child task, ToThread = %v; want %v", got, want)
	}
}

func TestRunBadInput(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false // written only if the library runs what it should refuse
	fn := func(*aio.Task) (int, error) {
		ran = true
		return 1, nil
	}
	tests := []struct {
		name string
		ctx  context.Context
		fn   func(*aio.Task) (int, error)
		want error
	}{
		{"nil fn", context.Background(), nil, aio.ErrInvalid},
		{"nil ctx", nil, fn, aio.ErrInvalid},
		{"cancelled ctx", cancelled, fn, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := threadrunner.Run(tt.ctx, r, tt.fn); !errors.Is(err, tt.want) {
				t.Errorf("Run() = %v; want %v", err, tt.want)
			}
			if _, err := threadrunner.Submit(tt.ctx, r, tt.fn).Wait(context.Background()); !errors.Is(err, tt.want) {
				t.Errorf("Submit().Wait() = %v; want %v", err, tt.want)
			}
		})
	}
	loopTID(t, r) // every refused task would have run by now
	if ran {
		t.Error("a refused task ran")
	}
}

func TestSubmitReturnsFuture(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	ctx := testContext(t)
	ok := threadrunner.Submit(ctx, r, func(*aio.Task) (string, error) { return "ok", nil })
	failed := threadrunner.Submit(ctx, r, func(*aio.Task) (string, error) { return "", errTask })
	if v, err := ok.Wait(ctx); v != "ok" || err != nil {
		t.Errorf("Wait() = %q, %v; want %q, nil", v, err, "ok")
	}
	if _, err := failed.Wait(ctx); err != errTask {
		t.Errorf("Wait() = %v; want %v", err, errTask)
	}
	select {
	case <-ok.Done():
	default:
		t.Error("Done() is open after Wait returned")
	}
	panicked := threadrunner.Submit(ctx, r, panickingTask("boom"))
	p := recoverPanic(func() { panicked.Wait(ctx) })
	if pe := panicError(t, p); pe.Value != "boom" {
		t.Errorf("PanicError.Value = %v; want %q", pe.Value, "boom")
	}
}

func TestSubmitCancel(t *testing.T) {
	leaktest.Check(t)
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
			if _, err := f.Wait(testContext(t)); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait() = %v; want %v", err, context.Canceled)
			}
			if !errors.Is(sleepErr, context.Canceled) {
				t.Errorf("Sleep in the task = %v; want %v", sleepErr, context.Canceled)
			}
		})
	}
}

func TestSubmitWaitContextBoundsOnlyTheWait(t *testing.T) {
	leaktest.Check(t)
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
	if v, err := f.Wait(testContext(t)); v != 42 || err != nil {
		t.Errorf("Wait() = %v, %v; want 42, nil", v, err)
	}
}

func TestSubmitFromTask(t *testing.T) {
	leaktest.Check(t)
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
