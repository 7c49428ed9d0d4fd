package aio_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

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

// TestManyCallers runs calls from many goroutines at once into one loop,
// each incrementing a counter that only the loop touches.
func TestManyCallers(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)

	callers := 4 * stressProcs()
	const calls = 200
	counter := 0
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
					counter++
					if counter%7 == 0 {
						return 0, aio.Sleep(t, 0)
					}
					return 0, nil
				})
				if err != nil {
					t.Errorf("Call() = %v; want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := call(t, l, func(*aio.Task) (int, error) { return counter, nil }); got != callers*calls {
		t.Errorf("counter = %d; want %d", got, callers*calls)
	}
}
