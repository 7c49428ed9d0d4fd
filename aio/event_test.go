package aio_test

import (
	"context"
	"errors"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestEvent(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		woken        int
		setBefore    bool
		setAfter     bool
		clearedAfter bool
		waitWhenSet  error
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		var ev aio.Event // the zero value is ready to use
		g := aio.NewGroup(t)
		for range 5 {
			g.Go(func(t *aio.Task) error {
				if err := ev.Wait(t); err != nil {
					return err
				}
				r.woken++
				return nil
			})
		}
		aio.Sleep(t, 0) // all wait
		r.setBefore = ev.IsSet()
		ev.Set()
		r.setAfter = ev.IsSet()
		err := g.Wait()
		r.waitWhenSet = ev.Wait(t) // set: returns at once
		ev.Clear()
		r.clearedAfter = ev.IsSet()
		return r, err
	})
	if got.woken != 5 {
		t.Errorf("Set woke %d of 5 waiters; want all", got.woken)
	}
	if got.setBefore || !got.setAfter || got.clearedAfter {
		t.Errorf("IsSet() before Set, after Set, after Clear = %v, %v, %v; want false, true, false", got.setBefore, got.setAfter, got.clearedAfter)
	}
	if got.waitWhenSet != nil {
		t.Errorf("Wait() on a set event = %v; want nil", got.waitWhenSet)
	}
}

func TestEventSetThenClearBeforeWaitersRun(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Set then Clear in one step: the waiters were woken but find the
	// event unset again, so they go on waiting until the next Set.
	got := call(t, l, func(t *aio.Task) ([]string, error) {
		var log []string
		var ev aio.Event
		waiter := aio.Go(t, func(t *aio.Task) (int, error) {
			err := ev.Wait(t)
			log = append(log, "woke")
			return 0, err
		})
		aio.Sleep(t, 0)
		ev.Set()
		ev.Clear()
		aio.Sleep(t, 0)
		aio.Sleep(t, 0)
		log = append(log, "set again")
		ev.Set()
		_, err := aio.Await(t, waiter)
		return log, err
	})
	if len(got) != 2 || got[0] != "set again" || got[1] != "woke" {
		t.Errorf("order = %q; want [set again woke]", got)
	}
}

func TestEventWaitCancelled(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	var ev aio.Event
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) { return 0, ev.Wait(t) })
	testkit.WaitFor(t, "the waiter to wait", func() bool { return l.Stats().Steps > 0 })
	f.Cancel()
	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() cancelled = %v; want context.Canceled", err)
	}
}
