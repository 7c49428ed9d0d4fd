package aio_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

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
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.Shield(t, time.Second, nil), nil }); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Shield(nil) = %v; want ErrInvalid", err)
	}
}

// TestShieldOutlastsCloseNotShutdownDeadline checks that Close does not
// cancel a shield, which runs out its grace, but Shutdown's deadline does.
func TestShieldOutlastsCloseNotShutdownDeadline(t *testing.T) {
	for _, deadline := range []bool{false, true} {
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
		<-inShield
		ctx := context.Background()
		if deadline {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
		}
		l.Shutdown(ctx)
		<-l.Done()
		got, _ := f.Wait(testkit.Context(t))
		if deadline && !errors.Is(got, context.Canceled) {
			t.Errorf("Shutdown with a deadline: the shield's Sleep = %v; want context.Canceled", got)
		}
		if !deadline && got != nil {
			t.Errorf("Close: the shield's Sleep = %v; want nil, its grace left alone", got)
		}
	}
}
