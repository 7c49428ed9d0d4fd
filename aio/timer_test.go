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
	l := aio.Start(aio.Logger(logs.Logger()))
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

// TestTimersDueTogetherFireInOrder checks that timers due at the same
// moment fire in the order they were set, as JavaScript's do.
func TestTimersDueTogetherFireInOrder(t *testing.T) {
	inBubble(t, func(t *testing.T, l *aio.Loop) {
		var got []int // loop-owned
		bubbleCall(t, l, func(t *aio.Task) (int, error) {
			for i := range 20 {
				l.AfterFunc(time.Millisecond, func() { got = append(got, i) })
			}
			return 0, nil
		})
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if !slices.Equal(got, ints(20)) {
			t.Errorf("timers due together fired as %v; want in the order they were set", got)
		}
	})
}
