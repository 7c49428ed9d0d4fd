package aio_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// reentrantBound bounds a re-entrant call that, refused as it should be,
// returns within microseconds: a broken refusal fails the test after it
// instead of hanging it. It is never what the test asserts.
const reentrantBound = 5 * time.Second

// TestReentrantCallsRefused checks semantics 8: a blocking call made on the
// loop's own thread, from a task, returns ErrLoopThread at once rather than
// deadlock, and the loop serves on. Each case runs in the first step of the
// first task of a fresh loop, pinned and unpinned.
func TestReentrantCallsRefused(t *testing.T) {
	cases := []struct {
		name string
		do   func(ctx context.Context, t *aio.Task, ran *bool) error
	}{
		{"Call", func(ctx context.Context, t *aio.Task, ran *bool) error {
			_, err := aio.Call(ctx, t.Loop(), func(*aio.Task) (int, error) {
				*ran = true
				return 0, nil
			})
			return err
		}},
		{"Future.Wait of NewFuture", func(ctx context.Context, t *aio.Task, _ *bool) error {
			f, _ := aio.NewFuture[int](t.Loop())
			_, err := f.Wait(ctx)
			return err
		}},
		{"Future.Wait of a child", func(ctx context.Context, t *aio.Task, _ *bool) error {
			f := aio.Go(t, func(*aio.Task) (int, error) { return 0, nil })
			_, err := f.Wait(ctx)
			return err
		}},
		{"Loop.Close", func(_ context.Context, t *aio.Task, _ *bool) error {
			return t.Loop().Close()
		}},
		{"Loop.Shutdown", func(ctx context.Context, t *aio.Task, _ *bool) error {
			return t.Loop().Shutdown(ctx)
		}},
		{"Stream.Next", func(ctx context.Context, t *aio.Task, _ *bool) error {
			s := aio.OpenStream(ctx, t.Loop(), aio.SliceSeq([]int{1, 2, 3}))
			_, err := s.Next(ctx)
			return err
		}},
		{"Stream.Close", func(ctx context.Context, t *aio.Task, _ *bool) error {
			s := aio.OpenStream(ctx, t.Loop(), aio.SliceSeq([]int{1, 2, 3}))
			return s.Close()
		}},
	}
	loops := []struct {
		name string
		opts []aio.Option
	}{
		{"pinned", nil},
		{"unpinned", []aio.Option{aio.Unpinned()}},
		{"runtime", []aio.Option{aio.ParkInRuntime()}},
	}
	for _, lc := range loops {
		for _, tt := range cases {
			t.Run(lc.name+"/"+tt.name, func(t *testing.T) {
				testkit.Check(t)
				l := aio.Start(lc.opts...)
				t.Cleanup(func() {
					// Bounded: a loop wedged by a broken refusal must not
					// hang the whole test binary.
					ctx, cancel := context.WithTimeout(context.Background(), reentrantBound)
					defer cancel()
					if err := l.Shutdown(ctx); err != nil {
						t.Errorf("Shutdown() = %v; want nil", err)
					}
				})
				ctx, cancel := context.WithTimeout(context.Background(), reentrantBound)
				defer cancel()

				var got error
				ran := false // written on the loop, read after a later Call
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					got, _ = aio.Call(ctx, l, func(t *aio.Task) (error, error) {
						return tt.do(ctx, t, &ran), nil
					})
				}()
				select {
				case <-returned:
				case <-time.After(2 * reentrantBound):
					t.Fatalf("%s on the loop's own thread hung", tt.name)
				}
				if !errors.Is(got, aio.ErrLoopThread) {
					t.Fatalf("%s on the loop's own thread = %v; want ErrLoopThread", tt.name, got)
				}
				if v := call(t, l, func(*aio.Task) (int, error) { return 1, nil }); v != 1 {
					t.Errorf("Call() after the refusal = %d; want 1", v)
				}
				if ran {
					t.Errorf("the function of a refused Call ran")
				}
			})
		}
	}
}

func TestWaitOnLoopForSettledFuture(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Nothing to wait for: no refusal, the outcome is returned.
	type result struct {
		v   int
		err error
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		f := aio.Go(t, func(*aio.Task) (int, error) { return 6, nil })
		if _, err := aio.Await(t, f); err != nil {
			return result{}, err
		}
		v, err := f.Wait(context.Background())
		return result{v, err}, nil
	})
	if got.v != 6 || got.err != nil {
		t.Errorf("Wait() on the loop of a settled future = %v, %v; want 6, nil", got.v, got.err)
	}
}

func TestBlockingCallsFromToThread(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// A ToThread function runs off the loop: it may block on the loop.
	got := call(t, l, func(t *aio.Task) (string, error) {
		gate, open := aio.NewFuture[int](t.Loop())
		aio.Go(t, func(*aio.Task) (int, error) {
			open(2, nil)
			return 0, nil
		})
		return aio.ToThread(t, func(ctx context.Context) (string, error) {
			v, err := aio.Call(ctx, l, func(*aio.Task) (int, error) { return 1, nil })
			if err != nil {
				return "", err
			}
			w, err := gate.Wait(ctx)
			return fmt.Sprint(v, w, l.InLoop()), err
		})
	})
	if want := "1 2 false"; got != want {
		t.Errorf("Call, Wait, InLoop from ToThread = %q; want %q", got, want)
	}
}
