package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// probe is a test aio.Resource that records what With did with it. It is
// loop-bound: no lock, so the race detector checks that With keeps it on
// the loop.
type probe struct {
	name     string
	log      *[]string // if not nil, Enter and Exit append "enter NAME", "exit NAME"
	enterErr error
	enterPan any
	exitErr  error
	await    bool // Enter and Exit await (Sleep(0)) before they return

	enters, exits int
	tids          []int   // threads Enter and Exit ran on
	hows          []error // what each Exit was told
}

func (p *probe) Enter(t *aio.Task) (string, error) {
	p.enters++
	p.tids = append(p.tids, testkit.ThreadID())
	if p.log != nil {
		*p.log = append(*p.log, "enter "+p.name)
	}
	if p.await {
		if err := aio.Sleep(t, 0); err != nil {
			return "", err
		}
		p.tids = append(p.tids, testkit.ThreadID())
	}
	if p.enterPan != nil {
		panic(p.enterPan)
	}
	return p.name, p.enterErr
}

func (p *probe) Exit(t *aio.Task, how error) error {
	p.exits++
	p.hows = append(p.hows, how)
	p.tids = append(p.tids, testkit.ThreadID())
	if p.log != nil {
		*p.log = append(*p.log, "exit "+p.name)
	}
	if p.await {
		aio.Sleep(t, 0)
		p.tids = append(p.tids, testkit.ThreadID())
	}
	return p.exitErr
}

func TestWith(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	errPanicky := errors.New("panicky")
	tests := []struct {
		name     string
		exitErr  error
		body     func(t *aio.Task, v string) error
		wantHow  func(error) bool // what Exit is told
		wantErrs []error          // what With returns: errors.Is each; nil for nil
	}{
		{
			name:     "ok",
			body:     func(t *aio.Task, v string) error { return aio.Sleep(t, 0) },
			wantHow:  func(how error) bool { return how == nil },
			wantErrs: nil,
		},
		{
			name:     "body error",
			body:     func(*aio.Task, string) error { return testkit.ErrBody },
			wantHow:  func(how error) bool { return how == testkit.ErrBody },
			wantErrs: []error{testkit.ErrBody},
		},
		{
			name:     "exit error",
			exitErr:  testkit.ErrExit,
			body:     func(*aio.Task, string) error { return nil },
			wantHow:  func(how error) bool { return how == nil },
			wantErrs: []error{testkit.ErrExit},
		},
		{
			name:     "both errors joined",
			exitErr:  testkit.ErrExit,
			body:     func(*aio.Task, string) error { return testkit.ErrBody },
			wantHow:  func(how error) bool { return how == testkit.ErrBody },
			wantErrs: []error{testkit.ErrBody, testkit.ErrExit},
		},
		{
			name: "body panics",
			body: func(*aio.Task, string) error { panic(errPanicky) },
			wantHow: func(how error) bool {
				var pe *aio.PanicError
				return errors.As(how, &pe) && pe.Value == errPanicky
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &probe{name: "res", exitErr: tt.exitErr, await: true}
			type result struct {
				err    error
				panic  any
				bodyV  string
				bodyAt int
			}
			got := call(t, l, func(task *aio.Task) (result, error) {
				var r result
				r.panic = testkit.RecoverPanic(func() {
					r.err = aio.With(task, p, func(v string) error {
						r.bodyV = v
						r.bodyAt = p.enters*10 + p.exits
						return tt.body(task, v)
					})
				})
				return r, nil
			})
			if p.enters != 1 || p.exits != 1 {
				t.Fatalf("Enter ran %d times, Exit %d; want once each", p.enters, p.exits)
			}
			if got.bodyV != "res" || got.bodyAt != 10 {
				t.Errorf("body got %q, ran after %d Enter and %d Exit; want %q, after Enter and before Exit", got.bodyV, got.bodyAt/10, got.bodyAt%10, "res")
			}
			if !tt.wantHow(p.hows[0]) {
				t.Errorf("Exit was told %v", p.hows[0])
			}
			for _, tid := range p.tids {
				if tid != l.ThreadID() {
					t.Errorf("Enter or Exit ran on thread %d; want the loop's, %d", tid, l.ThreadID())
				}
			}
			if tt.name == "body panics" {
				// The panic goes on after Exit, with its value.
				if got.panic != errPanicky {
					t.Errorf("With() panicked with %v; want the body's panic, %v", got.panic, errPanicky)
				}
				return
			}
			if got.panic != nil {
				t.Fatalf("With() panicked with %v", got.panic)
			}
			if tt.wantErrs == nil && got.err != nil {
				t.Errorf("With() = %v; want nil", got.err)
			}
			for _, want := range tt.wantErrs {
				if !errors.Is(got.err, want) {
					t.Errorf("With() = %v; want it to be %v", got.err, want)
				}
			}
		})
	}
}

func TestWithEnterFails(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Neither the body nor Exit runs; With returns Enter's error as is, or
	// lets Enter's panic go on.
	for _, p := range []*probe{
		{name: "error", enterErr: testkit.ErrEnter},
		{name: "error after await", enterErr: testkit.ErrEnter, await: true},
		{name: "panic", enterPan: "enter boom"},
	} {
		t.Run(p.name, func(t *testing.T) {
			type result struct {
				err   error
				panic any
				body  bool
			}
			got := call(t, l, func(task *aio.Task) (result, error) {
				var r result
				r.panic = testkit.RecoverPanic(func() {
					r.err = aio.With(task, p, func(string) error {
						r.body = true
						return nil
					})
				})
				return r, nil
			})
			if got.body || p.exits != 0 {
				t.Errorf("body ran = %v, Exit ran %d times; want neither", got.body, p.exits)
			}
			if p.enterErr != nil && got.err != p.enterErr {
				t.Errorf("With() = %v; want Enter's error, %v", got.err, p.enterErr)
			}
			if p.enterPan != nil && got.panic != p.enterPan {
				t.Errorf("With() panicked with %v; want Enter's panic, %v", got.panic, p.enterPan)
			}
		})
	}
}

func TestWithNested(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	var log []string // touched on the loop only, read after Call
	outer := &probe{name: "outer", log: &log}
	inner := &probe{name: "inner", log: &log, exitErr: testkit.ErrExit}
	err := call(t, l, func(task *aio.Task) (error, error) {
		return aio.With(task, outer, func(string) error {
			return aio.With(task, inner, func(string) error {
				log = append(log, "body")
				return testkit.ErrBody
			})
		}), nil
	})
	if want := []string{"enter outer", "enter inner", "body", "exit inner", "exit outer"}; !slices.Equal(log, want) {
		t.Errorf("order = %q; want %q", log, want)
	}
	if !errors.Is(err, testkit.ErrBody) || !errors.Is(err, testkit.ErrExit) {
		t.Errorf("With() = %v; want testkit.ErrBody and testkit.ErrExit", err)
	}
	// The outer Exit is told the inner block's joined error.
	if how := outer.hows[0]; !errors.Is(how, testkit.ErrBody) || !errors.Is(how, testkit.ErrExit) {
		t.Errorf("outer Exit was told %v; want testkit.ErrBody and testkit.ErrExit", how)
	}
}

func TestWithCancelledBody(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The body ends because the caller's ctx did: Exit runs once, on the
	// loop, and is told the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	p := &probe{name: "res"}
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		return 0, aio.With(t, p, func(string) error {
			close(started)
			return aio.Sleep(t, time.Hour)
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
	if p.exits != 1 || !errors.Is(p.hows[0], context.Canceled) {
		t.Errorf("Exit ran %d times, told %v; want once, told context.Canceled", p.exits, p.hows)
	}
}

func TestWithGoexitInBody(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// runtime.Goexit in the body: Exit runs, told something that is not
	// nil, and the Goexit goes on to whoever waits for the task.
	p := &probe{name: "res"}
	if goexited, _ := testkit.Goexits(func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			return 0, aio.With(t, p, func(string) error {
				runtime.Goexit()
				return nil
			})
		})
	}); !goexited {
		t.Errorf("Call() returned; want it to call runtime.Goexit")
	}
	// Read after a later Call: the exiting one gave no ordering.
	call(t, l, func(*aio.Task) (int, error) { return 0, nil })
	if p.exits != 1 || p.hows[0] == nil {
		t.Errorf("Exit ran %d times, told %v; want once, told a non-nil error", p.exits, p.hows)
	}
}

func TestWithExitFailsDuringPanic(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := startLoop(t, aio.Logger(logs.Logger()))

	// Exit's error cannot travel with the panic: it is logged.
	p := &probe{name: "res", exitErr: testkit.ErrExit}
	got := call(t, l, func(t *aio.Task) (any, error) {
		return testkit.RecoverPanic(func() {
			aio.With(t, p, func(string) error { panic("body boom") })
		}), nil
	})
	if got != "body boom" {
		t.Errorf("With() panicked with %v; want %q", got, "body boom")
	}
	if log := logs.String(); !strings.Contains(log, testkit.ErrExit.Error()) {
		t.Errorf("log = %q; want Exit's error", log)
	}
}

// TestWithBadInput checks that With and Enter refuse a nil resource, With a
// nil body, and ResourceFunc a nil enter function.
func TestWithBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "With nil resource", inTask: func(t *aio.Task) error {
			return aio.With[int](t, nil, func(int) error { return nil })
		}, want: "nil Resource"},
		{name: "With nil body", inTask: func(t *aio.Task) error {
			return aio.With(t, aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, nil), nil)
		}, want: "nil body"},
		{name: "ResourceFunc nil enter", inTask: func(t *aio.Task) error {
			return aio.With(t, aio.ResourceFunc[int](nil, nil), func(int) error { return nil })
		}, want: "nil enter"},
		{name: "Enter nil resource", inTask: func(t *aio.Task) error {
			_, _, err := aio.Enter[int](t, nil)
			return err
		}, want: "nil Resource"},
	})
}

func TestResourceFunc(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		err  error
		log  []string
		none error
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		res := aio.ResourceFunc(
			func(*aio.Task) (int, error) { r.log = append(r.log, "enter"); return 5, nil },
			func(_ *aio.Task, v int, how error) error {
				r.log = append(r.log, fmt.Sprint("exit ", v, " ", how))
				return nil
			})
		r.err = aio.With(t, res, func(v int) error {
			r.log = append(r.log, fmt.Sprint("body ", v))
			return testkit.ErrBody
		})
		// Without an exit function: nothing to run.
		r.none = aio.With(t, aio.ResourceFunc(func(*aio.Task) (int, error) { return 1, nil }, nil), func(int) error { return nil })
		return r, nil
	})
	if want := []string{"enter", "body 5", "exit 5 " + testkit.ErrBody.Error()}; !slices.Equal(got.log, want) {
		t.Errorf("order = %q; want %q", got.log, want)
	}
	if !errors.Is(got.err, testkit.ErrBody) || got.none != nil {
		t.Errorf("With() = %v, %v; want %v, nil", got.err, got.none, testkit.ErrBody)
	}
}

// ctxResource is a resource whose Enter keeps the context it saw, the way
// one opening an HTTP request with t.Context() does.
type ctxResource struct {
	enterAwait func(t *aio.Task) error // run in Enter after taking the context
	ctx        context.Context
	atExit     error // ctx.Err() when Exit ran
}

func (r *ctxResource) Enter(t *aio.Task) (context.Context, error) {
	r.ctx = t.Context()
	if r.enterAwait != nil {
		if err := r.enterAwait(t); err != nil {
			return nil, err
		}
	}
	return r.ctx, nil
}

func (r *ctxResource) Exit(t *aio.Task, how error) error {
	r.atExit = r.ctx.Err()
	return nil
}

// TestResourceLifetime checks that the context Enter sees lives until Exit
// has returned, in With's body and through Enter's exit called from another
// task, and ends right after; that cancelling the entering task while Enter
// runs still ends it, so Enter's awaits return at once; and that it carries
// the values of the entering task's context.
func TestResourceLifetime(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := context.WithValue(testkit.Context(t), testkit.CtxKey{}, "v")

	r := &ctxResource{}
	inBody := call(t, l, func(t *aio.Task) (error, error) {
		var inBody error
		err := aio.With(t, r, func(ctx context.Context) error {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return err
			}
			inBody = ctx.Err()
			return nil
		})
		return inBody, err
	})
	if inBody != nil || r.atExit != nil {
		t.Errorf("Enter's context in With's body: %v, in Exit: %v; want both live", inBody, r.atExit)
	}
	if r.ctx.Err() == nil {
		t.Errorf("Enter's context after With returned is live; want it ended")
	}

	// Entered by one task, exited by a later one: the context outlives the
	// first.
	r = &ctxResource{}
	exit, err := aio.Call(ctx, l, func(t *aio.Task) (func(*aio.Task, error) error, error) {
		_, exit, err := aio.Enter(t, r)
		return exit, err
	})
	if err != nil {
		t.Fatalf("Enter() = %v", err)
	}
	if err := r.ctx.Err(); err != nil {
		t.Errorf("Enter's context after its task ended: %v; want live", err)
	}
	if v := r.ctx.Value(testkit.CtxKey{}); v != "v" {
		t.Errorf("Enter's context carries %v; want the entering task's value", v)
	}
	call(t, l, func(t *aio.Task) (int, error) { return 0, exit(t, nil) })
	if r.atExit != nil || r.ctx.Err() == nil {
		t.Errorf("Enter's context in Exit: %v, after: %v; want live, then ended", r.atExit, r.ctx.Err())
	}
	if err := call(t, l, func(t *aio.Task) (error, error) { return exit(t, nil), nil }); err != nil {
		t.Errorf("exit() again = %v; want nil", err)
	}

	// Cancelled while Enter awaits: Enter's await and context end at once.
	cctx, cancel := context.WithCancel(ctx)
	started := make(chan struct{})
	r = &ctxResource{enterAwait: func(t *aio.Task) error {
		close(started)
		return aio.Sleep(t, time.Hour)
	}}
	go func() {
		<-started
		cancel()
	}()
	var enterErr error
	testkit.Do(t, "Enter cancelled while it awaits", func() {
		_, enterErr = aio.Call(cctx, l, func(t *aio.Task) (int, error) {
			_, _, err := aio.Enter(t, r)
			return 0, err
		})
	})
	if !errors.Is(enterErr, context.Canceled) || r.ctx.Err() == nil {
		t.Errorf("Enter() cancelled = %v, its context %v; want context.Canceled, ended", enterErr, r.ctx.Err())
	}
}

// TestResourceFuncOverlapping checks that overlapping uses of one
// ResourceFunc each hand exit their own value, in whatever order they end.
func TestResourceFuncOverlapping(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	next := 0
	exited := map[int]int{} // value -> times exited
	res := aio.ResourceFunc(
		func(*aio.Task) (int, error) { next++; return next, nil },
		func(_ *aio.Task, v int, _ error) error { exited[v]++; return nil })
	call(t, l, func(t *aio.Task) (int, error) {
		_, exit1, _ := aio.Enter(t, res)
		_, exit2, _ := aio.Enter(t, res)
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error {
			return aio.With(t, res, func(int) error { return aio.Sleep(t, time.Millisecond) })
		})
		g.Go(func(t *aio.Task) error { return aio.With(t, res, func(int) error { return aio.Sleep(t, 0) }) })
		err := g.Wait()
		exit1(t, nil) // first in, first out
		exit2(t, nil)
		// Called directly, Enter and Exit pair up last in, first out.
		v5, _ := res.Enter(t)
		v6, _ := res.Enter(t)
		res.Exit(t, nil)
		res.Exit(t, nil)
		if v5 != 5 || v6 != 6 {
			return 0, fmt.Errorf("direct Enter gave %d, %d; want 5, 6", v5, v6)
		}
		return 0, err
	})
	for v := 1; v <= 6; v++ {
		if exited[v] != 1 {
			t.Errorf("value %d exited %d times; want once (exits: %v)", v, exited[v], exited)
		}
	}
}

// TestExitPanicIsAnError checks the one rule for a panicking Exit: it is
// the block's exit error, a *PanicError, here as in threadrunner and at
// Close; and the entered resource's context still ends.
func TestExitPanicIsAnError(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	var ctx context.Context
	res := aio.ResourceFunc(func(t *aio.Task) (int, error) { ctx = t.Context(); return 1, nil },
		func(*aio.Task, int, error) error { panic("exit boom") })
	err := call(t, l, func(t *aio.Task) (error, error) {
		return aio.With(t, res, func(int) error { return testkit.ErrBody }), nil
	})
	var pe *aio.PanicError
	if !errors.Is(err, testkit.ErrBody) || !errors.As(err, &pe) || pe.Value != "exit boom" {
		t.Errorf("With() = %v; want the body's error joined with Exit's *PanicError", err)
	}
	if ctx.Err() == nil {
		t.Errorf("Enter's context after a panicking Exit is live; want it ended")
	}
}
