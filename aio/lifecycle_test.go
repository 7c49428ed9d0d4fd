package aio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # Go: a child task

func TestGoAwait(t *testing.T) {
	tests := []struct {
		name    string
		give    func(*aio.Task) (int, error)
		want    int
		wantErr error
	}{
		{"value", func(*aio.Task) (int, error) { return 42, nil }, 42, nil},
		{"error", func(*aio.Task) (int, error) { return 0, testkit.ErrTask }, 0, testkit.ErrTask},
		{"value and error", func(*aio.Task) (int, error) { return 7, testkit.ErrTask }, 7, testkit.ErrTask},
		{"after awaits", func(t *aio.Task) (int, error) {
			if err := aio.Sleep(t, 0); err != nil {
				return 0, err
			}
			v, err := aio.Await(t, aio.Go(t, func(*aio.Task) (int, error) { return 20, nil }))
			return v + 1, err
		}, 21, nil},
	}
	testkit.Check(t)
	l := startLoop(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				v   int
				err error
			}
			got := call(t, l, func(t *aio.Task) (result, error) {
				v, err := aio.Await(t, aio.Go(t, tt.give))
				return result{v, err}, nil
			})
			// The error must come back unchanged, not merely wrapped.
			if got.v != tt.want || got.err != tt.wantErr {
				t.Errorf("Await(Go()) = %v, %v; want %v, %v", got.v, got.err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestGoRunsChildAfterParentSuspends(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]string, error) {
		var log []string
		f := aio.Go(t, func(*aio.Task) (int, error) {
			log = append(log, "child")
			return 0, nil
		})
		log = append(log, "parent after Go")
		_, err := aio.Await(t, f)
		log = append(log, "parent after Await")
		return log, err
	})
	if want := []string{"parent after Go", "child", "parent after Await"}; !slices.Equal(got, want) {
		t.Errorf("order = %q; want %q", got, want)
	}
}

func TestChildCancelledWhenParentEnds(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	child := call(t, l, func(t *aio.Task) (*aio.Future[int], error) {
		return aio.Go(t, func(t *aio.Task) (int, error) {
			return 5, aio.Sleep(t, testkit.Timeout)
		}), nil
	})
	v, err := child.Wait(testkit.Context(t))
	if v != 5 || !errors.Is(err, context.Canceled) || errors.Is(err, aio.ErrClosed) {
		t.Errorf("child Wait() = %v, %v; want 5, context.Canceled (not ErrClosed)", v, err)
	}
}

func TestGoBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "Go nil function", inTask: func(t *aio.Task) error {
			_, err := aio.Await(t, aio.Go[int](t, nil))
			return err
		}, want: "nil function"},
	})
}

// # The outcome of a cancelled task

// TestCancelledOutcome checks that once a task is cancelled, its error is
// the context's, whatever it returns: its own error is kept alongside, and
// so is its value.
func TestCancelledOutcome(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	tests := []struct {
		name    string
		give    func(sleepErr error) (int, error)
		want    int
		wantErr []error
	}{
		{"returns nil", func(error) (int, error) { return 3, nil }, 3, []error{context.Canceled}},
		{"returns own error", func(error) (int, error) { return 4, testkit.ErrTask }, 4, []error{context.Canceled, testkit.ErrTask}},
		{"returns await's error", func(err error) (int, error) { return 5, err }, 5, []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
				cancel()
				return tt.give(aio.Sleep(t, time.Hour))
			})
			if v != tt.want {
				t.Errorf("Call() = %v; want %v", v, tt.want)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Call() error = %v; want it to be %v", err, want)
				}
			}
		})
	}
}

// TestTaskEndedByItsContext checks semantics 5 for a task that ends because
// it saw its context end (through a channel, or in a ToThread function)
// rather than through an await's error: it was cancelled all the same, so
// Call's error must be (errors.Is) the caller's ctx error.
func TestTaskEndedByItsContext(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	watches := []struct {
		name  string
		watch func(t *aio.Task) error
	}{
		{"Recv Done", func(t *aio.Task) error {
			_, _, err := aio.Recv(t, t.Context().Done())
			return err
		}},
		{"ToThread", func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, nil
			})
			return err
		}},
		{"poll Context().Err", func(t *aio.Task) error {
			// A long computation that does not await: it holds the loop.
			return pollUntil(func() bool { return t.Context().Err() != nil })
		}},
	}
	for _, end := range ends {
		for _, w := range watches {
			t.Run(end.name+"/"+w.name, func(t *testing.T) {
				_, _, err := callEnding(l, end.deadline, func(t *aio.Task) (int, error) {
					return 0, w.watch(t) // nil: it saw the end, no await failed
				})
				if !errors.Is(err, end.want) {
					t.Errorf("Call() of a task that ended when its context did = %v; want %v", err, end.want)
				}
			})
		}
	}
}

// # Many tasks at once

// manyTasks is how many tasks the scale tests suspend at once.
const manyTasks = 10_000

func TestManySuspendedTasksOnEvent(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]int, error) {
		var ev aio.Event
		waiting := 0
		results := make([]int, manyTasks)
		g := aio.NewGroup(t)
		for i := range manyTasks {
			g.Go(func(t *aio.Task) error {
				waiting++
				if err := ev.Wait(t); err != nil {
					return err
				}
				results[i] = i * 3
				return nil
			})
		}
		aio.Sleep(t, 0) // every task runs up to its Wait
		if waiting != manyTasks {
			return nil, fmt.Errorf("%d of %d tasks waiting", waiting, manyTasks)
		}
		ev.Set()
		return results, g.Wait()
	})
	for i, v := range got {
		if v != i*3 {
			t.Fatalf("task %d: result %d; want %d", i, v, i*3)
		}
	}
	testkit.WaitFor(t, "every task to be freed", func() bool { return l.Stats().Tasks == 0 })
}

func TestManySuspendedTasksOnFuture(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)

	// Spawned from outside, all await one future settled by a goroutine,
	// and each is waited for by the test.
	gate, open := aio.NewFuture[int](l)
	futures := make([]*aio.Future[int], manyTasks)
	for i := range futures {
		futures[i] = aio.Spawn(ctx, l, func(t *aio.Task) (int, error) {
			v, err := aio.Await(t, gate)
			return v + i, err
		})
	}
	testkit.WaitFor(t, "every task to be waiting", func() bool { return l.Stats().Tasks == manyTasks })
	go open(1000, nil)
	for i, f := range futures {
		v, err := f.Wait(ctx)
		if v != 1000+i || err != nil {
			t.Fatalf("task %d: Wait() = %v, %v; want %d, nil", i, v, err, 1000+i)
		}
	}
}

func TestManySuspendedTasksCancelledByClose(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	gate, _ := aio.NewFuture[int](l)
	futures := make([]*aio.Future[int], manyTasks)
	for i := range futures {
		futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) { return aio.Await(t, gate) })
	}
	testkit.WaitFor(t, "every task to be waiting", func() bool { return l.Stats().Tasks == manyTasks })
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	for i, f := range futures {
		if !f.Settled() {
			t.Fatalf("task %d still pending after Close", i)
		}
	}
}
