package aio_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestRunReturnsMain(t *testing.T) {
	testkit.Check(t)

	tests := []struct {
		name    string
		give    func(*aio.Task) (int, error)
		want    int
		wantErr error
	}{
		{"value", func(t *aio.Task) (int, error) { return 3, aio.Sleep(t, time.Millisecond) }, 3, nil},
		{"error", func(*aio.Task) (int, error) { return 4, testkit.ErrTask }, 4, testkit.ErrTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := aio.Run(testkit.Context(t), tt.give)
			// Unchanged, not merely wrapped: callers compare sentinels
			// such as io.EOF with ==.
			if v != tt.want || err != tt.wantErr {
				t.Errorf("Run() = %v, %#v; want %v, %#v", v, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	testkit.Check(t)

	type info struct {
		pinned bool
		name   string
		tid    int
	}
	got, err := aio.Run(testkit.Context(t), func(t *aio.Task) (info, error) {
		return info{t.Loop().Pinned(), t.Loop().Name(), t.Loop().ThreadID()}, nil
	}, aio.Unpinned(), aio.Name("main-loop"))
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if got != (info{false, "main-loop", 0}) {
		t.Errorf("Run(Unpinned(), Name(%q)): loop = %+v; want unpinned, named, no thread id", "main-loop", got)
	}
}

// TestAffinityRun checks that aio.Run keeps its loop on one thread too.
func TestAffinityRun(t *testing.T) {
	testkit.Check(t)
	seen := threadSet{}
	want, err := aio.Run(testkit.Context(t), func(t *aio.Task) (int, error) {
		seen.note()
		g := aio.NewGroup(t)
		for range 10 {
			g.Go(func(t *aio.Task) error {
				seen.note()
				err := aio.Sleep(t, time.Millisecond)
				seen.note()
				return err
			})
		}
		err := g.Wait()
		seen.note()
		return t.Loop().ThreadID(), err
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	seen.checkOne(t, want, 22)
}

func TestRunCancelsAndAwaitsLeftovers(t *testing.T) {
	testkit.Check(t)

	// main leaves a child and a task spawned with its own context behind:
	// when main returns, Run cancels both and waits for them.
	var child, spawned *aio.Future[int]
	var ended atomic.Int32
	leftover := func(t *aio.Task) (int, error) {
		err := aio.Sleep(t, time.Hour)
		ended.Add(1)
		return 0, err
	}
	v, err := aio.Run(testkit.Context(t), func(t *aio.Task) (int, error) {
		child = aio.Go(t, leftover)
		spawned = aio.Spawn(context.Background(), t.Loop(), leftover)
		return 1, aio.Sleep(t, 0) // both are asleep now
	})
	if v != 1 || err != nil {
		t.Fatalf("Run() = %v, %v; want 1, nil", v, err)
	}
	if got := ended.Load(); got != 2 {
		t.Fatalf("%d of 2 leftover tasks ended before Run returned; want both", got)
	}
	for name, f := range map[string]*aio.Future[int]{"child": child, "spawned": spawned} {
		if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Wait() = %v; want context.Canceled", name, err)
		}
	}
	if _, err := spawned.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("spawned: Wait() = %v; want ErrClosed too", err)
	}
}

func TestRunDrainsWorkers(t *testing.T) {
	testkit.Check(t)

	// A ToThread function still running when main returns: Run waits for
	// it (testkit.Check checks that nothing is left either).
	var finished atomic.Bool
	running := make(chan struct{})
	_, err := aio.Run(testkit.Context(t), func(t *aio.Task) (int, error) {
		aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
			return aio.ToThread(t, func(ctx context.Context) (int, error) {
				close(running)
				<-ctx.Done()
				for range 100 {
					runtime.Gosched()
				}
				finished.Store(true)
				return 0, nil
			})
		})
		_, _, err := aio.Recv(t, running)
		return 0, err
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if !finished.Load() {
		t.Errorf("Run() returned before a ToThread function did")
	}
}

func TestRunCtx(t *testing.T) {
	testkit.Check(t)

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), testkit.CtxKey{}, "run"))
	var value any
	_, err := aio.Run(ctx, func(t *aio.Task) (int, error) {
		value = t.Context().Value(testkit.CtxKey{})
		cancel()
		return 0, aio.Sleep(t, time.Hour)
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run() with its ctx cancelled = %v; want context.Canceled", err)
	}
	if value != "run" {
		t.Errorf("Context().Value() in main = %v; want %q", value, "run")
	}

	ran := false
	_, err = aio.Run(ctx, func(*aio.Task) (int, error) { ran = true; return 0, nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Run(ended ctx) = %v, main ran = %v; want context.Canceled, false", err, ran)
	}
}

func TestRunPanics(t *testing.T) {
	testkit.Check(t)

	// main's panic comes out of Run once the loop has stopped: its
	// leftover task has ended by then.
	var ended atomic.Bool
	p := testkit.RecoverPanic(func() {
		aio.Run(testkit.Context(t), func(t *aio.Task) (int, error) {
			aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
				err := aio.Sleep(t, time.Hour)
				ended.Store(true)
				return 0, err
			})
			aio.Sleep(t, 0)
			panic("main boom")
		})
	})
	if pe := panicError(t, p); pe.Value != "main boom" {
		t.Errorf("Run() panicked with %v; want %q", pe.Value, "main boom")
	}
	if !ended.Load() {
		t.Errorf("Run() panicked before the leftover task ended")
	}
}

func TestRunJoinsUnretrievedPanics(t *testing.T) {
	testkit.Check(t)
	logger := new(testkit.LogSink).Logger()

	v, err := aio.Run(testkit.Context(t), func(t *aio.Task) (int, error) {
		aio.Spawn(context.Background(), t.Loop(), panickingTask("stray"))
		return 2, aio.Sleep(t, 0)
	}, aio.Logger(logger))
	var pe *aio.PanicError
	if v != 2 || !errors.As(err, &pe) || pe.Value != "stray" {
		t.Errorf("Run() = %v, %v; want 2 and the stray task's *PanicError", v, err)
	}
}

func TestRunGoexit(t *testing.T) {
	testkit.Check(t)

	if goexited, _ := testkit.Goexits(func() {
		aio.Run(testkit.Context(t), func(*aio.Task) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
	}); !goexited {
		t.Errorf("Run() returned; want it to call runtime.Goexit, as main did")
	}
}

func TestRunBadInput(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	runInvalidCases(t, nil, []invalidCase{
		{name: "Run nil function", call: func() error { _, err := aio.Run[int](ctx, nil); return err }, want: "nil function"},
	})
}
