package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

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
