package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// relBadCase is one misuse of the API: call makes it and returns the error
// it got, setting ran if any work it handed over ran (a task, Enter, a body,
// a generator). want is the error it must get (errors.Is).
type relBadCase struct {
	name string
	call func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error
	want error
	// closes says the case closes the runner itself.
	closes bool
}

// relRunBadCases runs each case against a runner made by setup and checks
// that it fails with its error, without panicking, without running what it
// was given, and that the runner serves on (unless closed is set).
func relRunBadCases(t *testing.T, tests []relBadCase, setup func(t *testing.T) *threadrunner.Runner, closed bool) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			r := setup(t)
			var ran atomic.Bool
			var err error
			done := make(chan struct{})
			var p any
			go func() {
				defer close(done)
				p = relCatch(func() { err = tt.call(testContext(t), r, &ran) })
			}()
			relAwait(t, done, tt.name)
			if p != nil {
				t.Fatalf("%s panicked with %v; want the error %v", tt.name, p, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("%s = %v; want %v", tt.name, err, tt.want)
			}
			if ran.Load() {
				t.Errorf("%s ran the work it was given; want it refused", tt.name)
			}
			if r != nil && !closed && !tt.closes {
				relServesOn(t, r)
			}
		})
	}
}

// relIterErr ranges over seq and returns the single error it yields,
// failing if it yields a value or more than one error.
func relIterErr(seq iter.Seq2[int, error]) error {
	var errs []error
	for v, err := range seq {
		if err == nil || v != 0 {
			return fmt.Errorf("yielded (%d, %v); want a single (0, error)", v, err)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		return fmt.Errorf("yielded %d errors; want 1", len(errs))
	}
	return errs[0]
}

// relMarkRan returns a task that sets ran.
func relMarkRan(ran *atomic.Bool) func(*aio.Task) (int, error) {
	return func(*aio.Task) (int, error) {
		ran.Store(true)
		return 1, nil
	}
}

// relMarkSeq returns a generator that sets ran.
func relMarkSeq(ran *atomic.Bool) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		ran.Store(true)
		yield(1)
		return nil
	}
}

// relMarkRes returns a resource whose Enter and Exit set ran.
func relMarkRes(ran *atomic.Bool) aio.Resource[int] {
	return aio.ResourceFunc(func(*aio.Task) (int, error) {
		ran.Store(true)
		return 1, nil
	}, func(*aio.Task, int, error) error {
		ran.Store(true)
		return nil
	})
}

// relInTask runs fn in a task of r and returns what fn returned.
func relInTask(ctx context.Context, r *threadrunner.Runner, fn func(t *aio.Task) error) error {
	err, runErr := threadrunner.Run(ctx, r, func(t *aio.Task) (error, error) { return fn(t), nil })
	if runErr != nil {
		return fmt.Errorf("Run() = %w", runErr)
	}
	return err
}

// relStarted returns a new runner whose loop runs, closed when the test ends.
func relStarted(t *testing.T) *threadrunner.Runner {
	r := newRunner(t)
	relServesOn(t, r)
	return r
}

func TestBadInputNil(t *testing.T) {
	body := func(ran *atomic.Bool) func(int) error {
		return func(int) error {
			ran.Store(true)
			return nil
		}
	}
	tests := []relBadCase{
		{name: "Run nil function", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Run[int](ctx, r, nil)
			return err
		}},
		{name: "Submit nil function", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Submit[int](ctx, r, nil).Wait(ctx)
			return err
		}},
		{name: "Go nil function", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				_, err := aio.Await(t, aio.Go[int](t, nil))
				return err
			})
		}},
		{name: "ToThread nil function", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				_, err := aio.ToThread[int](t, nil)
				return err
			})
		}},
		{name: "Group.Go nil function", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				g := aio.NewGroup(t)
				g.Go(nil)
				g.Go(func(t *aio.Task) error { // starts cancelled: the group failed
					if err := aio.Sleep(t, time.Hour); !errors.Is(err, context.Canceled) {
						ran.Store(true) // it slept: the failure did not cancel it
					}
					return nil
				})
				return g.Wait()
			})
		}},
		{name: "With nil resource", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return threadrunner.With[int](ctx, r, nil, body(ran))
		}},
		{name: "With nil body", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return threadrunner.With(ctx, r, relMarkRes(ran), nil)
		}},
		{name: "Open nil resource", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, release, err := threadrunner.Open[int](ctx, r, nil)
			if release != nil {
				ran.Store(true)
			}
			return err
		}},
		{name: "Keep nil resource", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Keep[int](ctx, r, nil)
			return err
		}},
		{name: "aio.With nil resource", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error { return aio.With[int](t, nil, body(ran)) })
		}},
		{name: "Iter nil seq", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relIterErr(threadrunner.Iter[int](ctx, r, nil))
		}},
		{name: "Collect nil seq", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				_, err := aio.Collect[int](t, nil)
				return err
			})
		}},
	}
	relRunBadCases(t, tests, relStarted, false)
}

func TestBadInputTypedNilResource(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	// A nil *relResource is a non-nil aio.Resource: its Enter dereferences
	// nil on the loop. That panic must come back to the caller, not crash
	// the loop.
	var res *relResource
	ran := false
	p := relCatch(func() {
		_ = threadrunner.With(testContext(t), r, res, func(int) error {
			ran = true
			return nil
		})
	})
	pe := relPanicError(t, p)
	if _, ok := pe.Value.(runtime.Error); !ok {
		t.Errorf("With(nil *relResource) panicked with %T %v; want the runtime error of Enter", pe.Value, pe.Value)
	}
	if ran {
		t.Error("With ran its body after Enter panicked")
	}
	relServesOn(t, r)
}

func TestBadInputNilRunner(t *testing.T) {
	tests := []relBadCase{
		{name: "Run", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Run(ctx, r, relMarkRan(ran))
			return err
		}},
		{name: "Submit", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Submit(ctx, r, relMarkRan(ran)).Wait(ctx)
			return err
		}},
		{name: "With", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return threadrunner.With(ctx, r, relMarkRes(ran), func(int) error {
				ran.Store(true)
				return nil
			})
		}},
		{name: "Open", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, _, err := threadrunner.Open(ctx, r, relMarkRes(ran))
			return err
		}},
		{name: "Keep", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Keep(ctx, r, relMarkRes(ran))
			return err
		}},
		{name: "Iter", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relIterErr(threadrunner.Iter(ctx, r, relMarkSeq(ran)))
		}},
		{name: "Close", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return r.Close()
		}},
		{name: "Shutdown", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return r.Shutdown(ctx)
		}},
		{name: "Loop", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			if l := r.Loop(); l != nil {
				return fmt.Errorf("Loop() = %v; want nil", l)
			}
			return aio.ErrInvalid // nothing to return an error with: nil is the answer
		}},
	}
	for i := range tests {
		tests[i].want = aio.ErrInvalid
	}
	relRunBadCases(t, tests, func(*testing.T) *threadrunner.Runner { return nil }, true)
	// The error says what is wrong.
	_, err := threadrunner.Run[int](context.Background(), nil, relMarkRan(new(atomic.Bool)))
	if err == nil || !strings.Contains(err.Error(), "nil *Runner") {
		t.Errorf("Run(nil runner) = %v; want an error that says %q", err, "nil *Runner")
	}
}

// relNilContext is a nil context, passed on purpose.
var relNilContext context.Context

// relBadContextCases are the entry points, each made with the ctx it is
// given (a nil, cancelled or expired one in the tests below).
func relBadContextCases(want error) []relBadCase {
	tests := []relBadCase{
		{name: "Run", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Run(ctx, r, relMarkRan(ran))
			return err
		}},
		{name: "Submit", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Submit(ctx, r, relMarkRan(ran)).Wait(context.Background())
			return err
		}},
		{name: "With", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return threadrunner.With(ctx, r, relMarkRes(ran), func(int) error {
				ran.Store(true)
				return nil
			})
		}},
		{name: "Open", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, _, err := threadrunner.Open(ctx, r, relMarkRes(ran))
			return err
		}},
		{name: "Keep", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Keep(ctx, r, relMarkRes(ran))
			return err
		}},
		{name: "Iter", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relIterErr(threadrunner.Iter(ctx, r, relMarkSeq(ran)))
		}},
	}
	for i := range tests {
		tests[i].want = want
	}
	return tests
}

// relWithContext returns the cases with ctx in place of the one the harness
// passes.
func relWithContext(tests []relBadCase, ctx func() context.Context) []relBadCase {
	for i, tt := range tests {
		call := tt.call
		tests[i].call = func(_ context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return call(ctx(), r, ran)
		}
	}
	return tests
}

func TestBadInputEndedContext(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		cancelled := func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}
		relRunBadCases(t, relWithContext(relBadContextCases(context.Canceled), cancelled), relStarted, false)
	})
	t.Run("expired", func(t *testing.T) {
		expired := func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			_ = cancel // the deadline has passed: it is done already
			return ctx
		}
		relRunBadCases(t, relWithContext(relBadContextCases(context.DeadlineExceeded), expired), relStarted, false)
	})
}

func TestBadInputNilContext(t *testing.T) {
	tests := relWithContext(relBadContextCases(aio.ErrInvalid), func() context.Context { return relNilContext })
	tests = append(tests,
		relBadCase{name: "Future.Wait", want: aio.ErrInvalid, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			f := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
			defer f.Cancel()
			_, err := f.Wait(relNilContext)
			return err
		}},
		relBadCase{name: "Shutdown", want: aio.ErrInvalid, closes: true, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			err := r.Shutdown(relNilContext)
			// Whatever Shutdown did, Close must still work.
			closed := make(chan error, 1)
			go func() { closed <- r.Close() }()
			select {
			case cerr := <-closed:
				if cerr != nil {
					return fmt.Errorf("Close() after Shutdown(nil) = %v; want nil", cerr)
				}
			case <-time.After(testTimeout):
				return fmt.Errorf("Close() after Shutdown(nil) hung")
			}
			return err
		}},
	)
	relRunBadCases(t, tests, func(t *testing.T) *threadrunner.Runner {
		r := threadrunner.New()
		relServesOn(t, r)
		t.Cleanup(func() {
			select {
			case <-relClose(r):
			case <-time.After(testTimeout):
				t.Errorf("Close() hung")
			}
		})
		return r
	}, false)
}

// relClose closes r in the background; the channel is closed when Close
// returns.
func relClose(r *threadrunner.Runner) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Close()
	}()
	return done
}

func TestBadInputAfterClose(t *testing.T) {
	for _, started := range []bool{true, false} {
		name := "never started"
		if started {
			name = "started"
		}
		t.Run(name, func(t *testing.T) {
			// What setup opened before closing, for the release case; setup
			// runs right before each case.
			var (
				res     *relResource
				release func(error) error
			)
			tests := append(relBadContextCases(aio.ErrClosed),
				relBadCase{name: "Future.Cancel then Wait", want: aio.ErrClosed, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
					f := threadrunner.Submit(ctx, r, relMarkRan(ran))
					f.Cancel()
					_, err := f.Wait(ctx)
					return err
				}},
			)
			if started {
				tests = append(tests, relBadCase{name: "release", want: aio.ErrClosed, call: func(context.Context, *threadrunner.Runner, *atomic.Bool) error {
					err := release(nil)
					if res.enters != 1 || res.exits != 1 || !errors.Is(res.hows[0], aio.ErrClosed) {
						return fmt.Errorf("entered %d times, exited %d times (told %v); want once each, told ErrClosed by Close", res.enters, res.exits, res.hows)
					}
					return err
				}})
			}
			setup := func(t *testing.T) *threadrunner.Runner {
				r := threadrunner.New()
				if started {
					res = &relResource{id: 1}
					var err error
					if _, release, err = threadrunner.Open(testContext(t), r, res); err != nil {
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
			relRunBadCases(t, tests, setup, true)
		})
	}
}

func TestBadInputOnLoopThread(t *testing.T) {
	tests := []relBadCase{
		{name: "Close", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(*aio.Task) error { return r.Close() })
		}},
		{name: "Shutdown", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error { return r.Shutdown(t.Context()) })
		}},
		{name: "Run", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				_, err := threadrunner.Run(t.Context(), r, relMarkRan(ran))
				return err
			})
		}},
		{name: "Future.Wait", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				f := threadrunner.Submit(t.Context(), r, func(t *aio.Task) (int, error) {
					return 0, aio.Sleep(t, time.Hour) // pending when Wait looks
				})
				defer f.Cancel()
				_, err := f.Wait(t.Context())
				return err
			})
		}},
		{name: "With", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				return threadrunner.With(t.Context(), r, relMarkRes(ran), func(int) error { return nil })
			})
		}},
		{name: "Iter", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return relInTask(ctx, r, func(t *aio.Task) error {
				return relIterErr(threadrunner.Iter(t.Context(), r, relMarkSeq(ran)))
			})
		}},
		{name: "release", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			res := &relResource{id: 1}
			_, release, err := threadrunner.Open(ctx, r, res)
			if err != nil {
				return err
			}
			err = relInTask(ctx, r, func(*aio.Task) error { return release(nil) })
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
	relRunBadCases(t, tests, relStarted, false)
}

func TestBadInputYieldAfterStop(t *testing.T) {
	tests := []struct {
		name string
		opts []aio.Option
	}{
		{"pinned", nil},
		{"unpinned", []aio.Option{aio.Unpinned()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			r := newRunner(t, tt.opts...)
			relCheckYieldAfterStop(t, r)
			relServesOn(t, r)
		})
	}
}
