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

// # Close and Shutdown

// TestClosedLoopRefusesWork checks a closed loop, one that never served,
// one closed as it starts and one that served: work posted to a loop that
// never served fails with ErrClosed when it closes and never runs; Close
// again returns nil; Done is closed; and Serve, Call, Spawn, OpenStream and
// Post return ErrClosed and run nothing.
func TestClosedLoopRefusesWork(t *testing.T) {
	for _, state := range []string{"never served", "started", "served"} {
		t.Run(state, func(t *testing.T) {
			testkit.Check(t)
			ran := false // written by anything that wrongly runs, read after Close
			fn := func(*aio.Task) (int, error) { ran = true; return 1, nil }
			var l *aio.Loop
			var before *aio.Future[int] // posted before Close to a loop that never served
			switch state {
			case "started":
				l = aio.Start()
			case "served":
				l = aio.Start()
				call(t, l, func(*aio.Task) (int, error) { return 0, nil })
			default:
				l = aio.NewLoop()
				before = aio.Spawn(context.Background(), l, fn)
				if err := l.Post(func() { ran = true }); err != nil {
					t.Fatalf("Post() before Serve = %v; want nil", err)
				}
			}
			for i := range 3 {
				if err := l.Close(); err != nil {
					t.Fatalf("Close() #%d = %v; want nil", i+1, err)
				}
			}
			select {
			case <-l.Done():
			default:
				t.Errorf("Done() not closed after Close")
			}
			if before != nil {
				if _, err := before.Wait(testkit.Context(t)); !errors.Is(err, aio.ErrClosed) {
					t.Errorf("Wait() of work posted before Close = %v; want ErrClosed", err)
				}
			}
			if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Serve() after Close = %v; want ErrClosed", err)
			}
			if _, err := aio.Call(context.Background(), l, fn); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Call() = %v; want ErrClosed", err)
			}
			if _, err := aio.Spawn(context.Background(), l, fn).Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Spawn().Wait() = %v; want ErrClosed", err)
			}
			if _, err := aio.OpenStream(context.Background(), l, aio.SliceSeq([]int{1})).Next(context.Background()); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("OpenStream().Next() = %v; want ErrClosed", err)
			}
			if err := l.Post(func() { ran = true }); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Post() = %v; want ErrClosed", err)
			}
			if ran {
				t.Errorf("a function ran on a closed loop")
			}
		})
	}
}

// TestCloseCancelsAndAwaitsTasks checks that Close, and Shutdown with time
// to spare, cancel the loop's tasks and wait for them: each task's await
// fails with context.Canceled, its error is ErrClosed too, it keeps its
// value; one spawned just before fails with ErrClosed; no task is left; and
// the loop stops.
func TestCloseCancelsAndAwaitsTasks(t *testing.T) {
	tests := []struct {
		name  string
		close func(t *testing.T, l *aio.Loop) error
	}{
		{"Close", func(_ *testing.T, l *aio.Loop) error { return l.Close() }},
		{"Shutdown", func(t *testing.T, l *aio.Loop) error { return l.Shutdown(testkit.Context(t)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			l := aio.Start()

			const n = 5
			started := make(chan struct{}, n)
			var sleepErrs [n]error // written by the tasks, read after Close
			futures := make([]*aio.Future[int], n)
			for i := range n {
				futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
					started <- struct{}{}
					err := aio.Sleep(t, testkit.Timeout)
					sleepErrs[i] = err
					return i, err
				})
			}
			for range n {
				testkit.Await(t, started, "every task to start")
			}
			// Posted just before: it may not have started when the loop closes.
			late := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
				return 0, aio.Sleep(t, testkit.Timeout)
			})
			if err := tt.close(t, l); err != nil {
				t.Fatalf("%s() = %v; want nil", tt.name, err)
			}
			for i, f := range futures {
				if !f.Settled() {
					t.Fatalf("task %d still pending after %s", i, tt.name)
				}
				v, err := f.Wait(context.Background())
				if v != i || !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
					t.Errorf("task %d: Wait() = %v, %v; want %d, ErrClosed and context.Canceled", i, v, err, i)
				}
				if err := sleepErrs[i]; !errors.Is(err, context.Canceled) {
					t.Errorf("task %d: Sleep() = %v; want context.Canceled", i, err)
				}
			}
			if _, err := late.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("a task spawned just before %s: Wait() = %v; want ErrClosed", tt.name, err)
			}
			if s := l.Stats(); s.Tasks != 0 {
				t.Errorf("Stats().Tasks after %s = %d; want 0", tt.name, s.Tasks)
			}
			testkit.Await(t, l.Done(), "the loop to stop")
		})
	}
}

func TestShutdownGivesUpAtDeadline(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	// A task that blocks the loop without awaiting cannot be stopped from
	// outside: Shutdown must give up when its ctx ends, and Close must
	// finish the job once the task lets go.
	blocking := make(chan struct{})
	release := make(chan struct{})
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) {
		close(blocking)
		<-release
		return 1, nil
	})
	<-blocking
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(ended ctx) = %v; want context.Canceled", err)
	}
	close(release)
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if v, err := f.Wait(context.Background()); v != 1 || err != nil {
		// The task never awaited again, so it returned as it liked.
		t.Errorf("Wait() = %v, %v; want 1, nil", v, err)
	}
}

// TestShutdownBadInput checks that Shutdown refuses a nil context, and that
// the loop still closes afterwards.
func TestShutdownBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	var nilCtx context.Context
	runInvalidCases(t, l, []invalidCase{
		{name: "Shutdown nil context", call: func() error { return l.Shutdown(nilCtx) }, want: "nil context"},
	})
	checkLoopServes(t, l)
}

// # Close hooks

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
	var errs []error        // each hook's t.Err() and its context's
	bystander := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	register := func(name string, fn func(t *aio.Task) error) func() bool {
		return call(t, l, func(t *aio.Task) (func() bool, error) {
			return aio.OnClose(t, func(t *aio.Task) error {
				order = append(order, name)
				tids = append(tids, testkit.ThreadID())
				sawCancelled = append(sawCancelled, bystander.Settled())
				errs = append(errs, t.Err(), t.Context().Err())
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
	if slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		t.Errorf("in the hooks, t.Err() and t.Context().Err() were %v; want nil: Close does not cancel its hooks", errs)
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

// TestCloseHookStartsWork checks that a close hook (an Exit at Close) may
// start callbacks, timers and tasks, and await them, as any loop code may,
// while other goroutines are refused.
func TestCloseHookStartsWork(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	var got []string
	var outside error
	call(t, l, func(t *aio.Task) (int, error) {
		_, err := aio.OnClose(t, func(t *aio.Task) error {
			outside = <-refusedFromOutside(t.Loop())
			ev := new(aio.Event)
			l := t.Loop()
			if err := l.Post(func() { got = append(got, "post") }); err != nil {
				return err
			}
			l.AfterFunc(time.Millisecond, func() { got = append(got, "timer"); ev.Set() })
			f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
				got = append(got, "spawned")
				return 1, aio.Sleep(t, time.Millisecond)
			})
			if _, err := aio.Await(t, f); err != nil {
				return err
			}
			return ev.Wait(t)
		})
		return 0, err
	})
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil: the hook's work ran", err)
	}
	if want := []string{"post", "spawned", "timer"}; !slices.Equal(got, want) {
		t.Errorf("the hook's work ran as %q; want %q", got, want)
	}
	if !errors.Is(outside, aio.ErrClosed) {
		t.Errorf("Post from another goroutine during the hooks = %v; want ErrClosed", outside)
	}
}

// refusedFromOutside posts to l from another goroutine and reports what it
// got.
func refusedFromOutside(l *aio.Loop) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- l.Post(func() {}) }()
	return ch
}

// TestWorkStartedAfterCloseCancels checks what a task's cleanup may start
// once Close has cancelled the tasks: a child starts cancelled, for the same
// reason (its first await returns context.Canceled, its future ErrClosed),
// and Close waits for it; a new top-level task is refused with ErrClosed and
// never runs, as Spawn's doc says.
func TestWorkStartedAfterCloseCancels(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	sleeps := make(chan error, 2)
	var child, spawned *aio.Future[int]
	asleep := make(chan struct{})
	aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(asleep)
		err := aio.Sleep(t, testkit.Timeout)
		sleeper := func(t *aio.Task) (int, error) {
			err := aio.Sleep(t, testkit.Timeout)
			sleeps <- err
			return 0, err
		}
		child = aio.Go(t, sleeper)
		spawned = aio.Spawn(context.Background(), t.Loop(), sleeper)
		return 0, err
	})
	testkit.Await(t, asleep, "the task to sleep")
	testkit.Do(t, "Close", func() { l.Close() })
	if !child.Settled() {
		t.Fatal("Close returned before the child its cancelled task started")
	}
	if err := <-sleeps; !errors.Is(err, context.Canceled) || len(sleeps) != 0 {
		t.Errorf("the child's Sleep() = %v (%d more tasks ran); want context.Canceled, and only the child run", err, len(sleeps))
	}
	if _, err := child.Wait(testkit.Context(t)); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("the child: Wait() = %v; want ErrClosed", err)
	}
	if _, err := spawned.Wait(testkit.Context(t)); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("the task spawned after the cancellation: Wait() = %v; want ErrClosed", err)
	}
}

// TestOnCloseRemoveMisuse checks that a hook's remove called outside a task
// of its loop panics rather than edit the loop's hooks from another
// goroutine: from a goroutine while the loop is idle, and from a task of
// another loop while this loop runs a task.
func TestOnCloseRemoveMisuse(t *testing.T) {
	testkit.Check(t)
	l, other := startLoop(t), startLoop(t)
	remove := call(t, l, func(t *aio.Task) (func() bool, error) {
		return aio.OnClose(t, func(*aio.Task) error { return nil })
	})
	const want = "OnClose's remove called outside a task of"
	if p, _ := testkit.RecoverPanic(func() { remove() }).(string); !strings.Contains(p, want) {
		t.Errorf("remove() from a goroutine panicked with %q; want %q", p, want)
	}
	release := make(chan struct{})
	busy := make(chan struct{})
	held := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(busy)
		<-release // l runs a task while the other loop's task calls remove
		return 0, nil
	})
	testkit.Await(t, busy, "l to run a task")
	p := call(t, other, func(*aio.Task) (any, error) { return testkit.RecoverPanic(func() { remove() }), nil })
	close(release)
	if msg, _ := p.(string); !strings.Contains(msg, want) {
		t.Errorf("remove() from another loop's task panicked with %v; want %q", p, want)
	}
	if _, err := held.Wait(testkit.Context(t)); err != nil {
		t.Fatalf("the holding task: %v", err)
	}
	if !call(t, l, func(*aio.Task) (bool, error) { return remove(), nil }) {
		t.Errorf("remove() from a task of l = false; want true: the misuses removed nothing")
	}
}
