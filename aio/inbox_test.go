package aio_test

import (
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

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
