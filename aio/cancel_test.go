package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// # Every await ends with the context's error (semantics 5)

// awaitCase is one kind of await that blocks until its task is cancelled.
type awaitCase struct {
	name  string
	await func(t *aio.Task) error
}

// blockingAwaits returns one of each kind of await, each set up so that it
// can only end by cancellation.
func blockingAwaits(l *aio.Loop) []awaitCase {
	never, _ := aio.NewFuture[int](l)
	return []awaitCase{
		{"Sleep", func(t *aio.Task) error { return aio.Sleep(t, time.Hour) }},
		{"Await NewFuture", func(t *aio.Task) error { _, err := aio.Await(t, never); return err }},
		{"Await child", func(t *aio.Task) error {
			_, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (int, error) {
				return 0, aio.Sleep(t, time.Hour)
			}))
			return err
		}},
		{"Await other task", func(t *aio.Task) error {
			// Not a child: it goes on, and the loop's Close ends it.
			_, err := aio.Await(t, aio.Spawn(context.Background(), t.Loop(), func(t *aio.Task) (int, error) {
				return 0, aio.Sleep(t, time.Hour)
			}))
			return err
		}},
		{"Recv", func(t *aio.Task) error { _, _, err := aio.Recv(t, make(chan int)); return err }},
		{"Recv nil channel", func(t *aio.Task) error { _, _, err := aio.Recv[int](t, nil); return err }},
		{"Queue.Get", func(t *aio.Task) error { _, err := aio.NewQueue[int](1).Get(t); return err }},
		{"Queue.Put", func(t *aio.Task) error {
			q := aio.NewQueue[int](1)
			if err := q.Put(t, 1); err != nil {
				return errors.Join(testkit.ErrTask, err)
			}
			return q.Put(t, 2)
		}},
		{"Event.Wait", func(t *aio.Task) error { return new(aio.Event).Wait(t) }},
		{"Semaphore.Acquire", func(t *aio.Task) error {
			s := aio.NewSemaphore(1)
			if err := s.Acquire(t); err != nil {
				return errors.Join(testkit.ErrTask, err)
			}
			return s.Acquire(t)
		}},
		{"ToThread", func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
			return err
		}},
		{"Group.Wait", func(t *aio.Task) error {
			g := aio.NewGroup(t)
			g.Go(func(t *aio.Task) error { return aio.Sleep(t, time.Hour) })
			return g.Wait()
		}},
		{"Timeout", func(t *aio.Task) error {
			_, err := aio.Timeout(t, time.Hour, func(t *aio.Task) (int, error) {
				return 0, aio.Sleep(t, time.Hour)
			})
			return err
		}},
		{"With", func(t *aio.Task) error {
			r := aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, nil)
			return aio.With(t, r, func(int) error { return aio.Sleep(t, time.Hour) })
		}},
		{"Collect", func(t *aio.Task) error {
			_, err := aio.Collect(t, func(t *aio.Task, yield func(int) bool) error {
				yield(1)
				return aio.Sleep(t, time.Hour)
			})
			return err
		}},
	}
}

// TestCancelEndsEveryAwait checks semantics 5: when the caller's ctx ends,
// the task's context is done and its await returns that context's error:
// context.Canceled for a cancellation, context.DeadlineExceeded (and not
// Canceled) for a deadline; Call returns an error that errors.Is the ctx's.
func TestCancelEndsEveryAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, end := range ends {
		for _, tt := range blockingAwaits(l) {
			t.Run(end.name+"/"+tt.name, func(t *testing.T) {
				type seen struct {
					awaitErr, ctxErr error
					value            any
				}
				var got seen // written by the task, read after Call
				ctx, v, err := callEnding(l, end.deadline, func(t *aio.Task) (int, error) {
					got.awaitErr = tt.await(t)
					got.ctxErr = t.Context().Err()
					got.value = t.Context().Value(testkit.CtxKey{})
					return 1, got.awaitErr
				})
				if v != 1 || !errors.Is(err, end.want) || !errors.Is(err, ctx.Err()) || errors.Is(err, end.notWant) {
					t.Errorf("Call() = %v, %v; want 1, %v", v, err, end.want)
				}
				if !errors.Is(got.awaitErr, end.want) || errors.Is(got.awaitErr, end.notWant) {
					t.Errorf("await = %v; want %v", got.awaitErr, end.want)
				}
				if got.ctxErr != end.want {
					t.Errorf("Context().Err() after the await = %v; want %v", got.ctxErr, end.want)
				}
				if got.value != "v" {
					t.Errorf("Context().Value() = %v; want %q", got.value, "v")
				}
			})
		}
	}
}

// ends are the two ways a caller's context ends.
var ends = []struct {
	name     string
	deadline bool
	want     error
	notWant  error
}{
	{"cancel", false, context.Canceled, context.DeadlineExceeded},
	{"deadline", true, context.DeadlineExceeded, context.Canceled},
}

// callEnding runs fn with Call under a context, carrying ctxKey's value "v",
// that ends once fn has started: cancelled then, or at a deadline. A
// deadline is fixed before the call, and on a loaded machine it may pass
// before the task starts (which then never runs): callEnding then tries
// again with a longer one. It returns the context and Call's outcome.
func callEnding[T any](l *aio.Loop, deadline bool, fn func(t *aio.Task) (T, error)) (context.Context, T, error) {
	for d := 5 * time.Millisecond; ; d *= 2 {
		base := context.WithValue(context.Background(), testkit.CtxKey{}, "v")
		ctx, cancel := context.WithCancel(base)
		if deadline {
			ctx, cancel = context.WithTimeout(base, d)
		}
		started := make(chan struct{})
		if !deadline {
			go func() {
				select {
				case <-started:
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		ran := false // written on the loop, read after Call
		v, err := aio.Call(ctx, l, func(t *aio.Task) (T, error) {
			ran = true
			close(started)
			return fn(t)
		})
		cancel()
		if ran || d > testkit.Timeout {
			return ctx, v, err
		}
	}
}

// # What a cancellation reaches

func TestCancelReachesNextAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Cancelled while it runs, not awaiting: the next await sees it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		cancel()
		<-ctx.Done()
		if err := aio.Sleep(t, time.Hour); !errors.Is(err, context.Canceled) {
			return 0, errors.Join(testkit.ErrTask, err)
		}
		// And every await after it, at once.
		if _, _, err := aio.Recv(t, make(chan int)); !errors.Is(err, context.Canceled) {
			return 0, errors.Join(testkit.ErrTask, err)
		}
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, testkit.ErrTask) {
		t.Errorf("Call() = %v; want context.Canceled only", err)
	}
}

func TestCancelReachesDescendants(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs [3]error // child, grandchild, group task; read after Call
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		child := aio.Go(t, func(t *aio.Task) (int, error) {
			grandchild := aio.Go(t, func(t *aio.Task) (int, error) {
				errs[1] = aio.Sleep(t, time.Hour)
				return 0, errs[1]
			})
			errs[0] = aio.Sleep(t, time.Hour)
			aio.Await(t, grandchild) // returns at once: t is cancelled
			return 0, errs[0]
		})
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error {
			errs[2] = aio.Sleep(t, time.Hour)
			return errs[2]
		})
		aio.Sleep(t, 0) // let them start
		cancel()
		groupErr := g.Wait()
		_, childErr := aio.Await(t, child) // cancelled: returns at once
		return 0, errors.Join(groupErr, childErr)
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("descendant %d: Sleep() = %v; want context.Canceled", i, err)
		}
	}
}

func TestCancelSparesOtherTasks(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	gate, open := aio.NewFuture[int](l)
	await := func(t *aio.Task) (int, error) { return aio.Await(t, gate) }
	victim := aio.Spawn(context.Background(), l, await)
	sibling := aio.Spawn(context.Background(), l, await)
	var child *aio.Future[int]
	parent := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		child = aio.Go(t, await)
		return aio.Await(t, child)
	})
	victim.Cancel()
	if _, err := victim.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled task: Wait() = %v; want context.Canceled", err)
	}
	open(8, nil)
	if v, err := sibling.Wait(testkit.Context(t)); v != 8 || err != nil {
		t.Errorf("other task: Wait() = %v, %v; want 8, nil", v, err)
	}
	if v, err := parent.Wait(testkit.Context(t)); v != 8 || err != nil {
		t.Errorf("other task's child: Wait() = %v, %v; want 8, nil", v, err)
	}
}

// # Task.Err: a cancellation seen without awaiting

func TestTaskErr(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	ctx, cancel := context.WithCancel(testkit.Context(t))
	f := aio.Spawn(ctx, l, func(t *aio.Task) ([2]error, error) {
		before := t.Err()
		cancel()
		// A task that never awaits polls Err; yielding lets the loop
		// deliver the cancellation.
		for t.Err() == nil {
			aio.Sleep(t, 0)
		}
		return [2]error{before, t.Err()}, nil
	})
	got, err := f.Wait(testkit.Context(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %v; want context.Canceled", err)
	}
	if got[0] != nil || !errors.Is(got[1], context.Canceled) {
		t.Errorf("Err() before and after cancellation = %v, %v; want nil, context.Canceled", got[0], got[1])
	}
}

// TestErrSeenWithoutAwait checks Task.Err's promise: a long computation
// that does not await can poll it to learn that its task was cancelled, or
// that its caller's deadline passed.
func TestErrSeenWithoutAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, end := range ends {
		t.Run(end.name, func(t *testing.T) {
			var pollErr, taskErr error // written by the task, read after Call
			_, _, err := callEnding(l, end.deadline, func(t *aio.Task) (int, error) {
				pollErr = pollUntil(func() bool { return t.Err() != nil })
				taskErr = t.Err()
				return 0, nil
			})
			if pollErr != nil || !errors.Is(taskErr, end.want) {
				t.Errorf("polling Err() without awaiting: %v, then Err() = %v; want %v", pollErr, taskErr, end.want)
			}
			if !errors.Is(err, end.want) {
				t.Errorf("Call() = %v; want %v", err, end.want)
			}
		})
	}
}

// pollUntil spins until cond holds, or fails after reentrantBound: for code
// that must see a change while it holds the loop, without awaiting.
func pollUntil(cond func() bool) error {
	deadline := time.Now().Add(reentrantBound)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("the change never showed while the step ran")
		}
		runtime.Gosched()
	}
	return nil
}

// TestErrSeesCancelAndCloseDuringStep checks that a task that never awaits
// sees in Err, while its step still runs, a Future.Cancel of it or of a task
// it descends from, and the loop's Close, not only its caller's context:
// the loop cannot apply them until the step yields.
func TestErrSeesCancelAndCloseDuringStep(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(l *aio.Loop, f *aio.Future[error])
	}{
		{"Future.Cancel", func(_ *aio.Loop, f *aio.Future[error]) { f.Cancel() }},
		{"Close", func(l *aio.Loop, _ *aio.Future[error]) { go l.Close() }},
	}
	for _, tt := range tests {
		for _, child := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/child=%v", tt.name, child), func(t *testing.T) {
				testkit.Check(t)
				l := aio.Start()
				defer l.Close()
				started := make(chan struct{})
				poll := func(t *aio.Task) (error, error) {
					close(started)
					if err := pollUntil(func() bool { return t.Err() != nil }); err != nil {
						return err, nil
					}
					if err := t.Err(); !errors.Is(err, context.Canceled) {
						return fmt.Errorf("Err() = %v; want context.Canceled", err), nil
					}
					return nil, nil
				}
				body := poll
				if child {
					body = func(t *aio.Task) (error, error) {
						f := aio.Go(t, poll)
						v, _ := aio.Await(t, f)
						return v, nil
					}
				}
				f := aio.Spawn(context.Background(), l, body)
				<-started
				tt.cancel(l, f)
				got, _ := f.Wait(testkit.Context(t))
				if got != nil {
					t.Error(got)
				}
			})
		}
	}
}
