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

func TestCancelledBeforeStartNeverRuns(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, end := range []struct {
		name string
		ctx  func() context.Context
		want error
	}{
		{"cancelled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
		{"deadline", func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
			cancel()
			return ctx
		}, context.DeadlineExceeded},
	} {
		t.Run(end.name, func(t *testing.T) {
			ran := false
			fn := func(*aio.Task) (int, error) { ran = true; return 1, nil }
			if _, err := aio.Call(end.ctx(), l, fn); !errors.Is(err, end.want) {
				t.Errorf("Call() = %v; want %v", err, end.want)
			}
			f := aio.Spawn(end.ctx(), l, fn)
			if !f.Settled() {
				t.Errorf("Spawn(ended ctx): future pending; want settled at once")
			}
			if _, err := f.Wait(context.Background()); !errors.Is(err, end.want) {
				t.Errorf("Spawn().Wait() = %v; want %v", err, end.want)
			}
			call(t, l, func(*aio.Task) (int, error) { return 0, nil }) // the loop has looked at its inbox
			if ran {
				t.Errorf("a function ran although its ctx had ended before the call")
			}
		})
	}
}

// TestCancelledOutcome checks that once a task is cancelled, its error is
// the context's, whatever it returns: its own error is kept alongside, and
// so is its value.
func TestCancelledOutcome(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	tests := []struct {
		name    string
		give    func(sleepErr error) (int, error)
		want    int
		wantErr []error
	}{
		{"returns nil", func(error) (int, error) { return 3, nil }, 3, []error{context.Canceled}},
		{"returns own error", func(error) (int, error) { return 4, testkit.ErrTask }, 4, []error{context.Canceled, testkit.ErrTask}},
		{"returns await's error", func(err error) (int, error) { return 5, err }, 5, []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
				cancel()
				return tt.give(aio.Sleep(t, time.Hour))
			})
			if v != tt.want {
				t.Errorf("Call() = %v; want %v", v, tt.want)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Call() error = %v; want it to be %v", err, want)
				}
			}
		})
	}
}

// TestCallReturnsAfterTaskEnded checks that a cancelled Call still waits
// for its task to end, and that the end synchronizes before Call returns.
func TestCallReturnsAfterTaskEnded(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	ended := false // no lock: the race detector checks the ordering
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		close(started)
		err := aio.Sleep(t, time.Hour)
		ended = true
		return 0, err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
	if !ended {
		t.Errorf("Call() returned before its task ended")
	}
}

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

// TestTaskContextCause checks what context.Cause says of a task's context:
// the loop records ErrClosed as the cause when it cancels a task because it
// closes (see Task.cancelCause).
func TestTaskContextCause(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()

	asleep := make(chan struct{})
	var cause error // written by the task, read after Wait
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(asleep)
		err := aio.Sleep(t, time.Hour)
		cause = context.Cause(t.Context())
		return 0, err
	})
	<-asleep
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait() = %v; want ErrClosed", err)
	}
	if !errors.Is(cause, aio.ErrClosed) {
		t.Errorf("context.Cause(t.Context()) after Close = %v; want ErrClosed", cause)
	}
}

// TestTaskEndedByItsContext checks semantics 5 for a task that ends because
// it saw its context end (through a channel, or in a ToThread function)
// rather than through an await's error: it was cancelled all the same, so
// Call's error must be (errors.Is) the caller's ctx error.
func TestTaskEndedByItsContext(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	watches := []struct {
		name  string
		watch func(t *aio.Task) error
	}{
		{"Recv Done", func(t *aio.Task) error {
			_, _, err := aio.Recv(t, t.Context().Done())
			return err
		}},
		{"ToThread", func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, nil
			})
			return err
		}},
		{"poll Context().Err", func(t *aio.Task) error {
			// A long computation that does not await: it holds the loop.
			return pollUntil(func() bool { return t.Context().Err() != nil })
		}},
	}
	for _, end := range ends {
		for _, w := range watches {
			t.Run(end.name+"/"+w.name, func(t *testing.T) {
				_, _, err := callEnding(l, end.deadline, func(t *aio.Task) (int, error) {
					return 0, w.watch(t) // nil: it saw the end, no await failed
				})
				if !errors.Is(err, end.want) {
					t.Errorf("Call() of a task that ended when its context did = %v; want %v", err, end.want)
				}
			})
		}
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

// TestErrSeenWithoutAwait checks Task.Err's promise: a long computation
// that does not await can poll it to learn that its task was cancelled.
func TestErrSeenWithoutAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	var pollErr, taskErr error // written by the task, read after Call
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		close(started)
		pollErr = pollUntil(func() bool { return t.Err() != nil })
		taskErr = t.Err()
		return 0, nil
	})
	if pollErr != nil || !errors.Is(taskErr, context.Canceled) {
		t.Errorf("polling Err() without awaiting: %v, then Err() = %v; want context.Canceled", pollErr, taskErr)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Call() = %v; want context.Canceled", err)
	}
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
