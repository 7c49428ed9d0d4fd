package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The pool's tests keep their helpers to themselves (the pool prefix), so
// that they do not depend on how the package's other tests are organized.

// poolCopy is a per-loop resource: a counter that only its loop touches.
// It records the loop it was entered on, and how often it was entered and
// exited, through the factory's shared counters (atomics: the copies live
// on different loops).
type poolCopy struct {
	loop  uint64 // the loop Enter ran on
	calls int    // loop-owned: bumped by tasks of that loop only
}

type poolFactory struct {
	enters, exits atomic.Int64
	made          atomic.Int64      // resources made
	failFirst     atomic.Bool       // the first Enter fails with errPoolEnter
	enterWait     func(t *aio.Task) // runs inside Enter, if set
	exitErr       error             // every Exit returns it
	copies        sync.Map          // *poolCopy -> struct{}: every copy entered
}

var errPoolEnter = errors.New("pool: enter failed")

func (f *poolFactory) res() aio.Resource[*poolCopy] {
	f.made.Add(1)
	return aio.ResourceFunc(func(t *aio.Task) (*poolCopy, error) {
		if f.enterWait != nil {
			f.enterWait(t)
		}
		if f.failFirst.CompareAndSwap(true, false) {
			return nil, errPoolEnter
		}
		f.enters.Add(1)
		c := &poolCopy{loop: t.Loop().ID()}
		f.copies.Store(c, struct{}{})
		return c, nil
	}, func(t *aio.Task, _ *poolCopy, how error) error {
		f.exits.Add(1)
		return f.exitErr
	})
}

// poolBump returns a Use function that counts a call in the runner's copy,
// on its loop, and reports the loop it ran on.
func poolBump(ctx context.Context) func(r *threadrunner.Runner, c *poolCopy) (uint64, error) {
	return func(r *threadrunner.Runner, c *poolCopy) (uint64, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (uint64, error) {
			if c.loop != t.Loop().ID() {
				return 0, fmt.Errorf("copy of loop %d used on loop %d", c.loop, t.Loop().ID())
			}
			c.calls++
			return t.Loop().ID(), nil
		})
	}
}

func TestPoolEachLoopHasItsCopy(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	var f poolFactory
	p := threadrunner.NewPool(3, f.res)
	const goroutines, calls = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range calls {
				if _, err := threadrunner.Use(ctx, p, poolBump(ctx)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Use() = %v; want nil", err)
	}
	total, loops := 0, map[uint64]bool{}
	f.copies.Range(func(k, _ any) bool {
		c := k.(*poolCopy)
		if loops[c.loop] {
			t.Errorf("two copies entered on loop %d; want one per loop", c.loop)
		}
		loops[c.loop] = true
		total += c.calls // race-free: the loops are idle, and Run synchronized
		return true
	})
	if total != goroutines*calls {
		t.Errorf("calls counted in the copies = %d; want %d", total, goroutines*calls)
	}
	if n := f.enters.Load(); n < 2 || n > 3 {
		t.Errorf("copies entered = %d; want 2 or 3 (32 callers spread over 3 loops)", n)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if e, x := f.enters.Load(), f.exits.Load(); e != x {
		t.Errorf("copies exited = %d; want %d, one per copy entered", x, e)
	}
}

func TestPoolLeastBusy(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	p := threadrunner.NewPool[struct{}](2, nil)
	defer p.Close()
	held, release := make(chan *threadrunner.Runner), make(chan struct{})
	go threadrunner.Use(ctx, p, func(r *threadrunner.Runner, _ struct{}) (int, error) {
		held <- r
		<-release
		return 0, nil
	})
	busy := <-held
	for i := range 10 {
		free, _ := threadrunner.Use(ctx, p, func(r *threadrunner.Runner, _ struct{}) (*threadrunner.Runner, error) {
			return r, nil
		})
		if free == busy {
			t.Fatalf("call %d went to the runner with a call in flight; want the idle one", i)
		}
	}
	close(release)
}

func TestPoolKeyAffinity(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	p := threadrunner.NewPool[struct{}](4, nil)
	defer p.Close()
	which := func(key string) *threadrunner.Runner {
		r, err := threadrunner.UseKey(ctx, p, key, func(r *threadrunner.Runner, _ struct{}) (*threadrunner.Runner, error) {
			return r, nil
		})
		if err != nil {
			t.Fatalf("UseKey(%q) = %v; want nil", key, err)
		}
		return r
	}
	used := map[*threadrunner.Runner]bool{}
	for i := range 64 {
		key := fmt.Sprintf("session-%d", i)
		r := which(key)
		used[r] = true
		for range 3 {
			if again := which(key); again != r {
				t.Fatalf("UseKey(%q) went to two runners; want one", key)
			}
		}
	}
	if len(used) < 2 {
		t.Errorf("64 keys went to %d runner(s) of 4; want them spread", len(used))
	}
}

func TestPoolStartsNothing(t *testing.T) {
	testkit.Check(t)
	before := testkit.Snapshot()
	var f poolFactory
	p := threadrunner.NewPool(4, f.res)
	if started := testkit.Leaked(before); len(started) != 0 {
		t.Errorf("NewPool started %d goroutine(s); want none:\n%s", len(started), strings.Join(started, "\n\n"))
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if n := f.made.Load(); n != 0 {
		t.Errorf("resources made by a pool never used = %d; want 0", n)
	}
	if started := testkit.Leaked(before); len(started) != 0 {
		t.Errorf("closing an unused pool started %d goroutine(s); want none:\n%s", len(started), strings.Join(started, "\n\n"))
	}
}

func TestPoolEnterFailsThenRetries(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	var f poolFactory
	f.failFirst.Store(true)
	p := threadrunner.NewPool(1, f.res)
	defer p.Close()
	called := false
	_, err := threadrunner.Use(ctx, p, func(*threadrunner.Runner, *poolCopy) (int, error) {
		called = true
		return 0, nil
	})
	if !errors.Is(err, errPoolEnter) || called {
		t.Fatalf("Use() with a failing Enter = %v, fn called %v; want %v, not called", err, called, errPoolEnter)
	}
	if _, err := threadrunner.Use(ctx, p, poolBump(ctx)); err != nil {
		t.Fatalf("Use() after a failed Enter = %v; want nil (entered again)", err)
	}
	if n := f.made.Load(); n != 2 {
		t.Errorf("resources made = %d; want 2 (one per attempt)", n)
	}
}

func TestPoolWaitForEnterHonorsContext(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	entering := make(chan struct{})
	var stuck aio.Event
	var f poolFactory
	f.enterWait = func(t *aio.Task) {
		close(entering)
		stuck.Wait(t)
	}
	p := threadrunner.NewPool(1, f.res)
	first := make(chan error, 1)
	go func() {
		_, err := threadrunner.Use(ctx, p, poolBump(ctx))
		first <- err
	}()
	<-entering
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if _, err := threadrunner.Use(short, p, poolBump(short)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Use() while another enters, ctx ended = %v; want %v", err, context.DeadlineExceeded)
	}
	threadrunner.Run(ctx, p.Runner(0), func(t *aio.Task) (int, error) {
		stuck.Set()
		return 0, nil
	})
	if err := <-first; err != nil {
		t.Errorf("the first Use() = %v; want nil", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
}

// TestPoolGiveUpWhileAnotherEnters checks, under -race, that a Use that
// gives up while another Use is entering the member's resource reads
// nothing the entering one writes: the Enter ends on a timer of the loop,
// with nothing ordering it after the give-up.
func TestPoolGiveUpWhileAnotherEnters(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	entering := make(chan struct{})
	var f poolFactory
	f.enterWait = func(t *aio.Task) {
		close(entering)
		aio.Sleep(t, 20*time.Millisecond)
	}
	p := threadrunner.NewPool(1, f.res)
	first := make(chan error, 1)
	go func() {
		_, err := threadrunner.Use(ctx, p, poolBump(ctx))
		first <- err
	}()
	<-entering
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if _, err := threadrunner.Use(short, p, poolBump(short)); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Use() while another enters = %v; want nil or %v", err, context.DeadlineExceeded)
	}
	if err := testkit.Await(t, first, "the entering Use"); err != nil {
		t.Errorf("the first Use() = %v; want nil", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
}

func TestPoolClose(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	errExit := errors.New("pool: exit failed")
	f := poolFactory{exitErr: errExit}
	p := threadrunner.NewPool(2, f.res)
	for i := range 2 {
		if _, err := threadrunner.UseKey(ctx, p, i, poolBump(ctx)); err != nil {
			t.Fatalf("UseKey() = %v; want nil", err)
		}
	}
	err := p.Close()
	if !errors.Is(err, errExit) {
		t.Errorf("Close() = %v; want the Exits' errors (%v)", err, errExit)
	}
	if e, x := f.enters.Load(), f.exits.Load(); e != x {
		t.Errorf("copies exited = %d; want %d", x, e)
	}
	if _, err := threadrunner.Use(ctx, p, poolBump(ctx)); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Use() after Close = %v; want %v", err, aio.ErrClosed)
	}
	if _, err := threadrunner.UseKey(ctx, p, "k", poolBump(ctx)); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("UseKey() after Close = %v; want %v", err, aio.ErrClosed)
	}
	if err := p.Close(); !errors.Is(err, errExit) {
		t.Errorf("second Close() = %v; want the same errors", err)
	}
}

func TestPoolBadInput(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	p := threadrunner.NewPool[struct{}](0, nil)
	defer p.Close()
	if got, want := p.Size(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("NewPool(0).Size() = %d; want GOMAXPROCS = %d", got, want)
	}
	noop := func(*threadrunner.Runner, struct{}) (int, error) { return 0, nil }
	var nilPool *threadrunner.Pool[struct{}]
	tests := []struct {
		name string
		give func() error
	}{
		{"nil fn", func() error { _, err := threadrunner.Use[int](ctx, p, nil); return err }},
		{"nil fn by key", func() error { _, err := threadrunner.UseKey[int](ctx, p, 1, nil); return err }},
		{"nil ctx", func() error { _, err := threadrunner.Use(nil, p, noop); return err }}, //lint:ignore SA1012 the test passes a nil context on purpose
		{"nil pool", func() error { _, err := threadrunner.Use(ctx, nilPool, noop); return err }},
		{"nil pool Close", nilPool.Close},
	}
	for _, tt := range tests {
		if err := tt.give(); !errors.Is(err, aio.ErrInvalid) {
			t.Errorf("%s: error = %v; want %v", tt.name, err, aio.ErrInvalid)
		}
	}
	got, err := threadrunner.Use(ctx, p, func(r *threadrunner.Runner, _ struct{}) (error, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (error, error) { return p.Close(), nil })
	})
	if err != nil || !errors.Is(got, aio.ErrLoopThread) {
		t.Errorf("Close() from a pool's loop = %v, %v; want %v", got, err, aio.ErrLoopThread)
	}
	if _, err := threadrunner.Use(ctx, p, noop); err != nil {
		t.Errorf("Use() after a refused Close = %v; want nil (the pool still serves)", err)
	}
}

func TestPoolPanicGoesOnInCaller(t *testing.T) {
	testkit.Check(t)
	ctx := testkit.Context(t)
	p := threadrunner.NewPool[struct{}](1, nil)
	defer p.Close()
	func() {
		defer func() {
			if got := recover(); got != "boom" {
				t.Errorf("recover() = %v; want boom", got)
			}
		}()
		threadrunner.Use(ctx, p, func(*threadrunner.Runner, struct{}) (int, error) { panic("boom") })
	}()
	r, err := threadrunner.Use(ctx, p, func(r *threadrunner.Runner, _ struct{}) (*threadrunner.Runner, error) { return r, nil })
	if err != nil || r != p.Runner(0) {
		t.Errorf("Use() after a panic = %v, %v; want runner 0, nil", r, err)
	}
}
