package aio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

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

func TestTaskIdentity(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type ident struct {
		loop          *aio.Loop
		id, childID   uint64
		name, renamed string
		str           string
	}
	got := call(t, l, func(t *aio.Task) (ident, error) {
		var v ident
		v.loop, v.id, v.name = t.Loop(), t.ID(), t.Name()
		var err error
		v.childID, err = aio.Await(t, aio.Go(t, func(t *aio.Task) (uint64, error) { return t.ID(), nil }))
		t.SetName("fetch")
		v.renamed, v.str = t.Name(), t.String()
		return v, err
	})
	if got.loop != l {
		t.Errorf("Loop() = %v; want %v", got.loop, l)
	}
	if got.id == 0 || got.childID == 0 || got.id == got.childID {
		t.Errorf("ID() of a task and its child = %d, %d; want two different non-zero ids", got.id, got.childID)
	}
	if !strings.Contains(got.name, "TestTaskIdentity") {
		t.Errorf("Name() = %q; want the task function's name", got.name)
	}
	if got.renamed != "fetch" {
		t.Errorf("Name() after SetName(%q) = %q; want %q", "fetch", got.renamed, "fetch")
	}
	if !strings.Contains(got.str, "fetch") || !strings.Contains(got.str, "task ") {
		t.Errorf("String() = %q; want it to hold the id and %q", got.str, "fetch")
	}
}

func TestTaskErr(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	ctx, cancel := context.WithCancel(testkit.Context(t))
	f := aio.Spawn(ctx, l, func(t *aio.Task) ([2]error, error) {
		before := t.Err()
		cancel()
		// A task that never awaits polls Err; yielding lets the loop
		// deliver the cancellation.
		for t.Err() == nil {
			aio.Sleep(t, 0)
		}
		return [2]error{before, t.Err()}, nil
	})
	got, err := f.Wait(testkit.Context(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want context.Canceled", err)
	}
	if got[0] != nil || !errors.Is(got[1], context.Canceled) {
		t.Errorf("Err() before and after cancellation = %v, %v; want nil, context.Canceled", got[0], got[1])
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

func TestChildOutlivesParentWithSpawn(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	gate, open := aio.NewFuture[int](l)
	other := call(t, l, func(t *aio.Task) (*aio.Future[int], error) {
		return aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
			return aio.Await(t, gate)
		}), nil
	})
	open(3, nil)
	if v, err := other.Wait(testkit.Context(t)); v != 3 || err != nil {
		t.Errorf("Wait() of a task spawned by a task that ended = %v, %v; want 3, nil", v, err)
	}
}

// TestNoAwait checks that an await inside NoAwait panics with a message
// naming the rule, instead of suspending the task in the middle of foreign
// code; that the task goes on awaiting once NoAwait has returned, nested
// calls included; and that fn's own panic goes on.
func TestNoAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	awaits := map[string]func(t *aio.Task){
		"Sleep":    func(t *aio.Task) { aio.Sleep(t, time.Millisecond) },
		"Sleep(0)": func(t *aio.Task) { aio.Sleep(t, 0) },
		"Await":    func(t *aio.Task) { aio.Await(t, aio.Go(t, func(*aio.Task) (int, error) { return 1, nil })) },
		"ToThread": func(t *aio.Task) {
			aio.ToThread(t, func(context.Context) (int, error) { return 1, nil })
		},
		"Recv":    func(t *aio.Task) { aio.Recv(t, make(chan int)) },
		"Timeout": func(t *aio.Task) { aio.Timeout(t, time.Second, func(*aio.Task) (int, error) { return 1, nil }) },
	}
	for name, await := range awaits {
		t.Run(name, func(t *testing.T) {
			got := call(t, l, func(t *aio.Task) (string, error) {
				var p any
				aio.NoAwait(t, func() {
					aio.NoAwait(t, func() {}) // nesting is fine
					p = testkit.RecoverPanic(func() { await(t) })
				})
				if err := aio.Sleep(t, 0); err != nil {
					return "", err
				}
				return fmt.Sprint(p), nil
			})
			if !strings.Contains(got, "inside NoAwait") || !strings.Contains(got, "must not await") {
				t.Errorf("await inside NoAwait panicked with %q; want the NoAwait rule", got)
			}
		})
	}
	p := testkit.RecoverPanic(func() {
		call(t, l, func(t *aio.Task) (int, error) {
			aio.NoAwait(t, func() { panic("foreign boom") })
			return 0, nil
		})
	})
	if pe := panicError(t, p); pe.Value != "foreign boom" {
		t.Errorf("NoAwait's fn panic reached the waiter as %v; want it", pe.Value)
	}
	checkLoopServes(t, l)
}
