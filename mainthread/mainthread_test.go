package mainthread_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/mainthread"
)

// runner is the runner that mainthread.Run handed to TestMain: its loop runs
// on the main thread while the tests run.
var runner *threadrunner.Runner

var (
	errFn   = errors.New("fn failed")
	errExit = errors.New("exit failed")
)

// Outcomes of the short mainthread.Run calls TestMain makes before the one
// that runs the tests; tests check them.
var (
	joined struct {
		err      error // what Run returned
		fnTID    int   // where fn ran
		taskTID  int   // where a task of its runner ran
		exitTID  int   // where Close exited its kept resource
		exitRuns int
	}
	panicked struct {
		value    any // what Run panicked with
		exitRuns int // Close had exited the kept resource
	}
	unpinned struct {
		err   error
		fnRan bool
	}
)

// TestMain runs the tests inside mainthread.Run, as a program's main would,
// after a few short runs whose outcomes the tests check.
func TestMain(m *testing.M) {
	runJoined()
	runPanicked()
	runUnpinned()
	code := 0
	err := mainthread.Run(func(r *threadrunner.Runner) error {
		runner = r
		code = m.Run()
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mainthread.Run() =", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// runJoined runs an fn that fails, with a kept resource whose Exit fails.
func runJoined() {
	exit := aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, func(*aio.Task, int, error) error {
		joined.exitRuns++
		joined.exitTID = threadID()
		return errExit
	})
	joined.err = mainthread.Run(func(r *threadrunner.Runner) error {
		joined.fnTID = threadID()
		tid, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return threadID(), nil })
		joined.taskTID = tid
		if _, err := threadrunner.Keep(context.Background(), r, exit); err != nil {
			return errors.Join(errors.New("Keep failed"), err)
		}
		return errors.Join(errFn, err)
	})
}

// runPanicked runs an fn that panics, with a kept resource.
func runPanicked() {
	defer func() { panicked.value = recover() }()
	kept := aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, func(*aio.Task, int, error) error {
		panicked.exitRuns++
		return nil
	})
	mainthread.Run(func(r *threadrunner.Runner) error {
		if _, err := threadrunner.Keep(context.Background(), r, kept); err != nil {
			return err
		}
		panic("fn boom")
	})
}

// runUnpinned asks for an unpinned loop, which Run must refuse.
func runUnpinned() {
	unpinned.err = mainthread.Run(func(r *threadrunner.Runner) error {
		unpinned.fnRan = true
		return nil
	}, aio.Unpinned())
}

// TestTasksRunOnMainThread uses the shared runner, which keeps its loop (and
// its pooled coroutines) until TestMain ends, so it does not check for leaks.
func TestTasksRunOnMainThread(t *testing.T) {
	main := mainThreadID()
	if tid := threadID(); tid == main && main != 0 {
		t.Fatalf("the tests run on the main thread (%d); want them off it, with the loop on it", tid)
	}
	ctx := context.Background()
	// The loop records its thread when it starts serving, which may come
	// after the runner is handed over: a call waits for that.
	if _, err := threadrunner.Run(ctx, runner, func(*aio.Task) (int, error) { return 0, nil }); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if got := runner.Loop().ThreadID(); got != main {
		t.Errorf("Loop().ThreadID() = %d; want the main thread, %d", got, main)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			// Every kind of work, each reporting the threads it ran on.
			tids, err := threadrunner.Run(ctx, runner, func(t *aio.Task) ([]int, error) {
				tids := []int{threadID()}
				if err := aio.Sleep(t, 0); err != nil {
					return nil, err
				}
				tids = append(tids, threadID())
				child, err := aio.Await(t, aio.Go(t, func(*aio.Task) (int, error) { return threadID(), nil }))
				return append(tids, child), err
			})
			if err != nil {
				t.Errorf("goroutine %d: Run() = %v; want nil", g, err)
			}
			f := threadrunner.Submit(ctx, runner, func(*aio.Task) (int, error) { return threadID(), nil })
			tid, err := f.Wait(ctx)
			if err != nil {
				t.Errorf("goroutine %d: Submit().Wait() = %v; want nil", g, err)
			}
			tids = append(tids, tid)
			res := aio.ResourceFunc(func(*aio.Task) (int, error) { return threadID(), nil }, func(_ *aio.Task, _ int, _ error) error {
				if tid := threadID(); tid != main {
					return fmt.Errorf("Exit ran on thread %d", tid)
				}
				return nil
			})
			err = threadrunner.With(ctx, runner, res, func(enterTID int) error {
				tids = append(tids, enterTID)
				return nil
			})
			if err != nil {
				t.Errorf("goroutine %d: With() = %v; want nil", g, err)
			}
			gen := func(t *aio.Task, yield func(int) bool) error {
				for range 3 {
					if !yield(threadID()) {
						return nil
					}
					if err := aio.Sleep(t, 0); err != nil {
						return err
					}
				}
				return nil
			}
			for tid, err := range threadrunner.Iter(ctx, runner, gen) {
				if err != nil {
					t.Errorf("goroutine %d: Iter yielded %v; want values", g, err)
				}
				tids = append(tids, tid)
			}
			for _, tid := range tids {
				if tid != main {
					t.Errorf("goroutine %d: work ran on threads %v; want all on the main thread, %d", g, tids, main)
					break
				}
			}
		})
	}
	wg.Wait()
}

func TestRunHandsFnAnotherGoroutine(t *testing.T) {
	main := mainThreadID()
	if joined.fnTID == main && main != 0 {
		t.Errorf("fn ran on the main thread (%d); want another, the main one serving the loop", joined.fnTID)
	}
	if joined.taskTID != main {
		t.Errorf("fn's task ran on thread %d; want the main thread, %d", joined.taskTID, main)
	}
}

func TestRunJoinsFnAndCloseErrors(t *testing.T) {
	if !errors.Is(joined.err, errFn) || !errors.Is(joined.err, errExit) {
		t.Errorf("Run() = %v; want fn's error %v joined with Close's %v", joined.err, errFn, errExit)
	}
	if joined.exitRuns != 1 || joined.exitTID != mainThreadID() {
		t.Errorf("Close exited the kept resource %d times, on thread %d; want once, on the main thread %d", joined.exitRuns, joined.exitTID, mainThreadID())
	}
}

func TestRunPanicGoesOnAfterClose(t *testing.T) {
	if panicked.value != "fn boom" {
		t.Errorf("Run() panicked with %v; want fn's panic %q", panicked.value, "fn boom")
	}
	if panicked.exitRuns != 1 {
		t.Errorf("the runner's kept resource was exited %d times before the panic went on; want 1", panicked.exitRuns)
	}
}

// TestRunRefusesUnpinned checks that Run refuses an option that contradicts
// its point, rather than ignoring it, and runs nothing.
func TestRunRefusesUnpinned(t *testing.T) {
	if !errors.Is(unpinned.err, aio.ErrInvalid) || !strings.Contains(unpinned.err.Error(), "Unpinned") {
		t.Errorf("Run(fn, aio.Unpinned()) = %v; want ErrInvalid naming Unpinned", unpinned.err)
	}
	if unpinned.fnRan {
		t.Errorf("Run(fn, aio.Unpinned()) ran fn; want it refused first")
	}
}

func TestRunNilFn(t *testing.T) {
	if err := mainthread.Run(nil); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Run(nil) = %v; want %v", err, aio.ErrInvalid)
	}
}
