package aio_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// What aio's tests share beyond internal/testkit, the kit of every package's
// tests: a loop closed at the end, a checked Call, a check that a loop still
// serves, a handler that hands log records to a function, loops in virtual
// time, and the bad-input harness. Helpers of one concept (probe, count,
// blockingAwaits, callEnding, threadSet, ...) live in that concept's file.

// startLoop starts a loop that is closed when the test ends; the test fails
// if Close returns an error. Call testkit.Check before it.
func startLoop(t testing.TB, opts ...aio.Option) *aio.Loop {
	t.Helper()
	l := aio.Start(opts...)
	testkit.CloseAtEnd(t, l)
	return l
}

// call runs fn on l with Call and returns its value, failing the test if it
// returns an error. It must be called from the test's goroutine.
func call[T any](t testing.TB, l *aio.Loop, fn func(*aio.Task) (T, error)) T {
	t.Helper()
	v, err := aio.Call(testkit.Context(t), l, fn)
	if err != nil {
		t.Fatalf("Call() = %v, %v; want nil error", v, err)
	}
	return v
}

// checkLoopServes fails t unless l still runs tasks, on its thread.
func checkLoopServes(t *testing.T, l *aio.Loop) {
	t.Helper()
	tid := call(t, l, func(t *aio.Task) (int, error) {
		return testkit.ThreadID(), aio.Sleep(t, 0)
	})
	if l.Pinned() && tid != l.ThreadID() {
		t.Errorf("afterwards, a task ran on thread %d; want %d", tid, l.ThreadID())
	}
}

// panicError returns what a call panicked with as a *aio.PanicError, failing
// the test if it is not one.
var panicError = testkit.As[*aio.PanicError]

// stressProcs returns how many goroutines a stress test runs at once:
// scaled by GOMAXPROCS, and at least 4.
func stressProcs() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// recordFunc is a slog.Handler that hands every record to a function, from
// whichever goroutine logs it: for loggers that misbehave on purpose (call
// into the loop, panic, Goexit), which a testkit.LogSink does not.
type recordFunc func(slog.Record)

func (f recordFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f recordFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f recordFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f recordFunc) WithGroup(string) slog.Handler                 { return f }

// # Virtual time

// inBubble runs fn in a synctest bubble, with virtual time, on a loop made
// in the bubble (parking in the runtime, so that synctest sees it idle). The
// loop is closed before the bubble ends.
func inBubble(t *testing.T, fn func(t *testing.T, l *aio.Loop)) {
	t.Helper()
	testkit.Check(t)
	synctest.Test(t, func(t *testing.T) {
		l := aio.Start(aio.ParkInRuntime())
		defer func() {
			if err := l.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
		}()
		fn(t, l)
	})
}

// bubbleCall is call for a bubble: without the test's timeout, which would
// be virtual time there (synctest reports a deadlock instead of hanging).
func bubbleCall[T any](t *testing.T, l *aio.Loop, fn func(*aio.Task) (T, error)) T {
	t.Helper()
	v, err := aio.Call(context.Background(), l, fn)
	if err != nil {
		t.Fatalf("Call() = %v, %v; want nil error", v, err)
	}
	return v
}

// # Bad input
//
// Every file tests its functions' refusals of bad input with
// runInvalidCases: a nil function, loop, future, sequence, resource, body or
// context must fail with ErrInvalid and a message that says what was nil.

// invalidCase is one call with bad input, made off the loop (call) or in a
// task of the loop (inTask); want is what the error's message must say.
type invalidCase struct {
	name   string
	call   func() error
	inTask func(t *aio.Task) error
	want   string
}

// runInvalidCases runs each case, those that call in a task on l, and checks
// that it fails with ErrInvalid saying what it must.
func runInvalidCases(t *testing.T, l *aio.Loop, tests []invalidCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.inTask != nil {
				err = call(t, l, func(t *aio.Task) (error, error) { return tt.inTask(t), nil })
			} else {
				err = tt.call()
			}
			if !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v; want ErrInvalid saying %q", tt.name, err, tt.want)
			}
		})
	}
}
