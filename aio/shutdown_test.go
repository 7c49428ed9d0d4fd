package aio_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestOnClose checks the close hooks: they run when the loop closes, last
// registered first, each in a task of its own on the loop's thread, before
// any other task is cancelled; a removed hook does not run; the hooks'
// errors, panics and Goexits are Close's errors and skip no other hook.
func TestOnClose(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	var order []string
	var tids []int
	var sawCancelled []bool // whether the bystander task was cancelled yet
	bystander := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	register := func(name string, fn func(t *aio.Task) error) func() bool {
		return call(t, l, func(t *aio.Task) (func() bool, error) {
			return aio.OnClose(t, func(t *aio.Task) error {
				order = append(order, name)
				tids = append(tids, testkit.ThreadID())
				sawCancelled = append(sawCancelled, bystander.Settled())
				if err := aio.Sleep(t, time.Millisecond); err != nil {
					return err // hooks may await: Close does not cancel them
				}
				return fn(t)
			})
		})
	}
	errHook := errors.New("hook failed")
	register("first", func(*aio.Task) error { return errHook })
	register("panics", func(*aio.Task) error { panic("hook boom") })
	removed := register("removed", func(*aio.Task) error { return nil })
	register("goexits", func(*aio.Task) error { runtime.Goexit(); return nil })
	register("last", func(*aio.Task) error { return nil })
	if ok := call(t, l, func(*aio.Task) (bool, error) { return removed(), nil }); !ok {
		t.Fatalf("remove() = false; want true")
	}
	if ok := call(t, l, func(*aio.Task) (bool, error) { return removed(), nil }); ok {
		t.Errorf("remove() again = true; want false")
	}

	var err error
	testkit.Do(t, "Close", func() { err = l.Close() })
	if want := []string{"last", "goexits", "panics", "first"}; !slices.Equal(order, want) {
		t.Errorf("hooks ran in order %q; want %q", order, want)
	}
	for i, tid := range tids {
		if tid != tids[0] || sawCancelled[i] {
			t.Errorf("hook %q ran on thread %d (first on %d), bystander ended %v; want the loop's thread, before any task is cancelled", order[i], tid, tids[0], sawCancelled[i])
		}
	}
	var pe *aio.PanicError
	if !errors.Is(err, errHook) || !errors.As(err, &pe) || pe.Value != "hook boom" || !strings.Contains(err.Error(), "Goexit") {
		t.Errorf("Close() = %v; want the hook's error, its panic and its Goexit", err)
	}
	if _, werr := bystander.Wait(testkit.Context(t)); !errors.Is(werr, aio.ErrClosed) {
		t.Errorf("the bystander task ended with %v; want ErrClosed", werr)
	}
}

// TestOnCloseAfterCloseBegan checks that a hook registered once the loop
// has begun to close is refused with ErrClosed, for the caller to clean up
// itself, and that bad input is refused.
func TestOnCloseAfterCloseBegan(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	got := make(chan error, 2)
	call(t, l, func(t *aio.Task) (int, error) {
		_, err := aio.OnClose(t, nil)
		got <- err
		_, err = aio.OnClose(t, func(t *aio.Task) error {
			_, err := aio.OnClose(t, func(*aio.Task) error { return nil })
			got <- err
			return nil
		})
		return 0, err
	})
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-got; !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("OnClose(t, nil) = %v; want ErrInvalid", err)
	}
	if err := <-got; !errors.Is(err, aio.ErrClosed) {
		t.Errorf("OnClose() from a close hook = %v; want ErrClosed", err)
	}
}

// TestShutdownDeadlineCancelsHooks checks that when Shutdown's ctx ends
// while a hook awaits, the hook's await fails at once, later hooks still run
// (cancelled), and the loop stops.
func TestShutdownDeadlineCancelsHooks(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	var hookErrs []error
	for range 2 {
		call(t, l, func(t *aio.Task) (int, error) {
			_, err := aio.OnClose(t, func(t *aio.Task) error {
				err := aio.Sleep(t, time.Hour)
				hookErrs = append(hookErrs, err)
				return nil
			})
			return 0, err
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown() = %v; want context.DeadlineExceeded", err)
	}
	testkit.Do(t, "the loop to stop after Shutdown gave up", func() { <-l.Done() })
	if len(hookErrs) != 2 || !errors.Is(hookErrs[0], context.Canceled) || !errors.Is(hookErrs[1], context.Canceled) {
		t.Errorf("the hooks' awaits returned %v; want both context.Canceled", hookErrs)
	}
}
