package aio_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// panickingTask panics with v; its name shows in the PanicError's stack.
func panickingTask(v any) func(*aio.Task) (int, error) {
	return func(*aio.Task) (int, error) { panic(v) }
}

// TestPanicRepanicsInWaiter checks semantics 4: a task's panic becomes a
// *PanicError with its value and the task's stack, re-panicked in whoever
// waits for the task, and the loop serves on.
func TestPanicRepanicsInWaiter(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	waiters := []struct {
		name string
		wait func(ctx context.Context, fn func(*aio.Task) (int, error))
	}{
		{"Call", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			aio.Call(ctx, l, fn)
		}},
		{"Future.Wait", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			aio.Spawn(ctx, l, fn).Wait(ctx)
		}},
		{"Future.Wait after Done", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			f := aio.Spawn(ctx, l, fn)
			<-f.Done()
			f.Wait(ctx)
		}},
		{"Await", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			// The awaiting task re-panics, and so does Call in turn.
			aio.Call(ctx, l, func(t *aio.Task) (int, error) { return aio.Await(t, aio.Go(t, fn)) })
		}},
		{"Timeout", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			aio.Call(ctx, l, func(t *aio.Task) (int, error) { return aio.Timeout(t, testkit.Timeout, fn) })
		}},
		{"Group.Wait", func(ctx context.Context, fn func(*aio.Task) (int, error)) {
			aio.Call(ctx, l, func(t *aio.Task) (int, error) {
				g := aio.NewGroup(t)
				g.Go(func(t *aio.Task) error { _, err := fn(t); return err })
				return 0, g.Wait()
			})
		}},
	}
	for _, w := range waiters {
		t.Run(w.name, func(t *testing.T) {
			p := testkit.RecoverPanic(func() { w.wait(testkit.Context(t), panickingTask("boom")) })
			pe := panicError(t, p)
			if pe.Value != "boom" {
				t.Errorf("PanicError.Value = %v; want %q", pe.Value, "boom")
			}
			if !strings.Contains(string(pe.Stack), "panickingTask") {
				t.Errorf("PanicError.Stack does not show the panicking function:\n%s", pe.Stack)
			}
			if msg := pe.Error(); !strings.Contains(msg, "boom") || !strings.Contains(msg, "panickingTask") {
				t.Errorf("Error() = %q; want the value and the stack", msg)
			}
			checkLoopServes(t, l)
		})
	}
}

func TestPanicErrorUnwrap(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	p := testkit.RecoverPanic(func() { aio.Call(testkit.Context(t), l, panickingTask(testkit.ErrTask)) })
	pe := panicError(t, p)
	if !errors.Is(pe, testkit.ErrTask) || pe.Unwrap() != testkit.ErrTask {
		t.Errorf("PanicError of panic(testkit.ErrTask): errors.Is = false or Unwrap() = %v; want testkit.ErrTask", pe.Unwrap())
	}
	p = testkit.RecoverPanic(func() { aio.Call(testkit.Context(t), l, panickingTask(42)) })
	if pe := panicError(t, p); pe.Unwrap() != nil || pe.Value != 42 {
		t.Errorf("PanicError of panic(42): Value = %v, Unwrap() = %v; want 42, nil", pe.Value, pe.Unwrap())
	}
}

func TestPanicNil(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	p := testkit.RecoverPanic(func() { aio.Call(testkit.Context(t), l, panickingTask(nil)) })
	pe := panicError(t, p)
	var nilErr *runtime.PanicNilError
	if !errors.As(pe, &nilErr) {
		t.Errorf("PanicError.Value of panic(nil) = %T %v; want *runtime.PanicNilError", pe.Value, pe.Value)
	}
	checkLoopServes(t, l)
}

func TestAsPanicError(t *testing.T) {
	pe := &aio.PanicError{Value: "v", Stack: []byte("stack")}
	if got := aio.AsPanicError(pe); got != pe {
		t.Errorf("AsPanicError(pe) = %p; want pe itself, %p", got, pe)
	}
	var got *aio.PanicError
	func() {
		defer func() { got = aio.AsPanicError(recover()) }()
		panic("here")
	}()
	if got.Value != "here" || !strings.Contains(string(got.Stack), "TestAsPanicError") {
		t.Errorf("AsPanicError(recovered) = %v with stack\n%s\nwant value %q and this test's stack", got.Value, got.Stack, "here")
	}
}

func TestPanicRecoveredInTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// A task may recover the panic of a task it awaits and go on.
	got := call(t, l, func(t *aio.Task) (any, error) {
		var p any
		func() {
			defer func() { p = recover() }()
			aio.Await(t, aio.Go(t, panickingTask("inner")))
		}()
		pe, ok := p.(*aio.PanicError)
		if !ok {
			return p, testkit.ErrTask
		}
		return pe.Value, aio.Sleep(t, 0)
	})
	if got != "inner" {
		t.Errorf("recovered in the awaiting task: %v; want %q", got, "inner")
	}
}

func TestPanicWaitedTwice(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Every waiter of a panicked task gets the same panic.
	f := aio.Spawn(testkit.Context(t), l, panickingTask("twice"))
	for i := range 2 {
		pe := panicError(t, testkit.RecoverPanic(func() { f.Wait(testkit.Context(t)) }))
		if pe.Value != "twice" {
			t.Errorf("Wait() #%d panicked with %v; want %q", i+1, pe.Value, "twice")
		}
	}
}

// TestGoexitInTask checks that runtime.Goexit in a task (what t.FailNow
// does) does not kill the loop: whoever waits for the task calls
// runtime.Goexit in turn, and the loop serves on.
func TestGoexitInTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	exiting := func(*aio.Task) (int, error) {
		runtime.Goexit()
		return 0, nil
	}
	waiters := []struct {
		name string
		wait func(ctx context.Context)
	}{
		{"Call", func(ctx context.Context) { aio.Call(ctx, l, exiting) }},
		{"Future.Wait", func(ctx context.Context) { aio.Spawn(ctx, l, exiting).Wait(ctx) }},
		{"Await", func(ctx context.Context) {
			aio.Call(ctx, l, func(t *aio.Task) (int, error) { return aio.Await(t, aio.Go(t, exiting)) })
		}},
		{"Group.Wait", func(ctx context.Context) {
			aio.Call(ctx, l, func(t *aio.Task) (int, error) {
				g := aio.NewGroup(t)
				g.Go(func(t *aio.Task) error { _, err := exiting(t); return err })
				return 0, g.Wait()
			})
		}},
	}
	for _, w := range waiters {
		t.Run(w.name, func(t *testing.T) {
			if goexited, _ := testkit.Goexits(func() { w.wait(testkit.Context(t)) }); !goexited {
				t.Errorf("the waiter returned; want it to call runtime.Goexit")
			}
			checkLoopServes(t, l)
		})
	}
}

// TestGoexitInTaskOfClosedLoop checks that a loop whose task called
// runtime.Goexit still closes cleanly.
func TestGoexitInTaskOfClosedLoop(t *testing.T) {
	testkit.Check(t)
	l := aio.NewLoop()
	served := make(chan bool, 1)
	go func() {
		returned := false
		defer func() { served <- returned }()
		l.Serve()
		returned = true
	}()
	f := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) {
		runtime.Goexit()
		return 0, nil
	})
	<-f.Done()
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	// Serve goes on with the task's Goexit once the loop has stopped.
	if <-served {
		t.Errorf("Serve() returned; want it to call runtime.Goexit, as the task did")
	}
}

// TestUnretrievedPanic checks that a panic nobody waits for is logged with
// its stack when the loop closes, and returned by Close; a retrieved one is
// not.
func TestUnretrievedPanic(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := aio.Start(aio.Logger(logs.Logger()))

	lost := aio.Spawn(context.Background(), l, panickingTask("lost"))
	seen := aio.Spawn(context.Background(), l, panickingTask("seen"))
	<-lost.Done() // Done is not a retrieval
	testkit.RecoverPanic(func() { seen.Wait(context.Background()) })

	err := l.Close()
	runtime.KeepAlive(lost) // a future collected first is logged then, not at Close
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "lost" {
		t.Fatalf("Close() = %v; want the *PanicError of the lost panic", err)
	}
	if strings.Contains(err.Error(), "seen") {
		t.Errorf("Close() = %v; want only the panic nobody retrieved", err)
	}
	got := logs.String()
	if !strings.Contains(got, "lost") || !strings.Contains(got, "panickingTask") {
		t.Errorf("log = %q; want the lost panic with its stack", got)
	}
	if !strings.Contains(got, `task="task `) {
		t.Errorf("log = %q; want it to name the task that panicked", got)
	}
	if strings.Contains(got, "seen") {
		t.Errorf("log = %q; want no word of the retrieved panic", got)
	}
	if again := l.Close(); !errors.Is(again, pe) {
		t.Errorf("second Close() = %v; want the same error", again)
	}
}

func TestPanicInChildNobodyAwaits(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := aio.Start(aio.Logger(logs.Logger()))

	// The parent never awaits its child: the panic is still not lost.
	call(t, l, func(t *aio.Task) (int, error) {
		aio.Go(t, panickingTask("orphan"))
		return 0, aio.Sleep(t, 0)
	})
	err := l.Close()
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "orphan" {
		t.Errorf("Close() = %v; want the orphan's *PanicError", err)
	}
	if !strings.Contains(logs.String(), "orphan") {
		t.Errorf("log = %q; want the orphan's panic", logs.String())
	}
}

// TestUnretrievedPanicOfDroppedFuture checks that panics whose futures were
// dropped unretrieved (fire and forget) are not kept until Close: each is
// logged, with the task's name and stack, once its future is collected, and
// Close has nothing left to report.
func TestUnretrievedPanicOfDroppedFuture(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := aio.Start(aio.Logger(logs.Logger()))
	// dropped returns the records of dropped panics of the forgotten tasks.
	dropped := func() []testkit.Record {
		return logs.Find("aio: task panicked and its future was dropped unretrieved", "panic", "forgotten")
	}

	const n = 2000
	for range n {
		aio.Spawn(context.Background(), l, panickingTask("forgotten"))
	}
	call(t, l, func(t *aio.Task) (int, error) { return 0, nil }) // all have run
	testkit.WaitFor(t, "every dropped panic to be logged", func() bool {
		runtime.GC()
		return len(dropped()) == n
	})
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v; want nil: the dropped panics were reported already", err)
	}
	if r := dropped()[0]; !strings.Contains(r.Attrs["stack"], "panickingTask") || !strings.HasPrefix(r.Attrs["task"], "task ") {
		t.Errorf("record = %v; want the task and its stack", r.Attrs)
	}
}

// TestPanicNilUnderPanicnil checks that panic(nil) with GODEBUG=panicnil=1,
// where recover returns nil, is still a panic everywhere the library calls
// user code: it reaches the waiter as a *PanicError with a nil Value, and
// nothing hangs, is swallowed or recycled while still running.
func TestPanicNilUnderPanicnil(t *testing.T) {
	if _, child := testkit.PassInSubprocess(t, "GODEBUG=panicnil=1"); !child {
		return
	}
	testkit.Check(t)
	var logs testkit.LogSink
	l := aio.Start(aio.Logger(logs.Logger()))
	nilPanic := func(what string, fn func()) {
		t.Helper()
		var p any
		testkit.Do(t, what, func() { p = testkit.RecoverPanic(fn) })
		pe := panicError(t, p)
		if pe.Value != nil {
			t.Errorf("%s: PanicError.Value = %v; want nil", what, pe.Value)
		}
	}
	nilPanic("task", func() {
		aio.Call(testkit.Context(t), l, func(*aio.Task) (int, error) { panic(nil) })
	})
	nilPanic("ToThread function", func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			return aio.ToThread(t, func(context.Context) (int, error) { panic(nil) })
		})
	})
	nilPanic("generator", func() {
		s := aio.OpenStream(testkit.Context(t), l, func(*aio.Task, func(int) bool) error { panic(nil) })
		defer s.Close()
		s.Next(testkit.Context(t))
	})
	exitSaw := make(chan error, 1)
	nilPanic("With body", func() {
		aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
			res := aio.ResourceFunc(func(*aio.Task) (int, error) { return 1, nil },
				func(_ *aio.Task, _ int, how error) error { exitSaw <- how; return nil })
			return 0, aio.With(t, res, func(int) error { panic(nil) })
		})
	})
	var pe *aio.PanicError
	if how := <-exitSaw; !errors.As(how, &pe) || pe.Value != nil {
		t.Errorf("Exit after a With body's panic(nil) saw %v; want a *PanicError with a nil Value", how)
	}
	if err := l.Post(func() { panic(nil) }); err != nil {
		t.Fatalf("Post() = %v", err)
	}
	checkLoopServes(t, l)
	testkit.WaitFor(t, "the callback's panic to be logged", func() bool { return strings.Contains(logs.String(), "callback panicked") })
	lost := aio.Spawn(context.Background(), l, func(*aio.Task) (int, error) { panic(nil) })
	<-lost.Done()
	var err error
	testkit.Do(t, "Close", func() { err = l.Close() })
	runtime.KeepAlive(lost)
	if !errors.As(err, &pe) || pe.Value != nil {
		t.Errorf("Close() = %v; want the unretrieved *PanicError of the panic(nil)", err)
	}
}

// TestLoggerPanics checks that a Logger whose handler panics, or calls
// runtime.Goexit, neither kills the process nor stops the loop or its
// slow-task watchdog: the record goes to standard error instead, and Close
// still reports the unretrieved panic. It runs in a subprocess, since the
// failure it guards against kills the process.
func TestLoggerPanics(t *testing.T) {
	if out, child := testkit.PassInSubprocess(t); !child {
		if !strings.Contains(out, "the Logger panicked") {
			t.Errorf("standard error = %q; want the record the Logger could not take", out)
		}
		return
	}
	for _, how := range []string{"panic", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			testkit.Check(t)
			var calls atomic.Int64
			logger := slog.New(recordFunc(func(slog.Record) {
				calls.Add(1)
				if how == "panic" {
					panic("logger boom")
				}
				runtime.Goexit()
			}))
			l := aio.Start(aio.Logger(logger), aio.SlowTask(time.Millisecond))
			for range 3 {
				// Each slow step is reported, by the watchdog or after the step.
				before := calls.Load()
				call(t, l, func(*aio.Task) (int, error) { time.Sleep(5 * time.Millisecond); return 0, nil })
				testkit.WaitFor(t, "the slow step's report", func() bool { return calls.Load() > before })
			}
			if err := l.Post(func() { panic("callback boom") }); err != nil {
				t.Fatalf("Post() = %v", err)
			}
			checkLoopServes(t, l)
			lost := aio.Spawn(context.Background(), l, panickingTask("lost"))
			<-lost.Done()
			var err error
			testkit.Do(t, "Close", func() { err = l.Close() })
			runtime.KeepAlive(lost)
			var pe *aio.PanicError
			if !errors.As(err, &pe) || pe.Value != "lost" {
				t.Errorf("Close() = %v; want the lost panic", err)
			}
		})
	}
}
