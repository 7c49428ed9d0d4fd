package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # The task's context: its values, its end, what derives from it

func TestTaskContextCarriesValues(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := context.WithValue(testkit.Context(t), testkit.CtxKey{}, "caller")

	type values struct{ task, child, toThread any }
	got, err := aio.Call(ctx, l, func(t *aio.Task) (values, error) {
		var v values
		v.task = t.Context().Value(testkit.CtxKey{})
		child, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (any, error) {
			return t.Context().Value(testkit.CtxKey{}), nil
		}))
		if err != nil {
			return v, err
		}
		v.child = child
		v.toThread, err = aio.ToThread(t, func(ctx context.Context) (any, error) {
			return ctx.Value(testkit.CtxKey{}), nil
		})
		return v, err
	})
	if err != nil {
		t.Fatalf("Call() = %v; want nil", err)
	}
	if want := (values{"caller", "caller", "caller"}); got != want {
		t.Errorf("context values (task, child, ToThread) = %v; want %v", got, want)
	}
}

func TestTaskContextEndsWithTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type seen struct {
		ctx   context.Context
		errIn error
	}
	got := call(t, l, func(t *aio.Task) (seen, error) {
		return seen{t.Context(), t.Context().Err()}, nil
	})
	if got.errIn != nil {
		t.Errorf("Context().Err() while the task runs = %v; want nil", got.errIn)
	}
	select {
	case <-got.ctx.Done():
	default:
		t.Fatalf("Context().Done() not closed after the task ended")
	}
	if err := got.ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Context().Err() after the task ended = %v; want context.Canceled", err)
	}
}

func TestTaskContextDerived(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Contexts derived from a task's context end when the task is
	// cancelled, whether their Done was asked for before or after.
	ctx, cancel := context.WithCancel(testkit.Context(t))
	f := aio.Spawn(ctx, l, func(t *aio.Task) ([2]error, error) {
		early, stop := context.WithCancel(t.Context())
		defer stop()
		done := early.Done()
		late, stop2 := context.WithCancel(t.Context())
		defer stop2()
		cancel()
		if err := aio.Sleep(t, testkit.Timeout); !errors.Is(err, context.Canceled) {
			return [2]error{}, errors.Join(testkit.ErrTask, err)
		}
		<-done
		<-late.Done()
		return [2]error{early.Err(), late.Err()}, nil
	})
	got, err := f.Wait(testkit.Context(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() = %v; want context.Canceled", err)
	}
	for i, err := range got {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("derived context %d: Err() = %v; want context.Canceled", i, err)
		}
	}
}

// TestTaskContextCause checks what context.Cause says of a task's context:
// the loop records ErrClosed as the cause when it cancels a task because it
// closes (see Task.cancelCause).
func TestTaskContextCause(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	asleep := make(chan struct{})
	var cause error // written by the task, read after Wait
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(asleep)
		err := aio.Sleep(t, time.Hour)
		cause = context.Cause(t.Context())
		return 0, err
	})
	<-asleep
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v; want ErrClosed", err)
	}
	if !errors.Is(cause, aio.ErrClosed) {
		t.Errorf("context.Cause(t.Context()) after Close = %v; want ErrClosed", cause)
	}
}

// # A deadline: the context is done before an await returns its error

// TestTimeoutContextDoneWhenAwaitFails checks semantics 5 for Timeout's
// deadline, many times over: when the child's await returns
// context.DeadlineExceeded, the child's context is already done with it.
func TestTimeoutContextDoneWhenAwaitFails(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		const rounds = 200
		got := bubbleCall(t, l, func(t *aio.Task) (int, error) {
			late := 0
			for range rounds {
				aio.Timeout(t, time.Second, func(t *aio.Task) (int, error) {
					ctx := t.Context() // made before the deadline
					err := aio.Sleep(t, time.Hour)
					if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
						late++
					}
					return 0, err
				})
			}
			return late, nil
		})
		if got != 0 {
			t.Errorf("in %d of %d rounds, Context().Err() was nil right after an await returned context.DeadlineExceeded; want 0", got, rounds)
		}
	})
}

// TestCallerDeadlineContextDoneWhenAwaitFails is the same check for the
// caller's deadline: when an await returns context.DeadlineExceeded because
// the caller's context passed its deadline, the task's context (made before
// the deadline, so it derives from the caller's) is already done with it.
// The window, if any, is narrow: many rounds, through Call and Spawn.
func TestCallerDeadlineContextDoneWhenAwaitFails(t *testing.T) {
	// late reports whether t's context was not done yet when its Sleep
	// returned context.DeadlineExceeded.
	late := func(t *aio.Task) (bool, error) {
		tctx := t.Context() // made before the deadline
		err := aio.Sleep(t, time.Hour)
		return errors.Is(err, context.DeadlineExceeded) && tctx.Err() == nil, err
	}
	ways := []struct {
		name string
		run  func(ctx context.Context, l *aio.Loop) (bool, error)
	}{
		{"Call", func(ctx context.Context, l *aio.Loop) (bool, error) { return aio.Call(ctx, l, late) }},
		{"Spawn", func(ctx context.Context, l *aio.Loop) (bool, error) {
			return aio.Spawn(ctx, l, late).Wait(context.Background())
		}},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T, l *aio.Loop) {
				const rounds = 2000
				n := 0
				for range rounds {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					wasLate, err := w.run(ctx, l)
					cancel()
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("%s() = %v; want context.DeadlineExceeded", w.name, err)
					}
					if wasLate {
						n++
					}
				}
				if n != 0 {
					t.Errorf("in %d of %d rounds, Context().Err() was nil right after an await returned context.DeadlineExceeded; want 0", n, rounds)
				}
			})
		})
	}
}
