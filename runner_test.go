package threadrunner_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/quick"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/stress"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// Tests of the Runner (runner.go): New and the lazy start, FromLoop, Close
// and Shutdown, the calls a runner refuses, many goroutines at once, the
// stress test, and the model-based and fuzz tests of whole programs.

// # What every test of the package uses

// newRunner returns a new runner that is closed when the test ends, failing
// the test if Close returns an error. Call testkit.Check before it.
func newRunner(t testing.TB, opts ...aio.Option) *threadrunner.Runner {
	t.Helper()
	r := threadrunner.New(opts...)
	testkit.CloseAtEnd(t, r)
	return r
}

// loopTID returns the OS thread id of r's loop, starting it if needed. It
// asks a task rather than Loop.ThreadID, so that it checks where tasks run.
func loopTID(t *testing.T, r *threadrunner.Runner) int {
	t.Helper()
	tid, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) {
		return testkit.ThreadID(), nil
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	return tid
}

// servesOn fails t unless a plain Run on r still works: the loop survived
// whatever the test did to it.
func servesOn(t *testing.T, r *threadrunner.Runner) {
	t.Helper()
	v, err := threadrunner.Run(testkit.Context(t), r, func(*aio.Task) (string, error) { return "still serving", nil })
	if v != "still serving" || err != nil {
		t.Errorf("Run() afterwards = %q, %v; want %q, nil", v, err, "still serving")
	}
}

// panicError returns p as a *aio.PanicError, failing t if it is not one.
var panicError = testkit.As[*aio.PanicError]

// faultValue is what the fault tests panic with.
type faultValue struct{ where string }

// # New, Loop and the lazy start

func TestNewStartsNothing(t *testing.T) {
	testkit.Check(t)
	before := testkit.Snapshot()
	r := threadrunner.New(aio.Name("lazy"))
	if leaked := testkit.Leaked(before); len(leaked) != 0 {
		t.Fatalf("New() started %d goroutine(s); want none:\n%v", len(leaked), leaked)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if leaked := testkit.Leaked(before); len(leaked) != 0 {
		t.Fatalf("Close() of a runner that never started started %d goroutine(s); want none:\n%v", len(leaked), leaked)
	}
	if l := r.Loop(); l != nil {
		t.Errorf("Loop() after Close of a runner that never started = %v; want nil", l)
	}
	if leaked := testkit.Leaked(before); len(leaked) != 0 {
		t.Errorf("Loop() after Close started %d goroutine(s); want none", len(leaked))
	}
}

func TestLoopStartsOnFirstUse(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New(aio.Name("first-use"))
	l := r.Loop()
	if l == nil {
		t.Fatal("Loop() = nil; want the started loop")
	}
	if again := r.Loop(); again != l {
		t.Errorf("second Loop() = %v; want the same loop %v", again, l)
	}
	if got := l.Name(); got != "first-use" {
		t.Errorf("Loop().Name() = %q; want %q (the options of New)", got, "first-use")
	}
	if !l.Pinned() {
		t.Error("Loop().Pinned() = false; want true by default")
	}
	tid := loopTID(t, r)
	if got := l.ThreadID(); got != tid {
		t.Errorf("Loop().ThreadID() = %d; want %d, where its tasks run", got, tid)
	}
	select {
	case <-l.Done():
		t.Fatal("Loop().Done() is closed before Close")
	default:
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	select {
	case <-l.Done():
	default:
		t.Error("Loop().Done() is still open after Close returned")
	}
	if got := r.Loop(); got != l {
		t.Errorf("Loop() after Close = %v; want the stopped loop %v", got, l)
	}
}

func TestUnpinnedRunner(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t, aio.Unpinned())
	l := r.Loop()
	if l.Pinned() {
		t.Error("Loop().Pinned() = true; want false with aio.Unpinned")
	}
	if got := l.ThreadID(); got != 0 {
		t.Errorf("Loop().ThreadID() = %d; want 0 for an unpinned loop", got)
	}
	v, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Errorf("Run() = %v, %v; want 7, nil", v, err)
	}
}

// where is what a task saw of the loop it ran on.
type where struct {
	loop *aio.Loop
	tid  int
}

func TestConcurrentFirstRunsStartOneLoop(t *testing.T) {
	testkit.Check(t)
	const n = 32
	r := newRunner(t)
	ctx := testkit.Context(t)

	// Every task waits on one event and bumps one counter, with no lock: if
	// two loops ran, the event would panic (it binds to the loop of its
	// first user) and the race detector would flag the counter.
	var (
		arrived int
		ev      aio.Event
	)
	start := make(chan struct{})
	got := make(chan where, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			w, err := threadrunner.Run(ctx, r, func(t *aio.Task) (where, error) {
				arrived++
				if err := ev.Wait(t); err != nil {
					return where{}, err
				}
				return where{t.Loop(), testkit.ThreadID()}, nil
			})
			if err != nil {
				t.Errorf("Run() = %v; want nil", err)
			}
			got <- w
		})
	}
	close(start)
	// All n tasks are live on one loop at once.
	testkit.WaitFor(t, "n tasks on the loop", func() bool { return r.Loop().Stats().Tasks == n })
	released, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) {
		ev.Set()
		return arrived, nil
	})
	if err != nil || released != n {
		t.Errorf("Run(release) = %d, %v; want %d tasks arrived, nil", released, err, n)
	}
	wg.Wait()
	close(got)
	l := r.Loop()
	for w := range got {
		if w.loop != l || w.tid != l.ThreadID() {
			t.Errorf("a first call ran on loop %v, thread %d; want %v, thread %d", w.loop, w.tid, l, l.ThreadID())
		}
	}
}

// firstCalls are the entry points that may start a runner's loop, each
// reporting the loop its work ran on.
var firstCalls = []struct {
	name string
	call func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error)
}{
	{"Run", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil })
	}},
	{"Submit", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return threadrunner.Submit(ctx, r, func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }).Wait(ctx)
	}},
	{"With", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		var l *aio.Loop
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		err := threadrunner.With(ctx, r, res, func(got *aio.Loop) error {
			l = got
			return nil
		})
		return l, err
	}},
	{"Open", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		l, release, err := threadrunner.Open(ctx, r, res)
		if err != nil {
			return nil, err
		}
		return l, release(nil)
	}},
	{"Keep", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		return threadrunner.Keep(ctx, r, res)
	}},
	{"Iter", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		seq := func(t *aio.Task, yield func(*aio.Loop) bool) error {
			yield(t.Loop())
			return nil
		}
		var l *aio.Loop
		for got, err := range threadrunner.Iter(ctx, r, seq) {
			if err != nil {
				return nil, err
			}
			l = got
		}
		return l, nil
	}},
	{"Loop", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return r.Loop(), nil
	}},
}

func TestConcurrentFirstCallsOfEveryKindStartOneLoop(t *testing.T) {
	for round := range 4 { // the race is won by a different call each time
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { firstCallsRound(t) })
	}
}

// firstCallsRound makes every kind of first call at once on a new runner
// and checks that they all ran on its one loop.
func firstCallsRound(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	ctx := testkit.Context(t)
	start := make(chan struct{})
	loops := make([]*aio.Loop, 2*len(firstCalls))
	var wg sync.WaitGroup
	for i := range loops {
		tt := firstCalls[i%len(firstCalls)]
		wg.Go(func() {
			<-start
			l, err := tt.call(ctx, r)
			if err != nil {
				t.Errorf("%s() = %v; want nil", tt.name, err)
			}
			loops[i] = l
		})
	}
	close(start)
	wg.Wait()
	want := r.Loop()
	for i, l := range loops {
		if l != want {
			t.Errorf("first %s ran on loop %v; want %v, the runner's only loop", firstCalls[i%len(firstCalls)].name, l, want)
		}
	}
}

// # FromLoop

func TestFromLoop(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop(aio.Name("served"))
	r := threadrunner.FromLoop(l)
	if got := r.Loop(); got != l {
		t.Fatalf("Loop() = %v; want the loop given to FromLoop, %v", got, l)
	}
	// Work submitted before Serve waits for it.
	f := threadrunner.Submit(context.Background(), r, func(*aio.Task) (int, error) { return testkit.ThreadID(), nil })
	serverTID := make(chan int, 1)
	served := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		serverTID <- testkit.ThreadID()
		served <- l.Serve()
	}()
	ctx := testkit.Context(t)
	tid, err := f.Wait(ctx)
	if err != nil {
		t.Fatalf("Submit(...).Wait() = %v; want nil", err)
	}
	if want := <-serverTID; tid != want {
		t.Errorf("task ran on thread %d; want %d, the thread that called Serve", tid, want)
	}
	v, err := threadrunner.Run(ctx, r, func(*aio.Task) (string, error) { return "ok", nil })
	if v != "ok" || err != nil {
		t.Errorf("Run() = %q, %v; want %q, nil", v, err, "ok")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := testkit.Await(t, served, "Serve to return after Close"); err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
}

func TestFromLoopClosedBeforeServe(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()
	r := threadrunner.FromLoop(l)
	// Submitted to a loop that is waiting for Serve; Close comes first.
	f := threadrunner.Submit(context.Background(), r, func(*aio.Task) (int, error) { return 1, nil })
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	case <-time.After(testkit.Timeout):
		// Serve the loop so that Close can end and the test leaks nothing.
		go l.Serve()
		<-closed
		t.Fatal("Close() of a FromLoop runner whose loop never served did not return; want it to close the loop")
	}
	testkit.Await(t, f.Done(), "a task submitted before Serve to settle after Close (failed with ErrClosed)")
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v; want %v", err, aio.ErrClosed)
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() after Close = %v; want %v", err, aio.ErrClosed)
	}
}

// # Close and Shutdown

func TestCloseIsIdempotent(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p", exitErr: testkit.ErrExit}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	tid := r.Loop().ThreadID()
	for i := range 3 {
		if err := r.Close(); !errors.Is(err, testkit.ErrExit) {
			t.Errorf("Close() #%d = %v; want %v", i+1, err, testkit.ErrExit)
		}
	}
	p.checkOnce(t, tid, nil)
}

func TestConcurrentClose(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p", exitErr: testkit.ErrExit}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	l := r.Loop()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			<-start
			if err := r.Close(); !errors.Is(err, testkit.ErrExit) {
				t.Errorf("Close() in goroutine %d = %v; want %v", i, err, testkit.ErrExit)
			}
			select {
			case <-l.Done():
			default:
				t.Errorf("Close() in goroutine %d returned before the loop stopped", i)
			}
		})
	}
	close(start)
	wg.Wait()
	p.checkOnce(t, l.ThreadID(), nil)
}

// TestCloseOrder checks the order of Close's steps, recorded as they happen:
// new work is refused, kept resources are exited last entered first while
// the other tasks still run, then the tasks are cancelled and awaited, open
// generators are stopped, ToThread functions are waited for, and the loop
// stops before Close returns.
func TestCloseOrder(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	ctx := context.Background()
	var log testkit.Events

	// Kept resources whose Exits try to start new work.
	noop := func(*aio.Task) (int, error) { return 0, nil }
	kept := func(name string) *probe {
		return &probe{name: name, log: &log, exit: func(*aio.Task, error) error {
			f := threadrunner.Submit(ctx, r, noop)
			if _, err := f.Wait(ctx); errors.Is(err, aio.ErrClosed) {
				log.Add("refused during exit %s", name)
			} else {
				log.Add("accepted during exit %s: %v", name, err)
			}
			return nil
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
		log.Add("task cancelled: %v", err)
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
			log.Add("tothread returned")
			return 0, ctx.Err()
		})
		log.Add("tothread task ended")
		return 0, err
	})
	<-inThread

	// An open generator, ranged by a goroutine that waits for its next value.
	ranging := make(chan struct{})
	rangeEnded := make(chan error)
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer log.Add("generator stopped")
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
	log.Add("close called")
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	log.Add("close returned")
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

	events := log.List()
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
	closeReturned := log.Index("close returned")
	for _, ev := range []string{"task cancelled: context canceled", "generator stopped", "tothread returned", "tothread task ended"} {
		at := log.Index(ev)
		if at < 0 {
			t.Errorf("no event %q in %q", ev, events)
			continue
		}
		if at <= exitsDone || at >= closeReturned {
			t.Errorf("event %q at %d; want it after the kept resources exited (%d) and before Close returned (%d): %q", ev, at, exitsDone, closeReturned, events)
		}
	}
	if log.Index("tothread returned") > log.Index("tothread task ended") {
		t.Errorf("the ToThread task ended before its function returned: %q", events)
	}
	for _, ev := range events {
		if strings.HasPrefix(ev, "accepted") {
			t.Errorf("new work was accepted during Close: %q", ev)
		}
	}
}

func TestCloseReturnsUnretrievedPanic(t *testing.T) {
	testkit.Check(t)
	var logged testkit.LogSink
	r := threadrunner.New(aio.Logger(logged.Logger()))
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
	testkit.Check(t)
	r := threadrunner.New()
	testkit.RecoverPanic(func() { threadrunner.Run(context.Background(), r, panickingTask("seen")) })
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil: the panic was handed to Run's caller", err)
	}
}

// TestCloseDoesNotClaimAWaitedPanic closes a runner while callers wait in Run
// for tasks that panic once Close cancels them (or just before): one caller,
// many times, and many callers at once. Each panic has a caller waiting for
// it, which receives it: Close must not also return it (or log it) as a panic
// nobody retrieved, or the same panic is reported twice and Close's result
// depends on how fast the callers wake. (The soak, bench/cmd/soak, found it.)
func TestCloseDoesNotClaimAWaitedPanic(t *testing.T) {
	tests := []struct {
		name           string
		callers, tries int
		sleep          time.Duration // what each task sleeps before it panics
		settle         bool          // let the callers settle into their wait before Close
	}{
		{"one caller, many times", 1, 300, time.Millisecond, false},
		{"many callers at once", 16, 1, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			claimed := 0
			for range tt.tries {
				rec := &testkit.LogSink{}
				r := threadrunner.New(aio.Logger(rec.Logger()))
				ctx := testkit.Context(t)
				var started atomic.Int32
				allStarted := make(chan struct{})
				panics := make(chan any, tt.callers)
				for i := range tt.callers {
					go func() {
						panics <- testkit.RecoverPanic(func() {
							_, _ = threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
								if started.Add(1) == int32(tt.callers) {
									close(allStarted)
								}
								_ = aio.Sleep(t, tt.sleep) // cut short by Close
								panic(&faultValue{fmt.Sprint("caller ", i)})
							})
						})
					}()
				}
				testkit.Await(t, allStarted, "every task to start")
				if tt.settle {
					time.Sleep(5 * time.Millisecond) // let the callers settle into their wait; not asserted
				}
				closeErr := r.Close()
				for range tt.callers {
					p := testkit.Await(t, panics, "a caller to return")
					if pe := panicError(t, p); !strings.HasPrefix(pe.Value.(*faultValue).where, "caller ") {
						t.Errorf("Run() panicked with %v; want its task's panic", pe.Value)
					}
				}
				if closeErr != nil {
					claimed++
					if claimed == 1 {
						t.Errorf("Close() = %.200v...; want nil: every panic reached the caller waiting for it", closeErr)
					}
				}
				for _, rec := range rec.Records() {
					t.Errorf("the loop logged %q for task %s; want nothing: its caller received the panic", rec.Message, rec.Attrs["task"])
				}
			}
			if claimed > 0 {
				t.Errorf("Close() returned the panic as unretrieved in %d of %d tries, though Run's caller retrieved it each time; want 0", claimed, tt.tries)
			}
		})
	}
}

func TestCloseCancelsTasksStartedByTasks(t *testing.T) {
	testkit.Check(t)
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

func TestShutdownWithinDeadline(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	p := &probe{name: "p"}
	if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	l := r.Loop()
	if err := r.Shutdown(testkit.Context(t)); err != nil {
		t.Fatalf("Shutdown() = %v; want nil", err)
	}
	select {
	case <-l.Done():
	default:
		t.Error("Shutdown() returned before the loop stopped")
	}
	p.checkOnce(t, l.ThreadID(), nil)
}

// TestShutdownPastDeadline keeps two resources: first's Exit awaits briefly,
// slow's Exit awaits (a Sleep or a Recv) until it is cancelled, which only
// the end of Shutdown's deadline does. Shutdown returns the deadline's error,
// the loop finishes stopping in the background, and each Exit ran once.
func TestShutdownPastDeadline(t *testing.T) {
	tests := []struct {
		name  string
		await func(t *aio.Task) error // what slow's Exit awaits
	}{
		{"Sleep", func(t *aio.Task) error { return aio.Sleep(t, time.Hour) }},
		{"Recv", func(t *aio.Task) error {
			_, _, err := aio.Recv(t, make(chan int)) // nothing ever comes
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			var logs testkit.LogSink
			r := threadrunner.New(aio.Logger(logs.Logger()))
			// first is exited last.
			var firstSleep, slowAwait error // written by the Exits, on the loop
			first := &probe{name: "first", exit: func(t *aio.Task, _ error) error {
				firstSleep = aio.Sleep(t, time.Millisecond)
				return nil
			}}
			slow := &probe{name: "slow", exit: func(t *aio.Task, _ error) error {
				slowAwait = tt.await(t)
				return nil
			}}
			for _, p := range []*probe{first, slow} {
				if _, err := threadrunner.Keep(context.Background(), r, p); err != nil {
					t.Fatalf("Keep(%s) = %v; want nil", p.name, err)
				}
			}
			l := r.Loop()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown() = %v; want %v", err, context.DeadlineExceeded)
			}
			testkit.Await(t, l.Done(), "the loop to stop after Shutdown's deadline")
			slow.checkOnce(t, l.ThreadID(), nil)
			first.checkOnce(t, l.ThreadID(), nil)
			if !errors.Is(slowAwait, context.Canceled) {
				t.Errorf("the await in the Exit that outlived the deadline = %v; want %v", slowAwait, context.Canceled)
			}
			if !errors.Is(firstSleep, context.Canceled) {
				t.Errorf("Sleep in an Exit after the deadline = %v; want %v (a cancelled context)", firstSleep, context.Canceled)
			}
			if _, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 1, nil }); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Run() after Shutdown = %v; want %v", err, aio.ErrClosed)
			}
			// The Shutdown that ran out of time said what it left running.
			if got := logs.Find("aio: Shutdown gave up with work still running", "tasks", "Exit of *threadrunner_test.probe, kept"); len(got) != 1 {
				t.Errorf("Shutdown's report of what still ran: %v; want one naming the slow Exit", logs.Records())
			}
		})
	}
}

func TestShutdownNilContext(t *testing.T) {
	tests := []badCase{{name: "Shutdown", want: aio.ErrInvalid, closes: true, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
		err := r.Shutdown(nilContext)
		// Whatever Shutdown did, Close must still work.
		closed := make(chan error, 1)
		go func() { closed <- r.Close() }()
		select {
		case cerr := <-closed:
			if cerr != nil {
				return fmt.Errorf("Close() after Shutdown(nil) = %v; want nil", cerr)
			}
		case <-time.After(testkit.Timeout):
			return fmt.Errorf("Close() after Shutdown(nil) hung")
		}
		return err
	}}}
	runBadCases(t, tests, func(t *testing.T) *threadrunner.Runner {
		r := threadrunner.New()
		servesOn(t, r)
		t.Cleanup(func() {
			select {
			case <-closeInBackground(r):
			case <-time.After(testkit.Timeout):
				t.Errorf("Close() hung")
			}
		})
		return r
	}, false)
}

// closeInBackground closes r in the background; the channel is closed when
// Close returns.
func closeInBackground(r *threadrunner.Runner) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Close()
	}()
	return done
}

// # Calls a runner refuses

// TestCallsAfterCloseReturnErrClosed makes every call after Close, on a
// runner that started and on one that never did, and checks that each returns
// ErrClosed, runs nothing, starts no goroutine and does not panic.
func TestCallsAfterCloseReturnErrClosed(t *testing.T) {
	for _, started := range []bool{true, false} {
		name := "never started"
		if started {
			name = "started"
		}
		t.Run(name, func(t *testing.T) {
			// What setup opened before closing, for the release case; setup
			// runs right before each case.
			var (
				res     *probe
				release func(error) error
			)
			tests := append(allCalls(aio.ErrClosed),
				badCase{name: "Future.Cancel then Wait", want: aio.ErrClosed, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
					f := threadrunner.Submit(ctx, r, markRan(ran))
					f.Cancel()
					_, err := f.Wait(ctx)
					return err
				}},
			)
			if started {
				tests = append(tests, badCase{name: "release", want: aio.ErrClosed, call: func(context.Context, *threadrunner.Runner, *atomic.Bool) error {
					err := release(nil)
					if res.entered != 1 || res.exits != 1 || !errors.Is(res.hows[0], aio.ErrClosed) {
						return fmt.Errorf("entered %d times, exited %d times (told %v); want once each, told ErrClosed by Close", res.entered, res.exits, res.hows)
					}
					return err
				}})
			}
			for i := range tests {
				tests[i].startsNothing = true
			}
			setup := func(t *testing.T) *threadrunner.Runner {
				r := threadrunner.New()
				if started {
					res = &probe{name: "opened"}
					var err error
					if _, release, err = threadrunner.Open(testkit.Context(t), r, res); err != nil {
						t.Fatalf("Open() = %v; want nil", err)
					}
				}
				for range 2 {
					if err := r.Close(); err != nil {
						t.Fatalf("Close() = %v; want nil", err)
					}
				}
				return r
			}
			runBadCases(t, tests, setup, true)
		})
	}
}

// TestReentrantCallsReturnErrLoopThread makes every blocking call from a
// task of the runner's own loop, where it would deadlock, and checks that it
// returns ErrLoopThread at once, runs nothing, and leaves the runner serving.
func TestReentrantCallsReturnErrLoopThread(t *testing.T) {
	tests := []badCase{
		{name: "Close", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(*aio.Task) error { return r.Close() })
		}},
		{name: "Shutdown", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error { return r.Shutdown(t.Context()) })
		}},
		{name: "Run", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				_, err := threadrunner.Run(t.Context(), r, markRan(ran))
				return err
			})
		}},
		{name: "Submit then Future.Wait", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				f := threadrunner.Submit(t.Context(), r, func(t *aio.Task) (int, error) {
					return 0, aio.Sleep(t, time.Hour) // pending when Wait looks
				})
				defer f.Cancel()
				_, err := f.Wait(t.Context())
				return err
			})
		}},
		{name: "With", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				return threadrunner.With(t.Context(), r, markRes(ran), func(int) error { return nil })
			})
		}},
		{name: "Open", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				_, release, err := threadrunner.Open(t.Context(), r, markRes(ran))
				if release != nil {
					ran.Store(true)
				}
				return err
			})
		}},
		{name: "Keep", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				_, err := threadrunner.Keep(t.Context(), r, markRes(ran))
				return err
			})
		}},
		{name: "Iter", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return inTask(ctx, r, func(t *aio.Task) error {
				return iterErr(threadrunner.Iter(t.Context(), r, markSeq(ran)))
			})
		}},
		{name: "release", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			res := &probe{name: "opened"}
			_, release, err := threadrunner.Open(ctx, r, res)
			if err != nil {
				return err
			}
			err = inTask(ctx, r, func(*aio.Task) error { return release(nil) })
			if res.exits != 0 {
				return fmt.Errorf("release from the loop exited the resource; want it refused")
			}
			// Refused, not spent: release from outside still exits it.
			if rerr := release(nil); rerr != nil || res.exits != 1 {
				return fmt.Errorf("release() from outside = %v, exits %d; want nil, 1", rerr, res.exits)
			}
			return err
		}},
	}
	for i := range tests {
		tests[i].want = aio.ErrLoopThread
	}
	runBadCases(t, tests, startedRunner, false)
}

// TestNilRunner makes every call on a nil *Runner: each returns ErrInvalid
// (Loop returns nil), runs nothing and does not panic.
func TestNilRunner(t *testing.T) {
	tests := append(allCalls(aio.ErrInvalid),
		badCase{name: "Close", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return r.Close()
		}},
		badCase{name: "Shutdown", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return r.Shutdown(ctx)
		}},
		badCase{name: "Loop", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			if l := r.Loop(); l != nil {
				return fmt.Errorf("Loop() = %v; want nil", l)
			}
			return aio.ErrInvalid // nothing to return an error with: nil is the answer
		}},
	)
	for i := range tests {
		tests[i].want = aio.ErrInvalid
	}
	runBadCases(t, tests, func(*testing.T) *threadrunner.Runner { return nil }, true)
	// The error says what is wrong.
	_, err := threadrunner.Run[int](context.Background(), nil, markRan(new(atomic.Bool)))
	if err == nil || !strings.Contains(err.Error(), "nil *Runner") {
		t.Errorf("Run(nil runner) = %v; want an error that says %q", err, "nil *Runner")
	}
}

// # Many goroutines at once

// TestManyGoroutinesOneRunner has 64 goroutines use one runner at once, each
// with values of its own, and checks that every result comes back to the
// goroutine that asked, and that tasks share loop-owned state without a lock
// (the race detector would see two tasks touch it at once).
func TestManyGoroutinesOneRunner(t *testing.T) {
	testkit.Check(t)
	const (
		goroutines = 64
		rounds     = 10
	)
	r := threadrunner.New()
	ctx := testkit.Context(t)
	tid := loopTID(t, r)

	calls := make(map[int]int) // goroutine -> tasks run for it; loop-owned
	offLoop := 0               // tasks seen off the loop's thread; loop-owned
	note := func(g int) {
		calls[g]++
		if testkit.ThreadID() != tid {
			offLoop++
		}
	}
	kept := make([]*probe, goroutines)

	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			kept[g] = &probe{name: fmt.Sprint("kept", g)}
			if v, err := threadrunner.Keep(ctx, r, kept[g]); v != kept[g] || err != nil {
				t.Errorf("goroutine %d: Keep() = %v, %v; want its own resource, nil", g, v, err)
			}
			for i := range rounds {
				want := g*1000 + i
				v, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) {
					note(g)
					return want, nil
				})
				if v != want || err != nil {
					t.Errorf("goroutine %d: Run() = %v, %v; want %v, nil", g, v, err, want)
				}

				f := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
					note(g)
					if err := aio.Sleep(t, 0); err != nil { // let the others in
						return 0, err
					}
					return -want, nil
				})
				if v, err := f.Wait(ctx); v != -want || err != nil {
					t.Errorf("goroutine %d: Submit().Wait() = %v, %v; want %v, nil", g, v, err, -want)
				}

				res := aio.ResourceFunc(func(*aio.Task) (int, error) {
					note(g)
					return want, nil
				}, func(_ *aio.Task, v int, _ error) error {
					note(g)
					if v != want {
						return fmt.Errorf("Exit got %d; want %d", v, want)
					}
					return nil
				})
				err = threadrunner.With(ctx, r, res, func(v int) error {
					if v != want {
						return fmt.Errorf("body got %d; want %d", v, want)
					}
					return nil
				})
				if err != nil {
					t.Errorf("goroutine %d: With() = %v; want nil", g, err)
				}

				gen := func(t *aio.Task, yield func(int) bool) error {
					note(g)
					for k := range 5 {
						if !yield(want*10 + k) {
							return nil
						}
						if err := aio.Sleep(t, 0); err != nil {
							return err
						}
					}
					return nil
				}
				k := 0
				for v, err := range threadrunner.Iter(ctx, r, gen, threadrunner.BatchSize(2)) {
					if v != want*10+k || err != nil {
						t.Errorf("goroutine %d: Iter yielded %v, %v; want %v, nil", g, v, err, want*10+k)
					}
					k++
				}
				if k != 5 {
					t.Errorf("goroutine %d: Iter yielded %d values; want 5", g, k)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	got, err := threadrunner.Run(ctx, r, func(*aio.Task) (map[int]int, error) {
		c := make(map[int]int, len(calls))
		for g, n := range calls {
			c[g] = n
		}
		return c, nil
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	const perRound = 5 // Run, Submit, Enter, Exit, generator
	for g := range goroutines {
		if got[g] != rounds*perRound {
			t.Errorf("goroutine %d: %d tasks ran for it; want %d", g, got[g], rounds*perRound)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if offLoop != 0 {
		t.Errorf("%d task steps ran off the loop's thread; want 0", offLoop)
	}
	for _, p := range kept {
		p.checkOnce(t, tid, nil)
	}
}

// # Stress

var stressDuration = flag.Duration("stress.duration", 0,
	"how long each stress test makes calls (default 1.5s, 300ms with -short)")

// stressTime returns how long a stress run makes calls.
func stressTime() time.Duration {
	switch {
	case *stressDuration > 0:
		return *stressDuration
	case testing.Short():
		return 300 * time.Millisecond
	}
	return 1500 * time.Millisecond
}

// TestStress holds a runner under every kind of call from many goroutines
// (internal/stress's full mix, scaled by GOMAXPROCS), closes it from two
// goroutines at once at a random moment of the load, goes on calling after
// Close, and fails on anything the run saw wrong: a call that ended in a way
// the contract does not allow, a resource not exited exactly once, Close
// exiting out of order, a log record, a Close error, a hang.
func TestStress(t *testing.T) {
	tests := []struct {
		name string
		opts []aio.Option
	}{
		{"pinned", nil},
		{"unpinned", []aio.Option{aio.Unpinned()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stressTime()
			testkit.Watchdog(t, d+2*testkit.Timeout)
			testkit.LeakCheck(t)
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			closeAfter := d * time.Duration(40+rand.New(rand.NewPCG(seed, 0)).IntN(31)) / 100
			res, err := stress.Run(stress.Config{
				Options:    append(tt.opts, aio.Workers(2)),
				Workers:    max(48, 12*runtime.GOMAXPROCS(0)),
				Duration:   closeAfter,
				Seed:       seed,
				Kept:       3,
				Closers:    2, // two Close calls race each other and the calls
				AfterClose: 10,
				StuckAfter: testkit.Timeout,
			})
			if err != nil {
				t.Fatalf("stress.Run() = %v; want nil", err)
			}
			if res.Stuck != "" {
				t.Fatalf("calls hung (watchdog %v):\n%s", testkit.Timeout, res.Stuck)
			}
			for _, d := range res.Disallowed {
				t.Error(d)
			}
			if n := res.Count(stress.Disallowed); n > uint64(len(res.Disallowed)) {
				t.Errorf("and %d more calls ended in a disallowed way", n-uint64(len(res.Disallowed)))
			}
			for i, err := range res.CloseErrs {
				if err != nil {
					t.Errorf("Close() #%d = %v; want nil", i+1, err)
				}
			}
			for _, p := range slices.Concat(res.KeptProblems, res.Problems) {
				t.Error(p)
			}
			t.Log(res.Summary())
			if res.Count(stress.Value) == 0 || res.Count(stress.Closed) == 0 {
				t.Errorf("no call saw a result or none saw ErrClosed: Close did not land in the middle of the calls")
			}
		})
	}
}

// # Model-based and fuzz tests
//
// Random programs of runner operations, run one after
// another against a real runner and checked, after every operation, against
// a model of what must have happened: each operation's outcome, and the
// exact sequence of Enter and Exit calls the resources saw.

// modelOpKind is an operation of a model program.
type modelOpKind uint8

const (
	opOpen         modelOpKind = iota // Open a new resource; a&1: Enter fails, a&2: Exit fails
	opRelease                         // release handle a%n (released or not) with nil or, if b&1, an error
	opKeep                            // Keep a new resource; flags as for Open
	opRun                             // Run a task that returns a value, an error or panics (a%3)
	opIter                            // range over a generator of a%20 values, breaking after b%24 (0: never)
	opCancel                          // Run a task that waits until its ctx is cancelled (a&1: by a deadline)
	opSubmitCancel                    // Submit a task that waits forever, Cancel it, Wait
	opWith                            // With a new resource (flags as for Open); body ok, fails or panics (b%3)
	opClose                           // Close
	opKinds
)

// modelOp is one operation of a model program, with two parameters.
type modelOp struct {
	kind modelOpKind
	a, b uint8
}

func (o modelOp) String() string {
	names := [...]string{"Open", "Release", "Keep", "Run", "Iter", "Cancel", "SubmitCancel", "With", "Close"}
	return fmt.Sprintf("%s(%d,%d)", names[o.kind], o.a, o.b)
}

// panicValue is what a model program's tasks and bodies panic with.
type panicValue struct{ id int64 }

// modelProgram is a model program: whether the runner is pinned, and its ops.
type modelProgram struct {
	unpinned bool
	ops      []modelOp
}

func (p modelProgram) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unpinned=%v:", p.unpinned)
	for _, op := range p.ops {
		b.WriteString(" " + op.String())
	}
	return b.String()
}

// randomProgram returns a program of up to maxOps operations drawn with
// intN; Close is rare, so that most programs do a lot before it.
func randomProgram(intN func(int) int, maxOps int) modelProgram {
	p := modelProgram{unpinned: intN(4) == 0}
	for range 1 + intN(maxOps) {
		kind := modelOpKind(intN(int(opKinds) - 1))
		if intN(15) == 0 {
			kind = opClose
		}
		p.ops = append(p.ops, modelOp{kind: kind, a: uint8(intN(256)), b: uint8(intN(256))})
	}
	return p
}

// Generate makes modelProgram a quick.Generator.
func (modelProgram) Generate(r *mathrand.Rand, size int) reflect.Value {
	return reflect.ValueOf(randomProgram(r.Intn, max(1, min(size, 40))))
}

// modelRes is a resource as the model knows it.
type modelRes struct {
	res  *probe
	kept bool
}

// modelHandle is a resource opened by Open, and its release.
type modelHandle struct {
	m        *modelRes
	release  func(error) error
	released bool // release has been called
	exited   bool // the model says it has been exited
}

// modelMachine runs a program against a real runner and its model.
type modelMachine struct {
	r      *threadrunner.Runner
	ledger *ledger // loop-owned; read after each op, which synchronizes with the loop
	log    *testkit.LogSink

	// The model.
	closed    bool
	closeErrs []error     // the Exit errors Close must return
	entered   []*modelRes // entered and not yet exited, in order of entry
	handles   []*modelHandle
	events    []ledgerEvent // what the ledger must hold
	resources []*probe
	wantLogs  int // records the loop must have logged
	nextID    int
}

// runProgram runs p and returns the first difference between the runner
// and the model, or nil. It always closes the runner.
func runProgram(p modelProgram) (err error) {
	opts := []aio.Option{}
	if p.unpinned {
		opts = append(opts, aio.Unpinned())
	}
	rec := &testkit.LogSink{}
	m := &modelMachine{
		r:      threadrunner.New(append(opts, aio.Logger(rec.Logger()))...),
		ledger: &ledger{},
		log:    rec,
	}
	defer func() {
		if !m.closed {
			m.r.Close()
		}
	}()
	ops := slices.Clone(p.ops)
	if len(ops) == 0 || ops[len(ops)-1].kind != opClose {
		ops = append(ops, modelOp{kind: opClose})
	}
	for i, op := range ops {
		if err := m.step(op); err != nil {
			return fmt.Errorf("op %d, %v: %w\nprogram: %v", i, op, err, p)
		}
		if err := m.compare(); err != nil {
			return fmt.Errorf("after op %d, %v: %w\nprogram: %v", i, op, err, p)
		}
	}
	for _, res := range m.resources {
		if err := res.check(); err != nil {
			return err
		}
	}
	if l := m.r.Loop(); l != nil { // nil if the program never started it
		select {
		case <-l.Done():
		default:
			return errors.New("the loop still runs after Close")
		}
	}
	return nil
}

// compare checks the ledger and the log against the model.
func (m *modelMachine) compare() error {
	if !slices.Equal(m.ledger.events, m.events) {
		return fmt.Errorf("resources saw %v; want %v", m.ledger.events, m.events)
	}
	if got := len(m.log.Records()); got != m.wantLogs {
		return fmt.Errorf("the loop logged %d records (%v); want %d", got, m.log.Records(), m.wantLogs)
	}
	return nil
}

// newResource makes the resource of an Open, Keep or With.
func (m *modelMachine) newResource(flags uint8, kept bool) *modelRes {
	m.nextID++
	res := &probe{id: m.nextID, ledger: m.ledger}
	if flags&1 != 0 {
		res.enterErr = fmt.Errorf("enter %d failed", res.id)
	}
	if flags&2 != 0 {
		res.exitErr = fmt.Errorf("exit %d failed", res.id)
	}
	m.resources = append(m.resources, res)
	return &modelRes{res: res, kept: kept}
}

// enter predicts an Enter: it fails or registers the resource.
func (m *modelMachine) enter(mr *modelRes) bool {
	if mr.res.enterErr != nil {
		m.events = append(m.events, ledgerEvent{kind: "enter-fail", id: mr.res.id})
		return false
	}
	m.events = append(m.events, ledgerEvent{kind: "enter", id: mr.res.id})
	m.entered = append(m.entered, mr)
	return true
}

// exit predicts an Exit told how, and returns the error Exit returns.
func (m *modelMachine) exit(mr *modelRes, how error) error {
	m.events = append(m.events, ledgerEvent{kind: "exit", id: mr.res.id, how: howName(how)})
	m.entered = slices.DeleteFunc(m.entered, func(e *modelRes) bool { return e == mr })
	return mr.res.exitErr
}

// wantErr returns an error unless got is want (errors.Is; nil means nil).
func wantErr(what string, got, want error) error {
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		return fmt.Errorf("%s = %v; want %v", what, got, want)
	}
	return nil
}

// wantOnly returns an error unless got holds want and nothing else.
func wantOnly(what string, got error, want ...error) error {
	if len(want) == 0 {
		return wantErr(what, got, nil)
	}
	for _, w := range want {
		if !errors.Is(got, w) {
			return fmt.Errorf("%s = %v; want it to hold %v", what, got, w)
		}
	}
	if stray := testkit.StrayLeaf(got, want...); stray != nil {
		return fmt.Errorf("%s = %v, which holds %v; want only %v", what, got, stray, want)
	}
	return nil
}

func (m *modelMachine) step(op modelOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	switch op.kind {
	case opOpen, opKeep:
		kept := op.kind == opKeep
		mr := m.newResource(op.a, kept)
		var (
			v       *probe
			release func(error) error
			err     error
		)
		if kept {
			v, err = threadrunner.Keep(ctx, m.r, mr.res)
		} else {
			v, release, err = threadrunner.Open(ctx, m.r, mr.res)
		}
		switch {
		case m.closed:
			return wantErr("after Close", err, aio.ErrClosed)
		case !m.enter(mr):
			if release != nil {
				return errors.New("returned a release after Enter failed")
			}
			return wantOnly("Enter failing", err, mr.res.enterErr)
		case err != nil || v != mr.res:
			return fmt.Errorf("= %v, %v; want resource %d, nil", v, err, mr.res.id)
		}
		if !kept {
			m.handles = append(m.handles, &modelHandle{m: mr, release: release})
		}

	case opRelease:
		if len(m.handles) == 0 {
			return nil
		}
		h := m.handles[int(op.a)%len(m.handles)]
		var how error
		if op.b&1 != 0 {
			how = fmt.Errorf("use of %d failed", h.m.res.id)
		}
		err := h.release(how)
		first := !h.released
		h.released = true
		switch {
		case !first:
			return wantErr("second release", err, nil)
		case h.exited: // by Close
			return wantOnly("release after Close", err, aio.ErrClosed)
		}
		h.exited = true
		var want []error
		if exitErr := m.exit(h.m, how); exitErr != nil {
			want = append(want, exitErr)
		}
		return wantOnly("release", err, want...)

	case opRun:
		mode := op.a % 3
		own := fmt.Errorf("task %d failed", op.b)
		ownPanic := &panicValue{int64(op.b)}
		ran := false
		var (
			v   int
			err error
		)
		p := testkit.RecoverPanic(func() {
			v, err = threadrunner.Run(ctx, m.r, func(t *aio.Task) (int, error) {
				ran = true
				if op.b&1 != 0 {
					_ = aio.Sleep(t, 0)
				}
				switch mode {
				case 1:
					return 0, own
				case 2:
					panic(ownPanic)
				}
				return int(op.b), nil
			})
		})
		switch {
		case m.closed:
			if p != nil || ran {
				return fmt.Errorf("ran (panic %v) after Close", p)
			}
			return wantErr("after Close", err, aio.ErrClosed)
		case mode == 2:
			if pe, ok := p.(*aio.PanicError); !ok || pe.Value != any(ownPanic) {
				return fmt.Errorf("= %v, %v, panic %v; want its panic as a *aio.PanicError", v, err, p)
			}
		case p != nil:
			return fmt.Errorf("panicked with %v", p)
		case mode == 1:
			return wantOnly("Run", err, own)
		case v != int(op.b) || err != nil:
			return fmt.Errorf("= %v, %v; want %v, nil", v, err, op.b)
		}

	case opIter:
		return m.iterate(ctx, op)

	case opCancel:
		started := make(chan struct{})
		returned := make(chan struct{})
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		want := context.Canceled
		if op.a&1 != 0 {
			want = context.DeadlineExceeded
			runCtx, stop = context.WithTimeout(runCtx, time.Millisecond)
			defer stop()
		} else {
			go func() {
				select {
				case <-started:
					stop()
				case <-returned:
				}
			}()
		}
		ran := false
		_, err := threadrunner.Run(runCtx, m.r, func(t *aio.Task) (int, error) {
			ran = true
			close(started)
			return 0, aio.Sleep(t, time.Hour)
		})
		close(returned)
		if m.closed {
			if ran {
				return errors.New("ran after Close")
			}
			return wantErr("after Close", err, aio.ErrClosed)
		}
		if err := wantOnly("Run", err, want); err != nil {
			return err
		}
		if want == context.Canceled && !ran {
			return errors.New("Run returned context.Canceled but its task never ran, yet the test cancels only after it started")
		}

	case opSubmitCancel:
		f := threadrunner.Submit(ctx, m.r, func(t *aio.Task) (int, error) {
			return 1, aio.Sleep(t, time.Hour)
		})
		f.Cancel()
		_, err := f.Wait(ctx)
		if m.closed {
			return wantErr("after Close", err, aio.ErrClosed)
		}
		return wantOnly("Wait after Cancel", err, context.Canceled)

	case opWith:
		return m.with(ctx, op)

	case opClose:
		err := m.r.Close()
		if !m.closed {
			m.closed = true
			for len(m.entered) > 0 {
				mr := m.entered[len(m.entered)-1]
				how := aio.ErrClosed
				if mr.kept {
					how = nil
				}
				if exitErr := m.exit(mr, how); exitErr != nil {
					m.closeErrs = append(m.closeErrs, exitErr)
				}
				for _, h := range m.handles {
					if h.m == mr {
						h.exited = true
					}
				}
			}
		}
		return wantOnly("Close", err, m.closeErrs...)
	}
	return nil
}

// iterate runs a opIter.
func (m *modelMachine) iterate(ctx context.Context, op modelOp) error {
	n, k := int(op.a%20), int(op.b%24)
	var genErr error
	if op.a&0x80 != 0 {
		genErr = fmt.Errorf("generator %d failed", op.a)
	}
	started, cleaned := 0, 0 // loop-owned
	seq := func(t *aio.Task, yield func(int) bool) error {
		started++
		defer func() { cleaned++ }()
		for i := range n {
			if i%3 == 2 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
		return genErr
	}
	var (
		got  []int
		errs []error
	)
	opts := []threadrunner.IterOption{threadrunner.BatchSize(1 + int(op.b>>5)%4), threadrunner.Buffer(1)}
	for v, err := range threadrunner.Iter(ctx, m.r, seq, opts...) {
		if err != nil {
			if v != 0 {
				return fmt.Errorf("yielded (%d, %v); want a zero value with the error", v, err)
			}
			errs = append(errs, err)
			continue
		}
		got = append(got, v)
		if len(got) == k {
			break
		}
	}
	if m.closed {
		if len(got) != 0 || len(errs) != 1 || started != 0 {
			return fmt.Errorf("after Close yielded %v, %v (generator started %d times); want one ErrClosed", got, errs, started)
		}
		return wantErr("after Close", errs[0], aio.ErrClosed)
	}
	want := make([]int, 0, n)
	for i := range n {
		want = append(want, i)
	}
	broke := k > 0 && k <= n
	if broke {
		want = want[:k]
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("yielded %v; want %v", got, want)
	}
	switch {
	case !broke && genErr != nil:
		if len(errs) != 1 || errs[0] != genErr {
			return fmt.Errorf("ended with %v; want the generator's error %v", errs, genErr)
		}
	case len(errs) != 0:
		return fmt.Errorf("yielded errors %v; want none", errs)
	}
	// The range loop ends after the generator's task: its cleanup ran.
	if started != 1 || cleaned != 1 {
		return fmt.Errorf("generator started %d times and cleaned up %d times; want 1 and 1", started, cleaned)
	}
	return nil
}

// with runs a opWith.
func (m *modelMachine) with(ctx context.Context, op modelOp) error {
	mr := m.newResource(op.a, false)
	mode := op.b % 3
	bodyErr := fmt.Errorf("body of %d failed", mr.res.id)
	bodyPanic := &panicValue{int64(mr.res.id)}
	ran := false
	var err error
	p := testkit.RecoverPanic(func() {
		err = threadrunner.With(ctx, m.r, mr.res, func(v *probe) error {
			ran = true
			if v != mr.res {
				return fmt.Errorf("body got %v; want resource %d", v, mr.res.id)
			}
			switch mode {
			case 1:
				return bodyErr
			case 2:
				panic(bodyPanic)
			}
			return nil
		})
	})
	if m.closed {
		if ran || p != nil {
			return fmt.Errorf("ran its body (panic %v) after Close", p)
		}
		return wantErr("after Close", err, aio.ErrClosed)
	}
	if !m.enter(mr) {
		if ran || p != nil {
			return fmt.Errorf("ran its body (panic %v) after Enter failed", p)
		}
		return wantOnly("With, Enter failing", err, mr.res.enterErr)
	}
	if !ran {
		return fmt.Errorf("= %v, panic %v, and did not run its body", err, p)
	}
	var how error
	var want []error
	switch mode {
	case 1:
		how = bodyErr
		want = append(want, bodyErr)
	case 2:
		how = &aio.PanicError{Value: bodyPanic}
	}
	if exitErr := m.exit(mr, how); exitErr != nil {
		want = append(want, exitErr)
		if mode == 2 {
			m.wantLogs++ // nobody can receive Exit's error: the panic goes on
		}
	}
	if mode == 2 {
		if p != any(bodyPanic) {
			return fmt.Errorf("= %v, panic %v; want the body's panic to go on", err, p)
		}
		return nil
	}
	if p != nil {
		return fmt.Errorf("panicked with %v", p)
	}
	return wantOnly("With", err, want...)
}

// modelSeeds is how many random programs TestModel runs.
const modelSeeds = 120

func TestModel(t *testing.T) {
	for seed := range uint64(modelSeeds) {
		p := randomProgram(rand.New(rand.NewPCG(seed, 0x7e57)).IntN, 30)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			testkit.Check(t)
			if err := runProgram(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestModelQuick(t *testing.T) {
	testkit.Check(t)
	var failure error
	check := func(p modelProgram) bool {
		failure = runProgram(p)
		return failure == nil
	}
	cfg := &quick.Config{MaxCount: 40, Rand: mathrand.New(mathrand.NewSource(1))}
	if err := quick.Check(check, cfg); err != nil {
		t.Fatalf("%v\n%v", err, failure)
	}
}

// TestModelCatchesDifferences checks that the model can fail: a runner
// that exits kept resources in the order of entry, or runs work after Close,
// would be caught, so the model's passes mean something.
func TestModelCatchesDifferences(t *testing.T) {
	testkit.Check(t)
	p := modelProgram{ops: []modelOp{{kind: opKeep}, {kind: opKeep}, {kind: opOpen}, {kind: opClose}}}
	if err := runProgram(p); err != nil {
		t.Fatalf("runProgram(%v) = %v; want nil", p, err)
	}
	// The same program, with a model that is wrong on purpose: it expects
	// the exits in the order of entry.
	rec := &testkit.LogSink{}
	m := &modelMachine{r: threadrunner.New(aio.Logger(rec.Logger())), ledger: &ledger{}, log: rec}
	for _, op := range p.ops[:3] {
		if err := m.step(op); err != nil {
			t.Fatalf("step(%v) = %v; want nil", op, err)
		}
	}
	slices.Reverse(m.entered)
	if err := m.step(modelOp{kind: opClose}); err != nil {
		t.Fatalf("Close step = %v; want nil", err)
	}
	if err := m.compare(); err == nil {
		t.Error("a model expecting Close to exit in order of entry agreed with the runner; want a difference")
	}
}

// maxFuzzOps bounds the operations decoded from one fuzz input, so that
// each input runs in milliseconds.
const maxFuzzOps = 48

// decodeProgram turns fuzz bytes into a model program: the first byte's
// low bit picks an unpinned runner, then every three bytes are one
// operation (kind, a, b). A trailing partial operation is dropped.
func decodeProgram(data []byte) modelProgram {
	var p modelProgram
	if len(data) == 0 {
		return p
	}
	p.unpinned = data[0]&1 != 0
	data = data[1:]
	for len(data) >= 3 && len(p.ops) < maxFuzzOps {
		p.ops = append(p.ops, modelOp{kind: modelOpKind(data[0] % uint8(opKinds)), a: data[1], b: data[2]})
		data = data[3:]
	}
	return p
}

// encodeProgram is the inverse of decodeProgram, for the seed corpus.
func encodeProgram(p modelProgram) []byte {
	var data []byte
	if p.unpinned {
		data = append(data, 1)
	} else {
		data = append(data, 0)
	}
	for _, op := range p.ops {
		data = append(data, byte(op.kind), op.a, op.b)
	}
	return data
}

func FuzzRunnerOps(f *testing.F) {
	seeds := []modelProgram{
		{},
		{ops: []modelOp{{opRun, 0, 1}, {opRun, 1, 2}, {opRun, 2, 3}}},
		{ops: []modelOp{{opKeep, 0, 0}, {opOpen, 0, 0}, {opKeep, 2, 0}, {opOpen, 2, 0}, {opClose, 0, 0}, {opRelease, 0, 0}, {opRelease, 1, 1}}},
		{ops: []modelOp{{opOpen, 0, 0}, {opRelease, 0, 1}, {opRelease, 0, 0}, {opOpen, 1, 0}, {opWith, 2, 1}, {opWith, 0, 2}, {opWith, 2, 2}}},
		{unpinned: true, ops: []modelOp{{opIter, 19, 5}, {opIter, 0x80 | 7, 0}, {opIter, 10, 10}, {opCancel, 0, 0}, {opCancel, 1, 0}, {opSubmitCancel, 0, 0}}},
		{ops: []modelOp{{opClose, 0, 0}, {opRun, 0, 0}, {opIter, 3, 0}, {opWith, 0, 0}, {opKeep, 0, 0}, {opCancel, 0, 0}, {opSubmitCancel, 0, 0}}},
	}
	for _, p := range seeds {
		f.Add(encodeProgram(p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		testkit.Check(t)
		if err := runProgram(decodeProgram(data)); err != nil {
			t.Fatal(err)
		}
	})
}

// exitRecorder is a kept resource whose Exit records that it ran and then
// does what fault says.
type exitRecorder struct {
	name  string
	log   *testkit.Events
	fault func()
}

func (e *exitRecorder) Enter(*aio.Task) (string, error) { return e.name, nil }

func (e *exitRecorder) Exit(_ *aio.Task, how error) error {
	e.log.Add("exit %s %v", e.name, how)
	if e.fault != nil {
		e.fault()
	}
	return nil
}

// TestCloseFaultInKeptExit checks that a kept resource's Exit that panics
// or calls runtime.Goexit at Close skips no other Exit, and that Close
// reports it.
func TestCloseFaultInKeptExit(t *testing.T) {
	for name, fault := range map[string]func(){
		"panic":  func() { panic("exit boom") },
		"Goexit": runtime.Goexit,
	} {
		t.Run(name, func(t *testing.T) {
			testkit.Check(t)
			r := threadrunner.New()
			log := new(testkit.Events)
			for i, f := range []func(){nil, fault, nil} {
				if _, err := threadrunner.Keep(testkit.Context(t), r, &exitRecorder{name: fmt.Sprint(i), log: log, fault: f}); err != nil {
					t.Fatalf("Keep() = %v", err)
				}
			}
			err := r.Close()
			if got, want := log.List(), []string{"exit 2 <nil>", "exit 1 <nil>", "exit 0 <nil>"}; !slices.Equal(got, want) {
				t.Errorf("Exits at Close: %q; want %q", got, want)
			}
			if err == nil || !strings.Contains(err.Error(), map[string]string{"panic": "exit boom", "Goexit": "Goexit"}[name]) {
				t.Errorf("Close() = %v; want it to report the Exit's %s", err, name)
			}
		})
	}
}

// TestLoopClosedUnderneath checks that closing a runner's loop directly
// (r.Loop().Close(), or the owner of a loop given to FromLoop) exits every
// kept and open resource once, as Runner.Close would; release then returns
// ErrClosed, and Runner.Close returns what the loop's Close did.
func TestLoopClosedUnderneath(t *testing.T) {
	for _, fromLoop := range []bool{false, true} {
		t.Run(fmt.Sprint("FromLoop=", fromLoop), func(t *testing.T) {
			testkit.Check(t)
			var r *threadrunner.Runner
			var l *aio.Loop
			if fromLoop {
				l = aio.NewLoop()
				go l.Serve()
				r = threadrunner.FromLoop(l)
			} else {
				r = threadrunner.New()
				l = r.Loop()
			}
			log := new(testkit.Events)
			ctx := testkit.Context(t)
			if _, err := threadrunner.Keep(ctx, r, &exitRecorder{name: "kept", log: log}); err != nil {
				t.Fatalf("Keep() = %v", err)
			}
			_, release, err := threadrunner.Open(ctx, r, &exitRecorder{name: "open", log: log})
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("the loop's Close() = %v", err)
			}
			want := []string{"exit open " + aio.ErrClosed.Error(), "exit kept <nil>"}
			if got := log.List(); !slices.Equal(got, want) {
				t.Errorf("Exits when the loop closed: %q; want %q", got, want)
			}
			if err := release(nil); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("release() after = %v; want ErrClosed", err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Runner.Close() after = %v; want nil, what the loop's Close returned", err)
			}
			if got := log.List(); len(got) != 2 {
				t.Errorf("Exits in all: %q; want each once", got)
			}
		})
	}
}
