package aio_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestGroupWaitsForAll(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]int, error) {
		var done []int
		g := aio.NewGroup(t)
		for i := range 5 {
			g.Go(func(t *aio.Task) error {
				for range i {
					if err := aio.Sleep(t, 0); err != nil {
						return err
					}
				}
				done = append(done, i)
				return nil
			})
		}
		err := g.Wait()
		return done, err
	})
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("tasks ended before Wait returned: %v; want %v", got, want)
	}
}

func TestGroupEmpty(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.NewGroup(t).Wait(), nil }); err != nil {
		t.Errorf("Wait() of an empty group = %v; want nil", err)
	}
}

func TestGroupFirstErrorCancelsRest(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	errLater := errors.New("later failure")
	type result struct {
		err    error
		others []error
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		g := aio.NewGroup(t)
		for range 3 {
			g.Go(func(t *aio.Task) error {
				err := aio.Sleep(t, testkit.Timeout)
				r.others = append(r.others, err)
				return errLater // after the first: not reported
			})
		}
		g.Go(func(t *aio.Task) error {
			aio.Sleep(t, 0)
			return testkit.ErrTask
		})
		r.err = g.Wait()
		return r, nil
	})
	if got.err != testkit.ErrTask {
		t.Errorf("Wait() = %v; want the first error, %v", got.err, testkit.ErrTask)
	}
	if len(got.others) != 3 {
		t.Fatalf("%d other tasks ended before Wait returned; want 3", len(got.others))
	}
	for i, err := range got.others {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("other task %d: Sleep() = %v; want context.Canceled", i, err)
		}
	}
}

func TestGroupGoAfterFailure(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct{ late, wait error }
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		g := aio.NewGroup(t)
		g.Go(func(*aio.Task) error { return testkit.ErrTask })
		aio.Sleep(t, 0) // the failure lands
		g.Go(func(t *aio.Task) error {
			r.late = aio.Sleep(t, testkit.Timeout) // starts cancelled
			return nil
		})
		r.wait = g.Wait()
		return r, nil
	})
	if !errors.Is(got.late, context.Canceled) {
		t.Errorf("task added after the failure: Sleep() = %v; want context.Canceled", got.late)
	}
	if got.wait != testkit.ErrTask {
		t.Errorf("Wait() = %v; want %v", got.wait, testkit.ErrTask)
	}
}

func TestGroupGoFromGroupTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) (int, error) {
		n := 0
		g := aio.NewGroup(t)
		var spawn func(depth int) func(*aio.Task) error
		spawn = func(depth int) func(*aio.Task) error {
			return func(t *aio.Task) error {
				n++
				if depth > 0 {
					g.Go(spawn(depth - 1))
					g.Go(spawn(depth - 1))
				}
				return aio.Sleep(t, 0)
			}
		}
		g.Go(spawn(3))
		err := g.Wait()
		return n, err
	})
	if got != 15 {
		t.Errorf("tasks run = %d; want 15 (a tree of depth 3, all awaited by Wait)", got)
	}
}

func TestGroupWaitWaitsWhenCancelled(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Cancelling the group's task cancels the group's tasks, and Wait still
	// waits for them all: none outlives it.
	ctx, cancel := context.WithCancel(context.Background())
	ended := 0 // written on the loop, read after Call
	const n = 4
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		for range n {
			g.Go(func(t *aio.Task) error {
				err := aio.Sleep(t, testkit.Timeout)
				// Cleanup that needs the loop, after the cancellation.
				aio.ToThread(t, func(context.Context) (int, error) { return 0, nil })
				ended++
				return err
			})
		}
		aio.Sleep(t, 0)
		cancel()
		return 0, g.Wait()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
	if ended != n {
		t.Errorf("%d of %d group tasks ended before Wait returned; want all", ended, n)
	}
}

func TestGroupWaitByAnotherTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Group.Wait belongs to the task that made the group.
	got := call(t, l, func(t *aio.Task) (any, error) {
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error { return aio.Sleep(t, 0) })
		other := aio.Go(t, func(*aio.Task) (any, error) { return testkit.RecoverPanic(func() { g.Wait() }), nil })
		p, err := aio.Await(t, other)
		return p, errors.Join(err, g.Wait())
	})
	checkMisusePanic(t, "Group.Wait", got)
}

func TestGroupPanic(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	others := 0
	p := testkit.RecoverPanic(func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			g := aio.NewGroup(t)
			g.Go(func(t *aio.Task) error {
				err := aio.Sleep(t, testkit.Timeout)
				if errors.Is(err, context.Canceled) {
					others++
				}
				return err
			})
			g.Go(func(t *aio.Task) error { panic("group boom") })
			return 0, g.Wait()
		})
	})
	if pe := panicError(t, p); pe.Value != "group boom" {
		t.Errorf("Call() panicked with %v; want %q", pe.Value, "group boom")
	}
	if others != 1 {
		t.Errorf("the other group task was cancelled %d times; want 1", others)
	}
	checkLoopServes(t, l)
}

func TestGroupErrorThenPanic(t *testing.T) {
	testkit.Check(t)

	// The first failure is what Wait reports, even if a later one is a
	// panic; the panic is not lost for all that: Close reports it.
	var logs testkit.LogSink
	l2 := aio.Start(aio.Logger(logs.Logger()))
	defer l2.Close() // if the test stops early
	got := call(t, l2, func(t *aio.Task) (error, error) {
		g := aio.NewGroup(t)
		g.Go(func(*aio.Task) error { return testkit.ErrTask })
		g.Go(func(t *aio.Task) error {
			aio.Sleep(t, time.Hour)
			panic("late boom")
		})
		return g.Wait(), nil
	})
	if got != testkit.ErrTask {
		t.Errorf("Wait() = %v; want %v", got, testkit.ErrTask)
	}
	err := l2.Close()
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "late boom" {
		t.Errorf("Close() = %v; want the later panic, unretrieved", err)
	}
	if !strings.Contains(logs.String(), "late boom") {
		t.Errorf("log = %q; want the later panic", logs.String())
	}
}

func TestGroupBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "Group.Go nil function", inTask: func(t *aio.Task) error {
			g := aio.NewGroup(t)
			g.Go(nil)
			return g.Wait()
		}, want: "nil function"},
	})
}

// TestGroupGoMisuse checks that Group.Go outside a task of the group's loop
// (from a callback's goroutine) and after the task that made the group has
// ended panic, saying which, rather than starting a child nobody waits for.
func TestGroupGoMisuse(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	g := call(t, l, func(t *aio.Task) (*aio.Group, error) { return aio.NewGroup(t), nil })
	noop := func(*aio.Task) error { return nil }

	p := testkit.RecoverPanic(func() { g.Go(noop) })
	if msg, _ := p.(string); !strings.Contains(msg, "Group.Go called outside a task") {
		t.Errorf("Group.Go from another goroutine panicked with %v; want it called outside a task", p)
	}
	p = call(t, l, func(*aio.Task) (any, error) { return testkit.RecoverPanic(func() { g.Go(noop) }), nil })
	if msg, _ := p.(string); !strings.Contains(msg, "after the task that made the group ended") {
		t.Errorf("Group.Go from a later task panicked with %v; want it called after the group's task ended", p)
	}
}
