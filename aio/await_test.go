package aio_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestAwaitSettledFutureDoesNotSuspend(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]string, error) {
		var log []string
		f := aio.Go(t, func(*aio.Task) (int, error) { return 1, nil })
		if _, err := aio.Await(t, f); err != nil {
			return nil, err
		}
		aio.Go(t, func(*aio.Task) (int, error) {
			log = append(log, "other")
			return 0, nil
		})
		// f has settled: awaiting it again must not let "other" run.
		if v, err := aio.Await(t, f); v != 1 || err != nil {
			return nil, errors.Join(testkit.ErrTask, err)
		}
		log = append(log, "again")
		return log, nil
	})
	if want := []string{"again"}; !slices.Equal(got, want) {
		t.Errorf("order = %q; want %q", got, want)
	}
}

func TestAwaitSettledFutureOfAnotherLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	other := startLoop(t)

	// Settled, it is just a value: any task may await it.
	f := aio.Spawn(testkit.Context(t), other, func(*aio.Task) (int, error) { return 4, nil })
	if _, err := f.Wait(testkit.Context(t)); err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if got := call(t, l, func(t *aio.Task) (int, error) { return aio.Await(t, f) }); got != 4 {
		t.Errorf("Await() of a settled future of another loop = %d; want 4", got)
	}
}

// TestAwaitBadInput checks that Await refuses a nil future, a pending future
// of another loop, and a task's own future.
func TestAwaitBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	other := startLoop(t)
	pendingElsewhere, settleElsewhere := aio.NewFuture[int](other)
	defer settleElsewhere(0, nil)
	runInvalidCases(t, l, []invalidCase{
		{name: "Await nil future", inTask: func(t *aio.Task) error {
			_, err := aio.Await[int](t, nil)
			return err
		}, want: "nil future"},
		{name: "Await future of another loop", inTask: func(t *aio.Task) error {
			_, err := aio.Await(t, pendingElsewhere)
			return err
		}, want: "future of"},
		{name: "Await own future", inTask: func(t *aio.Task) error {
			var self *aio.Future[int]
			self = aio.Go(t, func(t *aio.Task) (int, error) {
				_, err := aio.Await(t, self)
				return 0, err
			})
			_, err := aio.Await(t, self)
			return err
		}, want: "awaits its own future"},
	})
}
