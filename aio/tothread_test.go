package aio_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestToThread(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		v   string
		err error
		tid int
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		r.v, r.err = aio.ToThread(t, func(context.Context) (string, error) {
			r.tid = testkit.ThreadID()
			return "off", testkit.ErrTask
		})
		return r, nil
	})
	if got.v != "off" || got.err != testkit.ErrTask {
		t.Errorf("ToThread() = %q, %v; want %q, %v", got.v, got.err, "off", testkit.ErrTask)
	}
	if testkit.HaveThreadIDs && got.tid == l.ThreadID() {
		t.Errorf("ToThread's function ran on the loop's thread %d", got.tid)
	}
}

func TestToThreadLeavesLoopFree(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The function blocks until another task of the loop releases it: that
	// works only if the loop runs tasks while the function blocks.
	release := make(chan struct{})
	got := call(t, l, func(t *aio.Task) (int, error) {
		aio.Go(t, func(t *aio.Task) (int, error) {
			close(release)
			return 0, nil
		})
		return aio.ToThread(t, func(context.Context) (int, error) {
			<-release
			return 1, nil
		})
	})
	if got != 1 {
		t.Errorf("ToThread() = %d; want 1", got)
	}
}

func TestToThreadCancelRunning(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The function sees the task's cancellation through its ctx, and
	// ToThread waits for it and returns what it returned.
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() {
		<-running
		cancel()
	}()
	type result struct {
		v   int
		err error
	}
	got, err := aio.Call(ctx, l, func(t *aio.Task) (result, error) {
		v, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
			close(running)
			<-ctx.Done()
			return 7, testkit.ErrTask
		})
		return result{v, err}, nil
	})
	if got.v != 7 || got.err != testkit.ErrTask {
		t.Errorf("ToThread() of a cancelled task = %v, %v; want what the function returned, 7, %v", got.v, got.err, testkit.ErrTask)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
}

func TestToThreadAlreadyCancelled(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	var ran atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		cancel()
		aio.Sleep(t, testkit.Timeout) // returns once the cancellation arrives
		return aio.ToThread(t, func(context.Context) (int, error) {
			ran.Store(true)
			return 0, nil
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
	if ran.Load() {
		t.Errorf("ToThread ran its function in a cancelled task")
	}
}

func TestToThreadPanic(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The panic reaches the task as a *PanicError with the function's
	// stack; the task may recover it.
	got := call(t, l, func(t *aio.Task) (*aio.PanicError, error) {
		var p any
		func() {
			defer func() { p = recover() }()
			aio.ToThread(t, func(context.Context) (int, error) { panic("worker boom") })
		}()
		pe, _ := p.(*aio.PanicError)
		return pe, nil
	})
	if got == nil || got.Value != "worker boom" || !strings.Contains(string(got.Stack), "TestToThreadPanic") {
		t.Fatalf("recovered %v; want a *PanicError of %q with the function's stack", got, "worker boom")
	}
	// Unrecovered, it goes on to the waiter; the loop serves on.
	p := testkit.RecoverPanic(func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			return aio.ToThread(t, func(context.Context) (int, error) { panic("again") })
		})
	})
	if pe := panicError(t, p); pe.Value != "again" {
		t.Errorf("Call() panicked with %v; want %q", pe.Value, "again")
	}
	checkLoopServes(t, l)
}

func TestToThreadBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "ToThread nil function", inTask: func(t *aio.Task) error {
			_, err := aio.ToThread[int](t, nil)
			return err
		}, want: "nil function"},
	})
}
