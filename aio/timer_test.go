package aio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// inBubble runs fn in a synctest bubble, with virtual time, on a loop made
// in the bubble (parking in the runtime, so that synctest sees it idle). The
// loop is closed before the bubble ends.
func inBubble(t *testing.T, fn func(t *testing.T, l *aio.Loop)) {
	t.Helper()
	testkit.Check(t)
	synctest.Test(t, func(t *testing.T) {
		l := aio.Start(aio.ParkInRuntime())
		defer func() {
			if err := l.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
		}()
		fn(t, l)
	})
}

// bubbleCall is call for a bubble: without the test's timeout, which would
// be virtual time there (synctest reports a deadlock instead of hanging).
func bubbleCall[T any](t *testing.T, l *aio.Loop, fn func(*aio.Task) (T, error)) T {
	t.Helper()
	v, err := aio.Call(context.Background(), l, fn)
	if err != nil {
		t.Fatalf("Call() = %v, %v; want nil error", v, err)
	}
	return v
}

func TestSleep(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		elapsed := bubbleCall(t, l, func(t *aio.Task) (time.Duration, error) {
			err := aio.Sleep(t, time.Hour)
			return time.Since(start), err
		})
		if elapsed != time.Hour {
			t.Errorf("Sleep(1h) took %v of virtual time; want 1h", elapsed)
		}
	})
}

func TestSleepWakesInDeadlineOrder(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		type wake struct {
			name string
			at   time.Duration
		}
		got := bubbleCall(t, l, func(t *aio.Task) ([]wake, error) {
			var wakes []wake
			g := aio.NewGroup(t)
			for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second, time.Second} {
				g.Go(func(t *aio.Task) error {
					err := aio.Sleep(t, d)
					wakes = append(wakes, wake{d.String(), time.Since(start)})
					return err
				})
			}
			return wakes, g.Wait()
		})
		want := []wake{{"1s", time.Second}, {"1s", time.Second}, {"2s", 2 * time.Second}, {"3s", 3 * time.Second}}
		if !slices.Equal(got, want) {
			t.Errorf("wake-ups = %v; want %v", got, want)
		}
	})
}

func TestSleepZeroYields(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, d := range []time.Duration{0, -time.Second} {
		got := call(t, l, func(t *aio.Task) ([]string, error) {
			var log []string
			aio.Go(t, func(*aio.Task) (int, error) {
				log = append(log, "other")
				return 0, nil
			})
			err := aio.Sleep(t, d)
			log = append(log, "after Sleep")
			return log, err
		})
		if want := []string{"other", "after Sleep"}; !slices.Equal(got, want) {
			t.Errorf("Sleep(%v): order = %q; want %q", d, got, want)
		}
	}
}

func TestSleepCancelled(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		f := aio.Spawn(context.Background(), l, func(t *aio.Task) (time.Duration, error) {
			err := aio.Sleep(t, time.Hour)
			return time.Since(start), err
		})
		time.Sleep(time.Minute)
		f.Cancel()
		elapsed, err := f.Wait(context.Background())
		if !errors.Is(err, context.Canceled) || elapsed != time.Minute {
			t.Errorf("cancelled after 1m: Sleep(1h) = %v after %v; want context.Canceled after 1m", err, elapsed)
		}
		// A cancelled task's Sleep returns at once, even Sleep(0).
		got := bubbleCall(t, l, func(t *aio.Task) ([2]error, error) {
			var errs [2]error
			child := aio.Go(t, func(t *aio.Task) (int, error) {
				errs[0] = aio.Sleep(t, time.Hour)
				errs[1] = aio.Sleep(t, 0)
				return 0, nil
			})
			child.Cancel()
			if _, err := aio.Await(t, child); !errors.Is(err, context.Canceled) {
				return errs, errors.Join(testkit.ErrTask, err)
			}
			return errs, nil
		})
		for i, err := range got {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Sleep #%d in a cancelled task = %v; want context.Canceled", i+1, err)
			}
		}
	})
}

func TestCallDeadlineVirtualTime(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var deadline time.Time // seen by the task, read after Call
		_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
			deadline, _ = t.Context().Deadline()
			return 0, aio.Sleep(t, time.Hour)
		})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("Call() with a 1m deadline = %v; want context.DeadlineExceeded only", err)
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("Call() returned after %v; want 1m", got)
		}
		if want, _ := ctx.Deadline(); !deadline.Equal(want) {
			t.Errorf("Context().Deadline() = %v; want the caller's, %v", deadline, want)
		}
	})
}

func TestTimeout(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		type result struct {
			v        int
			err      error
			after    time.Duration
			deadline time.Duration // the child's context deadline, from the start
			ctxErr   error
		}
		run := func(d, work time.Duration) result {
			return bubbleCall(t, l, func(t *aio.Task) (result, error) {
				var r result
				start := time.Now()
				r.v, r.err = aio.Timeout(t, d, func(t *aio.Task) (int, error) {
					dl, _ := t.Context().Deadline()
					r.deadline = dl.Sub(start)
					err := aio.Sleep(t, work)
					r.ctxErr = t.Context().Err()
					return 7, err
				})
				r.after = time.Since(start)
				return r, nil
			})
		}

		got := run(time.Minute, time.Second)
		if got.v != 7 || got.err != nil || got.after != time.Second || got.deadline != time.Minute {
			t.Errorf("Timeout(1m) of 1s of work = %v, %v after %v (deadline %v); want 7, nil after 1s (deadline 1m)", got.v, got.err, got.after, got.deadline)
		}
		got = run(time.Second, time.Hour)
		if !errors.Is(got.err, context.DeadlineExceeded) || errors.Is(got.err, context.Canceled) || got.after != time.Second {
			t.Errorf("Timeout(1s) of 1h of work = %v after %v; want context.DeadlineExceeded after 1s", got.err, got.after)
		}
		if !errors.Is(got.ctxErr, context.DeadlineExceeded) {
			t.Errorf("child's Context().Err() after its deadline = %v; want context.DeadlineExceeded", got.ctxErr)
		}
	})
}

func TestTimeoutNested(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		// The inner, longer timeout keeps the outer, shorter deadline.
		type result struct {
			err      error
			deadline time.Duration
			after    time.Duration
		}
		got := bubbleCall(t, l, func(t *aio.Task) (result, error) {
			var r result
			_, r.err = aio.Timeout(t, time.Second, func(t *aio.Task) (int, error) {
				return aio.Timeout(t, time.Hour, func(t *aio.Task) (int, error) {
					dl, _ := t.Context().Deadline()
					r.deadline = dl.Sub(start)
					return 0, aio.Sleep(t, time.Hour)
				})
			})
			r.after = time.Since(start)
			return r, nil
		})
		if !errors.Is(got.err, context.DeadlineExceeded) || got.after != time.Second || got.deadline != time.Second {
			t.Errorf("Timeout(1s, Timeout(1h, sleep 1h)) = %v after %v, inner deadline %v; want context.DeadlineExceeded after 1s, deadline 1s",
				got.err, got.after, got.deadline)
		}
	})
}

func TestTimeoutLeavesAwaitedFutureAlone(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		f, settle := aio.NewFuture[int](l)
		_, err := aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
			return aio.Timeout(t, time.Second, func(t *aio.Task) (int, error) { return aio.Await(t, f) })
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Timeout(1s, Await(f)) = %v; want context.DeadlineExceeded", err)
		}
		if f.Settled() {
			t.Fatalf("the awaited future settled when the await timed out; want it pending")
		}
		settle(3, nil)
		if v, err := f.Wait(context.Background()); v != 3 || err != nil {
			t.Errorf("Wait() = %v, %v; want 3, nil", v, err)
		}
	})
}

func TestTimeoutOfCancelledTask(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		// Cancelled from outside before its deadline: Canceled, not
		// DeadlineExceeded, and Timeout still waits for its child.
		ctx, cancel := context.WithCancel(context.Background())
		childEnded := false
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
			return aio.Timeout(t, time.Hour, func(t *aio.Task) (int, error) {
				err := aio.Sleep(t, 2*time.Hour)
				childEnded = true
				return 0, err
			})
		})
		if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Timeout(1h) cancelled after 1s = %v; want context.Canceled only", err)
		}
		if !childEnded {
			t.Errorf("Timeout returned before its child ended")
		}
	})
}

// TestTimerChurn arms and cancels many timers at once: every sleeper wakes
// at its own time, and the cancelled ones never do.
func TestTimerChurn(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		const n = 500
		start := time.Now()
		got := bubbleCall(t, l, func(t *aio.Task) ([]int, error) {
			woke := make([]int, 0, n)
			var sleepers []*aio.Future[int]
			for i := range n {
				sleepers = append(sleepers, aio.Go(t, func(t *aio.Task) (int, error) {
					err := aio.Sleep(t, time.Duration(n-i)*time.Millisecond)
					if err == nil && time.Since(start) == time.Duration(n-i)*time.Millisecond {
						woke = append(woke, n-i)
					}
					return 0, err
				}))
			}
			for i, f := range sleepers {
				if i%2 == 1 {
					f.Cancel()
				}
			}
			for _, f := range sleepers {
				aio.Await(t, f)
			}
			return woke, nil
		})
		var want []int
		for d := 1; d <= n; d++ {
			if (n-d)%2 == 0 { // i = n-d is even: not cancelled
				want = append(want, d)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("sleepers woke (ms) %v; want %v", got, want)
		}
	})
}

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

// TestAfterFunc checks, in virtual time, that AfterFunc calls run on the
// loop in the order they fall due, not before; that stop before the call
// prevents it and reports true, and after it reports false; and that calls
// set from the loop's own callbacks and tasks work the same.
func TestAfterFunc(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		start := time.Now()
		var fired []string // loop-owned
		at := func(name string) func() {
			return func() { fired = append(fired, fmt.Sprintf("%s@%v", name, time.Since(start))) }
		}
		l.AfterFunc(30*time.Millisecond, at("c"))
		l.AfterFunc(10*time.Millisecond, at("a"))
		stopped := l.AfterFunc(20*time.Millisecond, at("stopped"))
		l.AfterFunc(20*time.Millisecond, func() {
			at("b")()
			l.AfterFunc(5*time.Millisecond, at("from a callback"))
		})
		bubbleCall(t, l, func(t *aio.Task) (int, error) {
			l.AfterFunc(40*time.Millisecond, at("from a task"))
			return 0, nil
		})
		if !stopped() {
			t.Errorf("stop() before the call = false; want true")
		}
		if stopped() {
			t.Errorf("stop() again = true; want false")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		want := []string{"a@10ms", "b@20ms", "from a callback@25ms", "c@30ms", "from a task@40ms"}
		if !slices.Equal(fired, want) {
			t.Errorf("calls ran as %q; want %q", fired, want)
		}
		done := l.AfterFunc(0, func() {})
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if done() {
			t.Errorf("stop() after the call = true; want false")
		}
	})
}

// TestAfterFuncStopRace checks that, when stop races with the call falling
// due, exactly one of them wins: the call runs if and only if stop returns
// false.
func TestAfterFuncStopRace(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	const n = 2000
	var ran [n]atomic.Bool
	stopped := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		stop := l.AfterFunc(time.Duration(i%50)*time.Microsecond, func() { ran[i].Store(true) })
		wg.Go(func() { stopped[i] = stop() })
	}
	wg.Wait()
	call(t, l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Millisecond) })
	for i := range n {
		if ran[i].Load() == stopped[i] {
			t.Fatalf("call %d: ran %v, stop() = %v; want exactly one", i, ran[i].Load(), stopped[i])
		}
	}
}

// TestAfterFuncAndClose checks the rule for pending calls at Close: those
// not yet due never run, and their stop reports false; AfterFunc on a closed
// loop never runs fn; a call's panic is logged and the loop serves on; bad
// input is refused.
func TestAfterFuncAndClose(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	logger := logs.Logger()
	l := aio.Start(aio.Logger(logger))
	l.AfterFunc(0, func() { panic("timer boom") })
	testkit.WaitFor(t, "the call's panic to be logged", func() bool { return strings.Contains(logs.String(), "timer boom") })
	checkLoopServes(t, l)
	ran := make(chan struct{}, 2)
	stop := l.AfterFunc(time.Hour, func() { ran <- struct{}{} })
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if stop() {
		t.Errorf("stop() of a call dropped by Close = true; want false")
	}
	if late := l.AfterFunc(0, func() { ran <- struct{}{} }); late() {
		t.Errorf("stop() of AfterFunc on a closed loop = true; want false")
	}
	select {
	case <-ran:
		t.Errorf("a call dropped by Close, or set after it, ran")
	default:
	}
	if p := testkit.RecoverPanic(func() { l.AfterFunc(0, nil) }); p == nil {
		t.Errorf("AfterFunc(0, nil) did not panic")
	}
}
