package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # Timeout

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

func TestTimeoutBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "Timeout nil function", inTask: func(t *aio.Task) error {
			_, err := aio.Timeout[int](t, time.Second, nil)
			return err
		}, want: "nil function"},
		{name: "Shield nil function", inTask: func(t *aio.Task) error {
			return aio.Shield(t, time.Second, nil)
		}, want: "nil function"},
	})
}

// # Shield

// TestShield checks that Shield lets cleanup await after its task was
// cancelled, with the task's values, until its grace runs out; that the
// task's cancellation arriving meanwhile does not reach it; that the task
// waits for it; and that its panic and Goexit go on in the task.
func TestShield(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx, cancel := context.WithCancel(context.WithValue(testkit.Context(t), testkit.CtxKey{}, "v"))
	started := make(chan struct{})
	type result struct {
		before, inShield, afterGrace, outer error
		value                               any
	}
	var r result
	go func() {
		<-started
		cancel()
	}()
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		close(started)
		r.before = aio.Sleep(t, time.Hour) // cancelled
		r.outer = aio.Shield(t, time.Hour, func(t *aio.Task) error {
			r.value = t.Context().Value(testkit.CtxKey{})
			r.inShield = aio.Sleep(t, time.Millisecond)
			return nil
		})
		r.afterGrace = aio.Shield(t, time.Millisecond, func(t *aio.Task) error {
			return aio.Sleep(t, time.Hour)
		})
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(r.before, context.Canceled) {
		t.Errorf("Call() = %v, the await before Shield = %v; want context.Canceled", err, r.before)
	}
	if r.inShield != nil || r.outer != nil || r.value != "v" {
		t.Errorf("in Shield: Sleep = %v, Shield = %v, value %v; want nil, nil, \"v\"", r.inShield, r.outer, r.value)
	}
	if !errors.Is(r.afterGrace, context.DeadlineExceeded) {
		t.Errorf("Shield past its grace = %v; want context.DeadlineExceeded", r.afterGrace)
	}

	p := testkit.RecoverPanic(func() {
		call(t, l, func(t *aio.Task) (int, error) {
			return 0, aio.Shield(t, time.Second, func(*aio.Task) error { panic("shield boom") })
		})
	})
	if pe := panicError(t, p); pe.Value != "shield boom" {
		t.Errorf("Shield's panic reached the waiter as %v; want \"shield boom\"", pe.Value)
	}
	if goexited, _ := testkit.Goexits(func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			return 0, aio.Shield(t, time.Second, func(*aio.Task) error { runtime.Goexit(); return nil })
		})
	}); !goexited {
		t.Errorf("a Goexit in Shield did not go on in the waiter")
	}
}

// TestShieldOutlastsCloseNotShutdownDeadline checks that Close does not
// cancel a shield, which runs out its grace, but Shutdown's deadline does.
func TestShieldOutlastsCloseNotShutdownDeadline(t *testing.T) {
	for _, deadline := range []bool{false, true} {
		t.Run(fmt.Sprintf("deadline=%v", deadline), func(t *testing.T) {
			testkit.Check(t)
			l := aio.Start()
			inShield := make(chan struct{})
			f := aio.Spawn(context.Background(), l, func(t *aio.Task) (error, error) {
				var err error
				aio.Shield(t, time.Hour, func(t *aio.Task) error {
					close(inShield)
					err = aio.Sleep(t, 20*time.Millisecond)
					return nil
				})
				return err, nil
			})
			testkit.Await(t, inShield, "the task to enter its shield")
			ctx := context.Background()
			if deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
			}
			l.Shutdown(ctx)
			testkit.Await(t, l.Done(), "the loop to stop")
			got, _ := f.Wait(testkit.Context(t))
			if deadline && !errors.Is(got, context.Canceled) {
				t.Errorf("Shutdown with a deadline: the shield's Sleep = %v; want context.Canceled", got)
			}
			if !deadline && got != nil {
				t.Errorf("Close: the shield's Sleep = %v; want nil, its grace left alone", got)
			}
		})
	}
}
