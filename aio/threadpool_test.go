package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestToThreadWorkersBound(t *testing.T) {
	for _, tt := range []struct {
		give, want int
	}{{2, 2}, {1, 1}} {
		t.Run(fmt.Sprintf("Workers(%d)", tt.give), func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t, aio.Workers(tt.give))

			var running, most atomic.Int32
			gate := make(chan struct{})
			fn := func(context.Context) (int, error) {
				n := running.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				<-gate
				running.Add(-1)
				return 0, nil
			}
			const tasks = 6
			futures := make([]*aio.Future[int], tasks)
			for i := range futures {
				futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
					return aio.ToThread(t, fn)
				})
			}
			testkit.WaitFor(t, "the workers to fill", func() bool { return running.Load() == int32(tt.want) })
			close(gate)
			for _, f := range futures {
				if _, err := f.Wait(testkit.Context(t)); err != nil {
					t.Errorf("Wait() = %v; want nil", err)
				}
			}
			if got := most.Load(); got != int32(tt.want) {
				t.Errorf("at most %d functions ran at once; want %d", got, tt.want)
			}
		})
	}
}

func TestToThreadCancelQueued(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Workers(1))

	gate := make(chan struct{})
	busy := make(chan struct{})
	first := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) {
			close(busy)
			<-gate
			return 1, nil
		})
	})
	<-busy
	var ran atomic.Bool
	queued := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) {
			ran.Store(true)
			return 2, nil
		})
	})
	testkit.WaitFor(t, "the second task to queue", func() bool { return l.Stats().Tasks == 2 })
	queued.Cancel()
	if _, err := queued.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("queued ToThread cancelled: Wait() = %v; want context.Canceled", err)
	}
	close(gate)
	if v, err := first.Wait(testkit.Context(t)); v != 1 || err != nil {
		t.Errorf("running ToThread: Wait() = %v, %v; want 1, nil", v, err)
	}
	// The slot is free again: another function runs.
	if got := call(t, l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) { return 3, nil })
	}); got != 3 {
		t.Errorf("ToThread() after = %d; want 3", got)
	}
	if ran.Load() {
		t.Errorf("a ToThread function ran although its task was cancelled while it waited its turn")
	}
}

// TestToThreadGoexit checks that runtime.Goexit in a ToThread function (what
// t.FailNow does in a helper) goes on in the task, and so in whoever waits
// for it, without hanging anyone or losing the pool's goroutine: with one
// worker, later ToThread calls still run, and Close returns.
func TestToThreadGoexit(t *testing.T) {
	testkit.Check(t)
	l := aio.Start(aio.Workers(1))
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		var exited bool
		testkit.Do(t, "a Call whose ToThread function calls Goexit", func() {
			exited, _ = testkit.Goexits(func() {
				aio.Call(ctx, l, func(t *aio.Task) (int, error) {
					return aio.ToThread(t, func(context.Context) (int, error) {
						runtime.Goexit()
						return 0, nil
					})
				})
			})
		})
		cancel()
		if !exited {
			t.Errorf("round %d: Call() returned; want it to call runtime.Goexit, as the ToThread function did", i)
		}
		got := call(t, l, func(t *aio.Task) (int, error) {
			return aio.ToThread(t, func(context.Context) (int, error) { return 7, nil })
		})
		if got != 7 {
			t.Errorf("round %d: ToThread() afterwards = %d; want 7", i, got)
		}
	}
	testkit.Do(t, "Close", func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
}

func TestCloseWaitsForToThread(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	running := make(chan struct{})
	var finished atomic.Bool
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(ctx context.Context) (int, error) {
			close(running)
			<-ctx.Done() // Close cancels the task
			for range 100 {
				runtime.Gosched()
			}
			finished.Store(true)
			return 5, nil
		})
	})
	<-running
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if !finished.Load() {
		t.Errorf("Close() returned before a running ToThread function did")
	}
	if v, err := f.Wait(context.Background()); v != 5 || !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v, %v; want 5 (what the function returned), ErrClosed", v, err)
	}
}

// TestToThreadGoexitWithJobQueued checks that a ToThread function that calls
// runtime.Goexit while another waits for the only thread does not strand
// the waiting one: it runs on the goroutine that replaces the ended one.
func TestToThreadGoexitWithJobQueued(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Workers(1))
	gate := make(chan struct{})
	exiting := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) {
			<-gate
			runtime.Goexit()
			return 0, nil
		})
	})
	queued := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) { return 2, nil })
	})
	testkit.WaitFor(t, "the second function to queue", func() bool { return l.Stats().ToThreadQueued == 1 })
	close(gate)
	if v, err := queued.Wait(testkit.Context(t)); v != 2 || err != nil {
		t.Errorf("the queued ToThread: Wait() = %v, %v; want 2, nil", v, err)
	}
	if goexited, _ := testkit.Goexits(func() { exiting.Wait(testkit.Context(t)) }); !goexited {
		t.Errorf("Wait() for the task whose ToThread function called Goexit returned; want it to call Goexit too")
	}
}
