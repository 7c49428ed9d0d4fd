package aio_test

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// longWait is longer than a waiter's futex phase (wait.go's sleepBudget), so
// that the waits below go on in their channel phase. It is a real sleep, and
// never what the test asserts.
const longWait = 20 * time.Millisecond

// TestWaitsOutlastTheFutexPhase checks that a goroutine whose wait for the
// loop outlasts its futex phase goes on waiting on a channel and is woken
// there: a Future.Wait for a task, and a Stream.Next for a generator, that
// answer only after longWait.
func TestWaitsOutlastTheFutexPhase(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)

	f := aio.Spawn(ctx, l, func(t *aio.Task) (int, error) { return 7, aio.Sleep(t, longWait) })
	if v, err := f.Wait(ctx); v != 7 || err != nil {
		t.Errorf("Wait() = %v, %v; want 7, nil", v, err)
	}

	s := aio.OpenStream(ctx, l, func(t *aio.Task, yield func(int) bool) error {
		if err := aio.Sleep(t, longWait); err != nil {
			return err
		}
		yield(1)
		return nil
	})
	defer s.Close()
	if b, err := s.Next(ctx); err != nil || !slices.Equal(b, []int{1}) {
		t.Errorf("Next() = %v, %v; want [1]", b, err)
	}
	if _, err := s.Next(ctx); err != io.EOF {
		t.Errorf("Next() at the end = %v; want io.EOF", err)
	}
}
