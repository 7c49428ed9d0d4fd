package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestSleepCancelledBeforeTimerFires checks what the fan-out's cancelled count
// relies on (DESIGN.md semantics 5, and Sleep's doc: "the context's error at
// once if t is or gets cancelled"): a task cancelled while it sleeps gets the
// context's error from that Sleep, even if the loop was busy past the sleep's
// deadline and fires the timer in the same round in which it cancels the
// task. asyncio behaves so: a cancel that reaches a sleeping task first wins.
//
// It belongs with aio's timer tests; it is here because this helper may only
// write under examples/.
func TestSleepCancelledBeforeTimerFires(t *testing.T) {
	testkit.Check(t)
	got, err := aio.Run(context.Background(), func(t *aio.Task) (error, error) {
		var sleepErr error
		f := aio.Go(t, func(t *aio.Task) (struct{}, error) {
			sleepErr = aio.Sleep(t, time.Millisecond)
			return struct{}{}, sleepErr
		})
		if err := aio.Sleep(t, 0); err != nil { // the child starts its sleep
			return nil, err
		}
		// Hold the loop past the child's deadline, then cancel the child:
		// the cancellation reaches the loop before the timer is fired.
		time.Sleep(5 * time.Millisecond)
		f.Cancel()
		_, _ = aio.Await(t, f)
		return sleepErr, nil
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if !errors.Is(got, context.Canceled) {
		t.Errorf("Sleep() in a task cancelled before its timer fired = %v; want context.Canceled", got)
	}
}
