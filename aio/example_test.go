package aio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

func ExampleRun() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		f := aio.Go(t, func(t *aio.Task) (int, error) {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return 0, err
			}
			return 21, nil
		})
		n, err := aio.Await(t, f)
		return 2 * n, err
	})
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleRun_panic() {
	defer func() {
		pe := recover().(*aio.PanicError)
		fmt.Println("recovered:", pe.Value)
	}()
	aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		panic("boom")
	})
	// Output: recovered: boom
}

func ExampleRun_timeout() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := aio.Run(ctx, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	fmt.Println(err)
	// Output: context deadline exceeded
}

func ExampleGo() {
	sum, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		// Three children run concurrently on the loop.
		var fs []*aio.Future[int]
		for i := 1; i <= 3; i++ {
			fs = append(fs, aio.Go(t, func(t *aio.Task) (int, error) {
				if err := aio.Sleep(t, time.Millisecond); err != nil {
					return 0, err
				}
				return i * i, nil
			}))
		}
		sum := 0
		for _, f := range fs {
			n, err := aio.Await(t, f)
			if err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, nil
	})
	fmt.Println(sum, err)
	// Output: 14 <nil>
}

func ExampleAwait() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (string, error) {
		f := aio.Go(t, func(t *aio.Task) (string, error) { return "", errors.New("not found") })
		_, err := aio.Await(t, f)
		return "awaited", err
	})
	fmt.Println(v, err)
	// Output: awaited not found
}

func ExampleSpawn() {
	l := aio.Start()
	defer l.Close()
	// Spawn returns at once; the task runs on the loop.
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (string, error) {
		return "spawned on " + t.Loop().Name(), nil
	})
	v, err := f.Wait(context.Background())
	fmt.Println(v == "spawned on "+l.Name(), err)
	// Output: true <nil>
}

func ExampleCall() {
	l := aio.Start()
	defer l.Close()
	v, err := aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		return 6 * 7, nil
	})
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleCall_timeout() {
	l := aio.Start()
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		// The deadline cancels the task: its await returns the ctx's error.
		return 0, aio.Sleep(t, time.Hour)
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

func ExampleNewFuture() {
	l := aio.Start()
	defer l.Close()
	v, err := aio.Call(context.Background(), l, func(t *aio.Task) (string, error) {
		f, settle := aio.NewFuture[string](t.Loop())
		// Any goroutine may settle it; the task awaits without blocking the loop.
		go settle("settled from a goroutine", nil)
		return aio.Await(t, f)
	})
	fmt.Println(v, err)
	// Output: settled from a goroutine <nil>
}

func ExampleFuture_Wait() {
	l := aio.Start()
	defer l.Close()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 1, aio.Sleep(t, time.Millisecond)
	})
	v, err := f.Wait(context.Background())
	fmt.Println(v, err)
	// Output: 1 <nil>
}

func ExampleFuture_Cancel() {
	l := aio.Start()
	defer l.Close()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	f.Cancel()
	_, err := f.Wait(context.Background())
	fmt.Println(err)
	// Output: context canceled
}

func ExampleFuture_Done() {
	l := aio.Start()
	defer l.Close()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (string, error) {
		return "done", nil
	})
	select {
	case <-f.Done():
		v, err := f.Wait(context.Background()) // settled: returns at once
		fmt.Println(v, err)
	case <-time.After(time.Minute):
		fmt.Println("timed out")
	}
	// Output: done <nil>
}

func ExampleSleep() {
	order, err := aio.Run(context.Background(), func(t *aio.Task) ([]string, error) {
		var order []string // loop-owned: no lock
		g := aio.NewGroup(t)
		for _, ms := range []int{30, 10, 20} {
			g.Go(func(t *aio.Task) error {
				if err := aio.Sleep(t, time.Duration(ms)*time.Millisecond); err != nil {
					return err
				}
				order = append(order, fmt.Sprint(ms, "ms"))
				return nil
			})
		}
		return order, g.Wait()
	})
	fmt.Println(order, err)
	// Output: [10ms 20ms 30ms] <nil>
}

func ExampleTimeout() {
	_, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		return aio.Timeout(t, 10*time.Millisecond, func(t *aio.Task) (int, error) {
			return 0, aio.Sleep(t, time.Hour)
		})
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

func ExampleToThread() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (string, error) {
		// Blocking work runs on a goroutine of its own; the loop goes on.
		return aio.ToThread(t, func(ctx context.Context) (string, error) {
			time.Sleep(time.Millisecond)
			return strings.ToUpper("blocking work"), nil
		})
	})
	fmt.Println(v, err)
	// Output: BLOCKING WORK <nil>
}

func ExampleRecv() {
	ch := make(chan int)
	go func() {
		for i := 1; i <= 4; i++ {
			ch <- i
		}
		close(ch)
	}()
	sum, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		sum := 0
		for {
			v, ok, err := aio.Recv(t, ch)
			if err != nil || !ok {
				return sum, err
			}
			sum += v
		}
	})
	fmt.Println(sum, err)
	// Output: 10 <nil>
}

func ExampleGroup() {
	err := func() error {
		_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
			g := aio.NewGroup(t)
			g.Go(func(t *aio.Task) error {
				return errors.New("first failure")
			})
			g.Go(func(t *aio.Task) error {
				err := aio.Sleep(t, time.Hour) // cancelled by the failure
				fmt.Println("sibling:", err)
				return err
			})
			return struct{}{}, g.Wait()
		})
		return err
	}()
	fmt.Println("group:", err)
	// Output:
	// sibling: context canceled
	// group: first failure
}

func ExampleNewGroup() {
	n, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		done := 0 // loop-owned: the group's tasks take turns
		g := aio.NewGroup(t)
		for range 5 {
			g.Go(func(t *aio.Task) error {
				if err := aio.Sleep(t, time.Millisecond); err != nil {
					return err
				}
				done++
				return nil
			})
		}
		return done, g.Wait()
	})
	fmt.Println(n, err)
	// Output: 5 <nil>
}

func ExampleQueue() {
	got, err := aio.Run(context.Background(), func(t *aio.Task) ([]int, error) {
		q := aio.NewQueue[int](2) // Put waits while 2 items wait
		producer := aio.Go(t, func(t *aio.Task) (struct{}, error) {
			defer q.Close()
			for i := range 5 {
				if err := q.Put(t, i); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		var got []int
		for {
			v, err := q.Get(t)
			if errors.Is(err, aio.ErrQueueClosed) {
				break
			}
			if err != nil {
				return nil, err
			}
			got = append(got, v)
		}
		_, err := aio.Await(t, producer)
		return got, err
	})
	fmt.Println(got, err)
	// Output: [0 1 2 3 4] <nil>
}

func ExampleNewQueue() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (string, error) {
		q := aio.NewQueue[string](0) // unbounded: TryPut always succeeds
		q.TryPut("a")
		q.TryPut("b")
		first, _ := q.TryGet()
		return fmt.Sprint(first, " then ", q.Len(), " left"), nil
	})
	fmt.Println(v, err)
	// Output: a then 1 left <nil>
}

func ExampleEvent() {
	woken, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		var ready aio.Event // the zero value is ready to use
		woken := 0
		g := aio.NewGroup(t)
		for range 3 {
			g.Go(func(t *aio.Task) error {
				if err := ready.Wait(t); err != nil {
					return err
				}
				woken++
				return nil
			})
		}
		if err := aio.Sleep(t, 0); err != nil { // let the waiters wait
			return 0, err
		}
		ready.Set()
		return woken, g.Wait()
	})
	fmt.Println(woken, err)
	// Output: 3 <nil>
}

func ExampleNewSemaphore() {
	peak, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		sem := aio.NewSemaphore(2)
		holding, peak := 0, 0
		g := aio.NewGroup(t)
		for range 6 {
			g.Go(func(t *aio.Task) error {
				if err := sem.Acquire(t); err != nil {
					return err
				}
				defer sem.Release()
				holding++
				peak = max(peak, holding)
				err := aio.Sleep(t, time.Millisecond)
				holding--
				return err
			})
		}
		return peak, g.Wait()
	})
	fmt.Println("at most", peak, "at once;", err)
	// Output: at most 2 at once; <nil>
}

// countdown is an async generator: it awaits between the values it yields.
func countdown(from int) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		for i := from; i > 0; i-- {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return err
			}
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
}

func ExampleSeq() {
	_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
		// A task consumes a Seq by calling it.
		return struct{}{}, countdown(3)(t, func(v int) bool {
			fmt.Println(v)
			return true
		})
	})
	fmt.Println(err)
	// Output:
	// 3
	// 2
	// 1
	// <nil>
}

func ExampleCollect() {
	vs, err := aio.Run(context.Background(), func(t *aio.Task) ([]int, error) {
		return aio.Collect(t, countdown(4))
	})
	fmt.Println(vs, err)
	// Output: [4 3 2 1] <nil>
}

func ExampleSliceSeq() {
	vs, err := aio.Run(context.Background(), func(t *aio.Task) ([]string, error) {
		return aio.Collect(t, aio.SliceSeq([]string{"a", "b", "c"}))
	})
	fmt.Println(vs, err)
	// Output: [a b c] <nil>
}

func ExampleOpenStream() {
	l := aio.Start()
	defer l.Close()
	ctx := context.Background()
	// Values cross to this goroutine in batches of 2, with 1 batch buffered.
	s := aio.OpenStream(ctx, l, aio.SliceSeq([]int{1, 2, 3, 4, 5}), aio.BatchSize(2), aio.Buffer(1))
	defer s.Close()
	for {
		batch, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(batch)
	}
	// Output:
	// [1 2]
	// [3 4]
	// [5]
}

func ExampleStream() {
	l := aio.Start()
	defer l.Close()
	ctx := context.Background()
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer fmt.Println("generator cleaned up")
		for i := 0; ; i++ {
			if !yield(i) {
				return nil
			}
		}
	}
	s := aio.OpenStream(ctx, l, gen, aio.BatchSize(4), aio.Buffer(1))
	batch, err := s.Next(ctx)
	fmt.Println(batch, err)
	// Close stops the generator and waits for its cleanup.
	fmt.Println(s.Close())
	// Output:
	// [0 1 2 3] <nil>
	// generator cleaned up
	// <nil>
}

// conn is a resource: entered and exited on the loop.
type conn struct{ name string }

func (c *conn) Enter(t *aio.Task) (*conn, error) {
	fmt.Println("open", c.name)
	return c, nil
}

func (c *conn) Exit(t *aio.Task, how error) error {
	fmt.Println("close", c.name, "after", how)
	return nil
}

func ExampleWith() {
	err := func() error {
		_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
			return struct{}{}, aio.With(t, &conn{"db"}, func(c *conn) error {
				fmt.Println("use", c.name)
				return errors.New("query failed")
			})
		})
		return err
	}()
	fmt.Println(err)
	// Output:
	// open db
	// use db
	// close db after query failed
	// query failed
}

func ExampleResource() {
	// *conn implements aio.Resource[*conn].
	var r aio.Resource[*conn] = &conn{"cache"}
	_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
		return struct{}{}, aio.With(t, r, func(c *conn) error { return nil })
	})
	fmt.Println(err)
	// Output:
	// open cache
	// close cache after <nil>
	// <nil>
}

func ExampleResourceFunc() {
	file := aio.ResourceFunc(func(t *aio.Task) (string, error) {
		fmt.Println("enter")
		return "handle", nil
	}, func(t *aio.Task, h string, how error) error {
		fmt.Println("exit", h)
		return nil
	})
	_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
		return struct{}{}, aio.With(t, file, func(h string) error {
			fmt.Println("use", h)
			return nil
		})
	})
	fmt.Println(err)
	// Output:
	// enter
	// use handle
	// exit handle
	// <nil>
}

func ExampleCompleted() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		// A settled future any task may await, from any loop.
		return aio.Await(t, aio.Completed(7, nil))
	})
	fmt.Println(v, err)
	fmt.Println(aio.Completed(0, io.EOF).Wait(context.Background()))
	// Output:
	// 7 <nil>
	// 0 EOF
}

func ExamplePanicError() {
	l := aio.Start()
	defer l.Close()
	defer func() {
		var pe *aio.PanicError
		if err, ok := recover().(error); ok && errors.As(err, &pe) {
			// The value, and the task's stack in pe.Stack.
			fmt.Println("task panicked with", pe.Value, errors.Is(pe, io.ErrUnexpectedEOF))
		}
	}()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		panic(io.ErrUnexpectedEOF)
	})
	// Output: task panicked with unexpected EOF true
}

func ExampleAsPanicError() {
	pe := func() (pe *aio.PanicError) {
		defer func() { pe = aio.AsPanicError(recover()) }()
		panic("oops")
	}()
	fmt.Println(pe.Value, len(pe.Stack) > 0)
	// Output: oops true
}

func ExampleLoop() {
	l := aio.Start(aio.Name("worker"))
	v, err := aio.Call(context.Background(), l, func(t *aio.Task) (string, error) {
		return "ran on " + t.Loop().Name(), nil
	})
	fmt.Println(v, err)
	fmt.Println(l.Close())
	// Output:
	// ran on worker <nil>
	// <nil>
}

func ExampleStart() {
	l := aio.Start()
	defer l.Close()
	// Start returns once the loop runs, on a thread of its own.
	fmt.Println(l.Pinned(), l.ThreadID() != 0)
	// Output: true true
}

func ExampleNewLoop() {
	l := aio.NewLoop()
	// Work posted before Serve waits for it.
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (string, error) { return "served", nil })
	served := make(chan error)
	go func() { served <- l.Serve() }() // Serve runs the loop on this goroutine
	fmt.Println(f.Wait(context.Background()))
	fmt.Println(l.Close(), <-served)
	// Output:
	// served <nil>
	// <nil> <nil>
}

func ExampleLoop_Serve() {
	l := aio.NewLoop(aio.Name("main-loop"))
	go func() {
		v, err := aio.Call(context.Background(), l, func(t *aio.Task) (string, error) {
			return t.Loop().Name(), nil
		})
		fmt.Println(v, err)
		l.Close()
	}()
	fmt.Println(l.Serve()) // returns once the loop is closed
	// Output:
	// main-loop <nil>
	// <nil>
}

func ExampleLoop_Close() {
	l := aio.Start()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	fmt.Println(l.Close()) // cancels the task and waits for it
	_, err := f.Wait(context.Background())
	fmt.Println(errors.Is(err, aio.ErrClosed), errors.Is(err, context.Canceled))
	_, err = aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 1, nil })
	fmt.Println(err)
	// Output:
	// <nil>
	// true true
	// aio: loop closed
}

func ExampleLoop_InLoop() {
	l := aio.Start()
	defer l.Close()
	inside, _ := aio.Call(context.Background(), l, func(t *aio.Task) (bool, error) {
		return l.InLoop(), nil
	})
	fmt.Println(l.InLoop(), inside)
	// Output: false true
}

func ExampleErrLoopThread() {
	l := aio.Start()
	defer l.Close()
	err, _ := aio.Call(context.Background(), l, func(t *aio.Task) (error, error) {
		// Waiting for the loop from the loop would deadlock: refused.
		_, err := aio.Call(t.Context(), l, func(*aio.Task) (int, error) { return 1, nil })
		return err, nil
	})
	fmt.Println(errors.Is(err, aio.ErrLoopThread))
	// Output: true
}

func ExampleTask_Context() {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "request-42")
	v, err := aio.Run(ctx, func(t *aio.Task) (string, error) {
		// The task's context carries the values of the caller's.
		return t.Context().Value(key{}).(string), nil
	})
	fmt.Println(v, err)

	l := aio.Start()
	defer l.Close()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (error, error) {
		aio.Sleep(t, time.Hour) // returns once the task is cancelled
		return t.Context().Err(), nil
	})
	f.Cancel()
	ctxErr, err := f.Wait(context.Background())
	fmt.Println(ctxErr, errors.Is(err, context.Canceled))
	// Output:
	// request-42 <nil>
	// context canceled true
}

func ExampleUnpinned() {
	l := aio.Start(aio.Unpinned())
	defer l.Close()
	// Tasks still run one at a time, but the OS thread may change.
	fmt.Println(l.Pinned(), l.ThreadID())
	// Output: false 0
}

func ExampleOption_conflict() {
	// Options are checked together: a loop that parks in the runtime does
	// not spin, so asking for both is refused, and the loop says why.
	l := aio.Start(aio.ParkInRuntime(), aio.Spin(time.Millisecond))
	_, err := aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 1, nil })
	fmt.Println(errors.Is(err, aio.ErrInvalid))
	fmt.Println(l.Close() == err)
	// Output:
	// true
	// true
}

func ExampleName() {
	l := aio.Start(aio.Name("gl"))
	defer l.Close()
	fmt.Println(l.Name(), l)
	// Output: gl gl
}

func ExampleWorkers() {
	var running, peak atomic.Int32
	_, err := aio.Run(context.Background(), func(t *aio.Task) (struct{}, error) {
		g := aio.NewGroup(t)
		for range 4 {
			g.Go(func(t *aio.Task) error {
				_, err := aio.ToThread(t, func(context.Context) (int, error) {
					n := running.Add(1)
					if n > peak.Load() {
						peak.Store(n)
					}
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return 0, nil
				})
				return err
			})
		}
		return struct{}{}, g.Wait()
	}, aio.Workers(1))
	fmt.Println("at most", peak.Load(), "at once;", err)
	// Output: at most 1 at once; <nil>
}

// messages is a slog.Handler that reports the message of each record to fn,
// for examples whose output must not hold times, stacks or durations.
type messages func(msg string)

func (m messages) Enabled(context.Context, slog.Level) bool { return true }
func (m messages) Handle(_ context.Context, r slog.Record) error {
	m(r.Message)
	return nil
}
func (m messages) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m messages) WithGroup(string) slog.Handler      { return m }

func ExampleSlowTask() {
	var reported atomic.Bool
	logger := slog.New(messages(func(msg string) {
		if strings.Contains(msg, "block") {
			reported.Store(true)
		}
	}))
	_, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		time.Sleep(20 * time.Millisecond) // blocks the loop: a bug SlowTask reports
		return 0, nil
	}, aio.SlowTask(5*time.Millisecond), aio.Logger(logger))
	fmt.Println("reported:", reported.Load(), err)
	// Output: reported: true <nil>
}

func ExampleSpin() {
	// No spinning: an idle caller or loop parks at once.
	l := aio.Start(aio.Spin(0))
	defer l.Close()
	fmt.Println(aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 1, nil }))
	// Output: 1 <nil>
}

func ExampleParkInRuntime() {
	// The loop waits in the Go scheduler, as testing/synctest needs.
	l := aio.Start(aio.ParkInRuntime())
	defer l.Close()
	fmt.Println(aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		return 2, aio.Sleep(t, time.Millisecond)
	}))
	// Output: 2 <nil>
}

func ExampleLogger() {
	logger := slog.New(messages(func(msg string) { fmt.Println("logged:", msg) }))
	l := aio.Start(aio.Logger(logger))
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) { panic("lost") })
	<-f.Done() // nobody looks at its outcome
	err := l.Close()
	var pe *aio.PanicError
	fmt.Println(errors.As(err, &pe), pe.Value)
	// Output:
	// logged: aio: task panicked and nobody retrieved the panic
	// true lost
}

func ExampleLoop_Post() {
	l := aio.Start()
	defer l.Close()
	// Callbacks run on the loop, in order of posting, without a task each.
	var order []int // loop-owned
	for i := range 3 {
		l.Post(func() { order = append(order, i) })
	}
	l.Do(context.Background(), func() { fmt.Println(order) })
	// Output: [0 1 2]
}

func ExampleLoop_Do() {
	l := aio.Start()
	defer l.Close()
	count := 0 // loop-owned: only callbacks and tasks of l touch it
	for range 5 {
		if err := l.Do(context.Background(), func() { count++ }); err != nil {
			fmt.Println(err)
		}
	}
	l.Do(context.Background(), func() { fmt.Println("count:", count) })
	// Output: count: 5
}

func ExampleLoop_AfterFunc() {
	l := aio.Start()
	defer l.Close()
	fired := make(chan string, 1)
	stop := l.AfterFunc(time.Hour, func() { fired <- "never" })
	fmt.Println("stopped:", stop())
	l.AfterFunc(time.Millisecond, func() { fired <- "fired on the loop" })
	fmt.Println(<-fired)
	// Output:
	// stopped: true
	// fired on the loop
}

func ExampleFuture_OnSettle() {
	l := aio.Start()
	defer l.Close()
	f, settle := aio.NewFuture[string](l)
	done := make(chan struct{})
	// No task waits meanwhile: the callback runs on the loop once f settles.
	f.OnSettle(func(v string, err error) {
		fmt.Println(v, err, l.InLoop())
		close(done)
	})
	settle("settled", nil)
	<-done
	// Output: settled <nil> true
}

func ExampleSelect() {
	v, err := aio.Run(context.Background(), func(t *aio.Task) (string, error) {
		ch := make(chan string, 1)
		slow := aio.Go(t, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
		var ev aio.Event
		aio.Go(t, func(t *aio.Task) (int, error) { ch <- "from the channel"; return 0, nil })
		var got string
		i, err := aio.Select(t, aio.Settles(slow), aio.IsSet(&ev), aio.Receive(ch, &got, nil), aio.After(time.Minute))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("case %d: %s", i, got), nil
	})
	fmt.Println(v, err)
	// Output: case 2: from the channel <nil>
}

func ExampleNoAwait() {
	_, err := aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		var p any
		aio.NoAwait(t, func() {
			// Foreign code (a cgo library, a JavaScript VM) calls back into Go
			// here; an await would suspend the task in the middle of it.
			defer func() { p = recover() }()
			aio.Sleep(t, time.Millisecond)
		})
		fmt.Println(strings.Contains(fmt.Sprint(p), "inside NoAwait"))
		return 0, aio.Sleep(t, 0) // outside NoAwait, awaits work again
	})
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

func ExampleShield() {
	ctx, cancel := context.WithCancel(context.Background())
	l := aio.Start()
	defer l.Close()
	started := make(chan struct{})
	f := aio.Spawn(ctx, l, func(t *aio.Task) (string, error) {
		close(started)
		err := aio.Sleep(t, time.Hour) // cancelled
		// The task is cancelled, yet its cleanup may still await, within a
		// grace of a second.
		cleanup := aio.Shield(t, time.Second, func(t *aio.Task) error {
			return aio.Sleep(t, time.Millisecond) // say goodbye to a peer
		})
		return fmt.Sprintf("cancelled: %v, cleanup: %v", err, cleanup), nil
	})
	<-started
	cancel()
	v, _ := f.Wait(context.Background())
	fmt.Println(v)
	// Output: cancelled: context canceled, cleanup: <nil>
}

func ExampleOnClose() {
	l := aio.Start()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		_, err := aio.OnClose(t, func(t *aio.Task) error {
			// Runs at Close, before the loop cancels its tasks; it may await.
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return err
			}
			fmt.Println("closed the connection")
			return nil
		})
		return 0, err
	})
	fmt.Println(l.Close())
	// Output:
	// closed the connection
	// <nil>
}

func ExampleEnter() {
	res := aio.ResourceFunc(
		func(t *aio.Task) (context.Context, error) { return t.Context(), nil }, // e.g. an HTTP request's
		func(t *aio.Task, ctx context.Context, how error) error { return nil })
	l := aio.Start()
	defer l.Close()
	// Entered by one task, exited by another: what Enter made with its
	// context stays usable until then.
	var exit func(*aio.Task, error) error
	ctx, _ := aio.Call(context.Background(), l, func(t *aio.Task) (context.Context, error) {
		ctx, x, err := aio.Enter(t, res)
		exit = x
		return ctx, err
	})
	fmt.Println("after Enter's task:", ctx.Err())
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 0, exit(t, nil) })
	fmt.Println("after exit:", ctx.Err())
	// Output:
	// after Enter's task: <nil>
	// after exit: context canceled
}

func ExampleLoop_Tasks() {
	l := aio.Start()
	defer l.Close()
	nap := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		t.SetName("napper")
		return 0, aio.Sleep(t, time.Hour)
	})
	defer nap.Cancel()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
	tasks, err := l.Tasks(context.Background())
	for _, ti := range tasks {
		fmt.Println(ti.Name, ti.State, ti.Awaiting, !ti.Until.IsZero(), strings.Contains(ti.Stack, "aio.Sleep"))
	}
	fmt.Println(err)
	// Output:
	// napper suspended Sleep true true
	// <nil>
}

func ExampleLoop_WriteTasks() {
	l := aio.Start()
	defer l.Close()
	// A debug endpoint that shows what the loop is doing.
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/tasks", func(w http.ResponseWriter, _ *http.Request) { l.WriteTasks(w) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	nap := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		t.SetName("napper")
		return 0, aio.Sleep(t, time.Hour)
	})
	defer nap.Cancel()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
	resp, err := http.Get(srv.URL + "/debug/tasks")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	first, _, _ := strings.Cut(string(body), "\n")
	fmt.Println(strings.TrimPrefix(first, l.Name()+": "))
	fmt.Println(strings.Contains(string(body), "(napper), suspended"), strings.Contains(string(body), "in Sleep until"))
	// Output:
	// 1 live tasks
	// true true
}

func ExampleProfileLabels() {
	// While a task's step runs, the loop's thread carries the pprof labels
	// aio.task (the task's name) and aio.loop: a CPU profile tells the
	// tasks of a busy loop apart (go tool pprof -tags cpu.pprof, or
	// -tagfocus=aio.task=page).
	l := aio.Start(aio.ProfileLabels(), aio.Name("render"))
	defer l.Close()
	f, _ := os.Create("cpu.pprof")
	defer f.Close()
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		t.SetName("page")
		return renderPage(), nil
	})
}

func renderPage() int { return 0 }

func ExampleLoop_Stats() {
	l := aio.Start()
	for range 3 {
		aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { return 0, nil })
	}
	l.Do(context.Background(), func() {})
	s := l.Stats() // any goroutine, any time; it may lag a busy loop by a few rounds
	fmt.Println(s.Started <= 3)
	l.Close()
	s = l.Stats() // exact once the loop is idle, or closed
	fmt.Println(s.Started, s.Ended, s.Tasks, s.Callbacks)
	// Output:
	// true
	// 3 3 0 1
}

func ExampleTask_Err() {
	l := aio.Start()
	defer l.Close()
	started := make(chan struct{})
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(started)
		n := 0
		// A long computation that never awaits polls Err: it sees the
		// Cancel while it still runs.
		for t.Err() == nil {
			n++
		}
		return n, t.Err()
	})
	<-started
	f.Cancel()
	_, err := f.Wait(context.Background())
	fmt.Println(err)
	// Output: context canceled
}

func ExampleBatchSize() {
	l := aio.Start()
	defer l.Close()
	s := aio.OpenStream(context.Background(), l, aio.SliceSeq([]int{1, 2, 3, 4, 5}), aio.BatchSize(2), aio.Buffer(1))
	defer s.Close()
	for {
		b, err := s.Next(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(b)
	}
	// Output:
	// [1 2]
	// [3 4]
	// [5]
	// EOF
}
