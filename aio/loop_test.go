package aio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # Starting and serving

func TestStartRunsPinnedLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	if !l.Pinned() {
		t.Errorf("Pinned() = false; want true")
	}
	type where struct {
		tid    int
		inLoop bool
	}
	got := call(t, l, func(t *aio.Task) (where, error) {
		return where{testkit.ThreadID(), t.Loop().InLoop()}, nil
	})
	if got.tid != l.ThreadID() {
		t.Errorf("task ran on thread %d; want ThreadID() = %d", got.tid, l.ThreadID())
	}
	if !got.inLoop {
		t.Errorf("InLoop() in a task = false; want true")
	}
	if l.InLoop() {
		t.Errorf("InLoop() off the loop = true; want false")
	}
}

func TestStartUnpinned(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Unpinned())

	if l.Pinned() {
		t.Errorf("Pinned() = true; want false")
	}
	if got := l.ThreadID(); got != 0 {
		t.Errorf("ThreadID() = %d; want 0 for an unpinned loop", got)
	}
	if got := call(t, l, func(t *aio.Task) (bool, error) { return t.Loop().InLoop(), nil }); !got {
		t.Errorf("InLoop() in a task of an unpinned loop = false; want true")
	}
	if l.InLoop() {
		t.Errorf("InLoop() off the loop = true; want false")
	}
}

func TestNewLoopServe(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()

	// Work posted before Serve waits for it.
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { return testkit.ThreadID(), nil })
	if f.Settled() {
		t.Fatalf("Spawn() before Serve: future settled; want pending")
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve() }()
	got, err := f.Wait(testkit.Context(t))
	if err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if got != l.ThreadID() {
		t.Errorf("task ran on thread %d; want ThreadID() = %d", got, l.ThreadID())
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() after Close = %v; want ErrClosed", err)
	}
}

func TestServeTwice(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	if err := l.Serve(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Serve() on a running loop = %v; want ErrClosed", err)
	}
	if got := call(t, l, func(*aio.Task) (int, error) { return 1, nil }); got != 1 {
		t.Errorf("Call() after a second Serve = %d; want 1", got)
	}
}

func TestLoopIdentity(t *testing.T) {
	testkit.Check(t)
	a := startLoop(t)
	b := startLoop(t, aio.Name("render"))

	if a.ID() == b.ID() || a.ID() == 0 || b.ID() == 0 {
		t.Errorf("ID() = %d and %d; want two different non-zero ids", a.ID(), b.ID())
	}
	if want := fmt.Sprintf("loop-%d", a.ID()); a.Name() != want || a.String() != want {
		t.Errorf("Name(), String() = %q, %q; want %q", a.Name(), a.String(), want)
	}
	if b.Name() != "render" || b.String() != "render" {
		t.Errorf("Name(), String() = %q, %q; want %q", b.Name(), b.String(), "render")
	}
	if testkit.HaveThreadIDs && a.ThreadID() == b.ThreadID() {
		t.Errorf("two pinned loops share thread %d", a.ThreadID())
	}
	if got := call(t, a, func(t *aio.Task) (uint64, error) { return t.Loop().ID(), nil }); got != a.ID() {
		t.Errorf("Task.Loop().ID() = %d; want %d", got, a.ID())
	}
}

// # Affinity (semantics 1)

// threadSet counts the OS threads that loop code ran on. It has no lock on
// purpose: only the loop may touch it, so that if two steps of one loop ever
// ran at once the race detector would report it.
type threadSet map[int]int

func (s threadSet) note() { s[testkit.ThreadID()]++ }

// checkOne fails t unless every note was taken on thread want, and at least
// min were taken.
func (s threadSet) checkOne(t *testing.T, want, min int) {
	t.Helper()
	total := 0
	for _, n := range s {
		total += n
	}
	if len(s) != 1 || s[want] == 0 {
		t.Errorf("loop code ran on threads %v (thread: steps); want only the loop's, %d", s, want)
	}
	if total < min {
		t.Errorf("recorded %d steps; want at least %d", total, min)
	}
}

// TestAffinity checks semantics 1: every step of every task of a pinned loop
// (after each kind of await, in children, group tasks, generators, Enter and
// Exit) runs on the loop's one OS thread, while other goroutines keep the
// runtime's threads busy calling into the loop.
func TestAffinity(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Workers(2))
	ctx := testkit.Context(t)
	seen := threadSet{}

	const tasks = 40
	var (
		gate, openGate = aio.NewFuture[int](l)
		atGate         atomic.Int32
		ch             = make(chan int)
		ev             aio.Event
		q              = aio.NewQueue[int](1)
		sem            = aio.NewSemaphore(2)
		offMu          sync.Mutex // guards offLoop
		offLoop        = map[int]bool{}
	)
	res := aio.ResourceFunc(
		func(t *aio.Task) (int, error) { seen.note(); err := aio.Sleep(t, 0); seen.note(); return 1, err },
		func(t *aio.Task, _ int, _ error) error { seen.note(); err := aio.Sleep(t, 0); seen.note(); return err },
	)
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer seen.note()
		for i := range 3 {
			seen.note()
			if err := aio.Sleep(t, 0); err != nil {
				return err
			}
			seen.note()
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
	// step runs one await and notes the thread after it.
	step := func(err error) error {
		seen.note()
		return err
	}
	body := func(t *aio.Task) (int, error) {
		var errs []error
		after := func(err error) { errs = append(errs, step(err)) }
		seen.note()
		after(aio.Sleep(t, time.Millisecond))
		after(aio.Sleep(t, 0))
		_, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (int, error) {
			seen.note()
			return 0, step(aio.Sleep(t, 0))
		}))
		after(err)
		atGate.Add(1)
		_, err = aio.Await(t, gate)
		after(err)
		_, _, err = aio.Recv(t, ch)
		after(err)
		after(q.Put(t, 1))
		_, err = q.Get(t)
		after(err)
		_, err = aio.ToThread(t, func(context.Context) (int, error) {
			offMu.Lock()
			defer offMu.Unlock()
			offLoop[testkit.ThreadID()] = true
			return 0, nil
		})
		after(err)
		after(sem.Acquire(t))
		after(aio.Sleep(t, 0))
		sem.Release()
		if t.ID()%2 == 0 {
			ev.Set()
		}
		after(ev.Wait(t))
		g := aio.NewGroup(t)
		for range 3 {
			g.Go(func(t *aio.Task) error {
				seen.note()
				return step(aio.Sleep(t, 0))
			})
		}
		after(g.Wait())
		_, err = aio.Collect(t, gen)
		after(err)
		after(aio.With(t, res, func(int) error {
			seen.note()
			return step(aio.Sleep(t, 0))
		}))
		_, err = aio.Timeout(t, time.Minute, func(t *aio.Task) (int, error) {
			seen.note()
			return 0, step(aio.Sleep(t, 0))
		})
		after(err)
		return testkit.ThreadID(), errors.Join(errs...)
	}

	futures := make([]*aio.Future[int], tasks)
	for i := range futures {
		futures[i] = aio.Spawn(ctx, l, body)
	}
	stream := aio.OpenStream(ctx, l, gen, aio.BatchSize(1), aio.Buffer(1))

	// Keep the scheduler busy meanwhile: goroutines calling into the loop.
	var load sync.WaitGroup
	for range stressProcs() {
		load.Go(func() {
			for range 50 {
				aio.Call(ctx, l, func(t *aio.Task) (int, error) {
					seen.note()
					return 0, step(aio.Sleep(t, 0))
				})
			}
		})
	}
	testkit.WaitFor(t, "every task at the gate", func() bool { return atGate.Load() == tasks })
	openGate(0, nil)
	for i := range tasks {
		ch <- i
	}
	for {
		b, err := stream.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Stream.Next() = %v, %v; want a batch or io.EOF", b, err)
		}
	}
	if err := stream.Close(); err != nil {
		t.Errorf("Stream.Close() = %v; want nil", err)
	}
	for i, f := range futures {
		tid, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("task %d: Wait() = %v; want nil", i, err)
		}
		if tid != l.ThreadID() {
			t.Errorf("task %d ended on thread %d; want %d", i, tid, l.ThreadID())
		}
	}
	load.Wait()

	// Every task took about 40 notes (with its child, group tasks, generator
	// and resource); the load took 2 per call.
	seen.checkOne(t, l.ThreadID(), tasks*40)
	if testkit.HaveThreadIDs && offLoop[l.ThreadID()] {
		t.Errorf("a ToThread function ran on the loop's thread %d", l.ThreadID())
	}
}

// TestAffinityAcrossParks checks that the loop keeps its thread while it
// parks and wakes again, over and over.
func TestAffinityAcrossParks(t *testing.T) {
	tests := []struct {
		name string
		opts []aio.Option
	}{
		{"futex", nil},
		{"no spin", []aio.Option{aio.Spin(0)}},
		{"runtime", []aio.Option{aio.ParkInRuntime()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t, tt.opts...)
			seen := threadSet{}
			for range 20 {
				call(t, l, func(*aio.Task) (int, error) { seen.note(); return 0, nil })
				time.Sleep(time.Millisecond) // let the loop park; not asserted
			}
			seen.checkOne(t, l.ThreadID(), 20)
		})
	}
}

// TestUnpinnedRunsOneStepAtATime checks that an unpinned loop, whose steps
// may move between threads, still runs only one step at a time: a counter
// that only steps touch, without a lock, ends right (and the race detector
// would report overlapping steps), and no step ever begins while another
// one runs.
func TestUnpinnedRunsOneStepAtATime(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Unpinned())
	ctx := testkit.Context(t)

	var (
		running  atomic.Int32 // steps running now
		overlaps atomic.Int32 // steps that began while another ran
		counter  int          // touched only by steps
	)
	// await runs fn (an await) outside the step accounting.
	await := func(fn func() error) error {
		running.Add(-1)
		err := fn()
		if running.Add(1) != 1 {
			overlaps.Add(1)
		}
		return err
	}
	const rounds = 30
	body := func(t *aio.Task) (int, error) {
		if running.Add(1) != 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		for i := range rounds {
			counter++
			err := await(func() error {
				switch i % 3 {
				case 0:
					return aio.Sleep(t, 0)
				case 1:
					_, err := aio.ToThread(t, func(context.Context) (int, error) { return 0, nil })
					return err
				default:
					return aio.Sleep(t, time.Microsecond)
				}
			})
			if err != nil {
				return 0, err
			}
		}
		return 0, nil
	}

	n := 4 * stressProcs()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := aio.Call(ctx, l, body); err != nil {
				t.Errorf("Call() = %v; want nil", err)
			}
		})
	}
	wg.Wait()
	if got := overlaps.Load(); got != 0 {
		t.Errorf("%d steps began while another step ran; want 0", got)
	}
	got := call(t, l, func(*aio.Task) (int, error) { return counter, nil })
	if want := n * rounds; got != want {
		t.Errorf("counter = %d; want %d", got, want)
	}
	if tid := l.ThreadID(); tid != 0 {
		t.Errorf("ThreadID() = %d; want 0 for an unpinned loop", tid)
	}
}

// # What an idle loop holds

// TestIdleLoopHoldsNoResult checks that once a call has returned and its
// result is dropped, an idle loop keeps nothing of it reachable.
func TestIdleLoopHoldsNoResult(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	type big struct{ _ [1 << 20]byte } // large: allocated, and collected, on its own
	collected := make(chan struct{})
	func() {
		v := call(t, l, func(*aio.Task) (*big, error) { return new(big), nil })
		runtime.AddCleanup(v, func(chan struct{}) { close(collected) }, collected)
	}()
	testkit.WaitFor(t, "the dropped result to be collected while the loop idles", func() bool {
		runtime.GC()
		select {
		case <-collected:
			return true
		default:
			return false
		}
	})
}
