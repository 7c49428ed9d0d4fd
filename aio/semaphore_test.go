package aio_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"testing/quick"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestSemaphoreBoundsHolders(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, tt := range []struct{ give, want int }{{3, 3}, {1, 1}, {0, 1}, {-2, 1}} {
		got := call(t, l, func(t *aio.Task) (int, error) {
			s := aio.NewSemaphore(tt.give)
			holders, most := 0, 0
			g := aio.NewGroup(t)
			for range 10 {
				g.Go(func(t *aio.Task) error {
					if err := s.Acquire(t); err != nil {
						return err
					}
					defer s.Release()
					holders++
					most = max(most, holders)
					err := aio.Sleep(t, 0)
					holders--
					return err
				})
			}
			return most, g.Wait()
		})
		if got != tt.want {
			t.Errorf("NewSemaphore(%d): at most %d holders at once; want %d", tt.give, got, tt.want)
		}
	}
}

func TestSemaphoreTryAcquire(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([4]bool, error) {
		s := aio.NewSemaphore(2)
		var r [4]bool
		r[0], r[1], r[2] = s.TryAcquire(), s.TryAcquire(), s.TryAcquire()
		s.Release()
		r[3] = s.TryAcquire()
		return r, nil
	})
	if want := [4]bool{true, true, false, true}; got != want {
		t.Errorf("TryAcquire x3, Release, TryAcquire = %v; want %v", got, want)
	}
}

func TestSemaphoreReleaseTooMany(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) (any, error) {
		s := aio.NewSemaphore(1)
		return testkit.RecoverPanic(s.Release), nil
	})
	if got != "aio: Semaphore released more than acquired" {
		t.Errorf("Release() without Acquire panicked with %v; want %q", got, "aio: Semaphore released more than acquired")
	}
}

func TestSemaphoreCancelledWaiter(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The first waiter is woken for the released permit but cancelled at
	// the same time: it gives up without the permit, and the permit goes
	// to the second waiter.
	got := call(t, l, func(t *aio.Task) ([2]error, error) {
		var errs [2]error
		s := aio.NewSemaphore(1)
		s.TryAcquire()
		first := aio.Go(t, func(t *aio.Task) (int, error) {
			errs[0] = s.Acquire(t)
			return 0, nil
		})
		second := aio.Go(t, func(t *aio.Task) (int, error) {
			errs[1] = s.Acquire(t)
			return 0, nil
		})
		aio.Sleep(t, 0) // both wait
		first.Cancel()
		s.Release() // wakes the first
		aio.Await(t, first)
		aio.Await(t, second)
		return errs, nil
	})
	if !errors.Is(got[0], context.Canceled) || got[1] != nil {
		t.Errorf("Acquire() of the cancelled and the other waiter = %v, %v; want context.Canceled, nil", got[0], got[1])
	}
}

// TestSemaphoreModel checks, with testing/quick, that random sequences of
// TryAcquire, Release, blocking Acquire and cancellation keep the
// semaphore's permits accounted for: the permits held (counted by the
// model) never exceed its size, TryAcquire succeeds exactly when the model
// has a free permit and no waiter is owed one, and once every holder has
// released, all permits are free again.
func TestSemaphoreModel(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	check := func(size uint8, seed int64) bool {
		n := int(size%4) + 1
		r := rand.New(rand.NewSource(seed))
		err := call(t, l, func(t *aio.Task) (error, error) {
			return semaphoreModel(t, n, r), nil
		})
		if err != nil {
			t.Errorf("size %d, seed %d: %v", n, seed, err)
			return false
		}
		return true
	}
	if err := quick.Check(check, &quick.Config{MaxCount: 200}); err != nil {
		t.Error(err)
	}
}

// semaphoreModel runs random operations on a semaphore of size n in task
// and returns the first discrepancy with the model.
func semaphoreModel(task *aio.Task, n int, r *rand.Rand) error {
	s := aio.NewSemaphore(n)
	held := 0 // permits held by this task (TryAcquire) and by waiters that got one
	var waiters []*aio.Future[int]
	for range 40 {
		switch r.Intn(5) {
		case 0:
			// A woken waiter takes its permit only when it runs, so a
			// permit is free exactly when the model has one.
			if ok := s.TryAcquire(); ok != (held < n) {
				return fmt.Errorf("TryAcquire() = %v with %d permits of %d held", ok, held, n)
			} else if ok {
				held++
			}
		case 1:
			if held > 0 {
				s.Release()
				held--
			}
		case 2:
			waiters = append(waiters, aio.Go(task, func(t *aio.Task) (int, error) {
				if err := s.Acquire(t); err != nil {
					return 0, err
				}
				held++
				return 1, nil
			}))
		case 3:
			if len(waiters) > 0 {
				waiters[r.Intn(len(waiters))].Cancel()
			}
		case 4:
			aio.Sleep(task, 0)
		}
		if held > n {
			return fmt.Errorf("%d permits of %d held", held, n)
		}
	}
	// Release everything held, including what waiters will still get;
	// every waiter must end.
	for _, f := range waiters {
		for turns := 0; !f.Settled(); turns++ {
			if turns > 1000 {
				return fmt.Errorf("a waiter never got a permit, with %d of %d held", held, n)
			}
			if held > 0 {
				s.Release()
				held--
			}
			aio.Sleep(task, 0)
		}
	}
	for ; held > 0; held-- {
		s.Release()
	}
	for i := range n {
		if !s.TryAcquire() {
			return fmt.Errorf("only %d of %d permits free at the end", i, n)
		}
	}
	if s.TryAcquire() {
		return fmt.Errorf("%d permits free at the end; want %d", n+1, n)
	}
	return nil
}
