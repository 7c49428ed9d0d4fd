package threadrunner_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// TestCloseOrder checks the order of Close's steps, recorded as they happen:
// new work is refused, kept resources are exited last entered first while
// the other tasks still run, then the tasks are cancelled and awaited, open
// generators are stopped, ToThread functions are waited for, and the loop
// stops before Close returns.
func TestCloseOrder(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	ctx := context.Background()
	var log eventLog

	// Kept resources whose Exits try to start new work.
	noop := func(*aio.Task) (int, error) { return 0, nil }
	kept := func(name string) *probe {
		return &probe{name: name, log: &log, exit: func(*aio.Task) {
			f := threadrunner.Submit(ctx, r, noop)
			if _, err := f.Wait(ctx); errors.Is(err, aio.ErrClosed) {
				log.add("refused during exit %s", name)
			} else {
				log.add("accepted during exit %s: %v", name, err)
			}
		}}
	}
	for _, name := range []string{"A", "B", "C"} {
		if _, err := threadrunner.Keep(ctx, r, kept(name)); err != nil {
			t.Fatalf("Keep(%s) = %v; want nil", name, err)
		}
	}

	// A task that awaits until it is cancelled.
	taskStarted := make(chan struct{})
	task := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
		close(taskStarted)
		err := aio.Sleep(t, time.Hour)
		log.add("task cancelled: %v", err)
		return 0, err
	})
	<-taskStarted

	// A task in ToThread, whose function takes a while to notice the
	// cancellation.
	inThread := make(chan struct{})
	threadTask := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
		_, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
			close(inThread)
			<-ctx.Done()
			time.Sleep(5 * time.Millisecond)
			log.add("tothread returned")
			return 0, ctx.Err()
		})
		log.add("tothread task ended")
		return 0, err
	})
	<-inThread

	// An open generator, ranged by a goroutine that waits for its next value.
	ranging := make(chan struct{})
	rangeEnded := make(chan error)
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer log.add("generator stopped")
		yield(0)
		return aio.Sleep(t, time.Hour)
	}
	go func() {
		var last error
		for _, err := range threadrunner.Iter(ctx, r, gen) {
			if err == nil {
				close(ranging)
			}
			last = err
		}
		rangeEnded <- last
	}()
	<-ranging

	l := r.Loop()
	log.add("close called")
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	log.add("close returned")
	select {
	case <-l.Done():
	default:
		t.Error("Close() returned before the loop stopped")
	}
	if _, err := task.Wait(ctx); !errors.Is(err, context.Canceled) || !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() of a task Close cancelled = %v; want %v and %v", err, context.Canceled, aio.ErrClosed)
	}
	if _, err := threadTask.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() of the ToThread task = %v; want %v", err, context.Canceled)
	}
	if err := <-rangeEnded; !errors.Is(err, aio.ErrClosed) {
		t.Errorf("the range loop's last error = %v; want %v", err, aio.ErrClosed)
	}

	events := log.list()
	order := []string{
		"close called",
		"exit C", "refused during exit C",
		"exit B", "refused during exit B",
		"exit A", "refused during exit A",
	}
	// The enters come first; then Close's steps in order.
	prefix := []string{"enter A", "enter B", "enter C"}
	for i, want := range append(prefix, order...) {
		if i >= len(events) || events[i] != want {
			t.Fatalf("events = %q; want them to start with %q", events, append(prefix, order...))
		}
	}
	exitsDone := len(prefix) + len(order) - 1
	closeReturned := log.index("close returned")
	for _, ev := range []string{"task cancelled: context canceled", "generator stopped", "tothread returned", "tothread task ended"} {
		at := log.index(ev)
		if at < 0 {
			t.Errorf("no event %q in %q", ev, events)
			continue
		}
		if at <= exitsDone || at >= closeReturned {
			t.Errorf("event %q at %d; want it after the kept resources exited (%d) and before Close returned (%d): %q", ev, at, exitsDone, closeReturned, events)
		}
	}
	if log.index("tothread returned") > log.index("tothread task ended") {
		t.Errorf("the ToThread task ended before its function returned: %q", events)
	}
	for _, ev := range events {
		if strings.HasPrefix(ev, "accepted") {
			t.Errorf("new work was accepted during Close: %q", ev)
		}
	}
}

func TestCloseReturnsUnretrievedPanic(t *testing.T) {
	leaktest.Check(t)
	var logged lockedBuffer
	r := threadrunner.New(aio.Logger(slog.New(slog.NewTextHandler(&logged, nil))))
	f := threadrunner.Submit(context.Background(), r, panickingTask("lost"))
	<-f.Done() // settled, but nobody looks at its outcome
	err := r.Close()
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "lost" {
		t.Errorf("Close() = %v; want the *aio.PanicError nobody retrieved", err)
	}
	if !strings.Contains(logged.String(), "lost") || !strings.Contains(logged.String(), "panickingTask") {
		t.Errorf("the lost panic was not logged with its stack; log:\n%s", logged.String())
	}
}

func TestCloseDoesNotReportRetrievedPanic(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	recoverPanic(func() { threadrunner.Run(context.Background(), r, panickingTask("seen")) })
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil: the panic was handed to Run's caller", err)
	}
}

func TestCloseCancelsTasksStartedByTasks(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	started := make(chan struct{})
	var childErr error // written on the loop, read after Close
	threadrunner.Submit(context.Background(), r, func(t *aio.Task) (int, error) {
		// A detached task, started with a context that never ends.
		aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
			close(started)
			childErr = aio.Sleep(t, time.Hour)
			return 0, childErr
		})
		return 0, nil
	})
	<-started
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if !errors.Is(childErr, context.Canceled) {
		t.Errorf("a detached task's Sleep at Close = %v; want %v", childErr, context.Canceled)
	}
}
