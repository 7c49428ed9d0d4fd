package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # Spawn

func TestSpawnFromTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Spawn never blocks, so the loop's own tasks may use it.
	got := call(t, l, func(t *aio.Task) (int, error) {
		return aio.Await(t, aio.Spawn(t.Context(), t.Loop(), func(*aio.Task) (int, error) { return 11, nil }))
	})
	if got != 11 {
		t.Errorf("Await(Spawn()) from a task = %d; want 11", got)
	}
}

func TestChildOutlivesParentWithSpawn(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	gate, open := aio.NewFuture[int](l)
	other := call(t, l, func(t *aio.Task) (*aio.Future[int], error) {
		return aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
			return aio.Await(t, gate)
		}), nil
	})
	open(3, nil)
	if v, err := other.Wait(testkit.Context(t)); v != 3 || err != nil {
		t.Errorf("Wait() of a task spawned by a task that ended = %v, %v; want 3, nil", v, err)
	}
}

// # Call

// TestCallReturnsAfterTaskEnded checks that a Call whose ctx ends still
// waits for its task to end, and that the end synchronizes before Call
// returns.
func TestCallReturnsAfterTaskEnded(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, end := range ends {
		t.Run(end.name, func(t *testing.T) {
			ended := false // no lock: the race detector checks the ordering
			_, _, err := callEnding(l, end.deadline, func(t *aio.Task) (int, error) {
				err := aio.Sleep(t, time.Hour)
				ended = true
				return 0, err
			})
			if !errors.Is(err, end.want) {
				t.Errorf("Call() = %v; want %v", err, end.want)
			}
			if !ended {
				t.Errorf("Call() returned before its task ended")
			}
		})
	}
}

func TestCallDeadlineVirtualTime(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var deadline time.Time // seen by the task, read after Call
		_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
			deadline, _ = t.Context().Deadline()
			return 0, aio.Sleep(t, time.Hour)
		})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("Call() with a 1m deadline = %v; want context.DeadlineExceeded only", err)
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("Call() returned after %v; want 1m", got)
		}
		if want, _ := ctx.Deadline(); !deadline.Equal(want) {
			t.Errorf("Context().Deadline() = %v; want the caller's, %v", deadline, want)
		}
	})
}

func TestCallAcrossLoops(t *testing.T) {
	testkit.Check(t)
	a := startLoop(t)
	b := startLoop(t)

	// A task of one loop may block on another loop (it stalls its own loop
	// meanwhile, but nothing deadlocks).
	got := call(t, a, func(t *aio.Task) (int, error) {
		return aio.Call(t.Context(), b, func(*aio.Task) (int, error) { return testkit.ThreadID(), nil })
	})
	if got != b.ThreadID() {
		t.Errorf("Call() into loop b from a task of loop a ran on thread %d; want b's, %d", got, b.ThreadID())
	}
}

// TestCallCycleBetweenLoops checks that a cycle of blocking calls between
// two loops (a task of A calls Call on B, whose task calls Call on A), each
// with a deadline, does not deadlock: a Call made from another loop's
// thread gives up when its ctx ends, instead of waiting for a task its own
// blocked loop keeps from running; and both loops serve on.
func TestCallCycleBetweenLoops(t *testing.T) {
	testkit.Check(t)
	a, b := startLoop(t), startLoop(t)
	var inner, outer error
	innerDone := make(chan error, 1)
	testkit.Do(t, "a cycle of Calls between two loops", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, outer = aio.Call(testkit.Context(t), a, func(t *aio.Task) (int, error) {
			return aio.Call(ctx, b, func(t *aio.Task) (int, error) {
				_, err := aio.Call(ctx, a, func(*aio.Task) (int, error) { return 1, nil })
				innerDone <- err
				return 0, err
			})
		})
		// Both calls give up at the deadline; B's task may end after A's.
		inner = <-innerDone
	})
	if !errors.Is(inner, context.DeadlineExceeded) || !errors.Is(outer, context.DeadlineExceeded) {
		t.Errorf("the cycle's calls returned %v (inner) and %v (outer); want context.DeadlineExceeded", inner, outer)
	}
	checkLoopServes(t, a)
	checkLoopServes(t, b)
}

// # What Spawn and Call refuse

func TestCancelledBeforeStartNeverRuns(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, end := range []struct {
		name string
		ctx  func() context.Context
		want error
	}{
		{"cancelled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
		{"deadline", func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
			cancel()
			return ctx
		}, context.DeadlineExceeded},
	} {
		t.Run(end.name, func(t *testing.T) {
			ran := false
			fn := func(*aio.Task) (int, error) { ran = true; return 1, nil }
			if _, err := aio.Call(end.ctx(), l, fn); !errors.Is(err, end.want) {
				t.Errorf("Call() = %v; want %v", err, end.want)
			}
			f := aio.Spawn(end.ctx(), l, fn)
			if !f.Settled() {
				t.Errorf("Spawn(ended ctx): future pending; want settled at once")
			}
			if _, err := f.Wait(context.Background()); !errors.Is(err, end.want) {
				t.Errorf("Spawn().Wait() = %v; want %v", err, end.want)
			}
			call(t, l, func(*aio.Task) (int, error) { return 0, nil }) // the loop has looked at its inbox
			if ran {
				t.Errorf("a function ran although its ctx had ended before the call")
			}
		})
	}
}

// TestSpawnBadInput checks that Spawn and Call refuse a nil loop, function or
// context.
func TestSpawnBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)
	fn := func(*aio.Task) (int, error) { return 1, nil }
	var nilCtx context.Context
	runInvalidCases(t, l, []invalidCase{
		{name: "Call nil loop", call: func() error { _, err := aio.Call(ctx, nil, fn); return err }, want: "nil *Loop"},
		{name: "Call nil function", call: func() error { _, err := aio.Call[int](ctx, l, nil); return err }, want: "nil function"},
		{name: "Call nil context", call: func() error { _, err := aio.Call(nilCtx, l, fn); return err }, want: "nil context"},
		{name: "Spawn nil loop", call: func() error { _, err := aio.Spawn(ctx, nil, fn).Wait(ctx); return err }, want: "nil *Loop"},
		{name: "Spawn nil function", call: func() error { _, err := aio.Spawn[int](ctx, l, nil).Wait(ctx); return err }, want: "nil function"},
		{name: "Spawn nil context", call: func() error { _, err := aio.Spawn(nilCtx, l, fn).Wait(ctx); return err }, want: "nil context"},
	})
}
