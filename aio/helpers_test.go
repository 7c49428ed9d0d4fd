package aio_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// What aio's tests share beyond internal/testkit, the kit of every package's
// tests: a loop closed at the end, a checked Call, and a handler that hands
// log records to a function.

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
