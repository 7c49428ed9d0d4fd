package aio_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

// testTimeout bounds the waits of a test that would hang if the library were
// broken, so that it fails with a message instead. It is never what a test
// asserts: a healthy run ends long before it.
const testTimeout = 30 * time.Second

// testContext returns a context that ends after testTimeout, or when the test
// ends.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startLoop starts a loop that is closed when the test ends; the test fails
// if Close returns an error. Call leaktest.Check before it.
func startLoop(t testing.TB, opts ...aio.Option) *aio.Loop {
	t.Helper()
	l := aio.Start(opts...)
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return l
}

// call runs fn on l with Call and returns its value, failing the test if it
// returns an error. It must be called from the test's goroutine.
func call[T any](t testing.TB, l *aio.Loop, fn func(*aio.Task) (T, error)) T {
	t.Helper()
	v, err := aio.Call(testContext(t), l, fn)
	if err != nil {
		t.Fatalf("Call() = %v, %v; want nil error", v, err)
	}
	return v
}

// errors the tests hand through the library, to check they come back
// unchanged.
var (
	errTask  = errors.New("task failed")
	errBody  = errors.New("body failed")
	errEnter = errors.New("enter failed")
	errExit  = errors.New("exit failed")
	errGen   = errors.New("generator failed")
)

// ctxKey is the key of the context values the tests pass through.
type ctxKey struct{}

// recoverPanic calls fn and returns what it panicked with, or nil.
func recoverPanic(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// panicError returns p as a *aio.PanicError, failing t if it is not one.
func panicError(t testing.TB, p any) *aio.PanicError {
	t.Helper()
	pe, ok := p.(*aio.PanicError)
	if !ok {
		t.Fatalf("recovered %T %v; want a *aio.PanicError", p, p)
	}
	return pe
}

// goexits runs fn on a goroutine of its own, waits for it, and reports
// whether fn ended by runtime.Goexit rather than by returning.
func goexits(fn func()) bool {
	returned := make(chan bool, 1)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		fn()
		ok = true
	}()
	return !<-returned
}

// waitFor polls cond until it holds, failing t after testTimeout. It is for
// states that only counters reveal; the time it takes is never asserted.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// logBuffer collects what a slog.Logger writes, from any goroutine.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogger returns a logger that writes text records to a new logBuffer.
func newLogger() (*slog.Logger, *logBuffer) {
	b := new(logBuffer)
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// stressProcs returns how many goroutines a stress test runs at once:
// scaled by GOMAXPROCS, and at least 4.
func stressProcs() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// watchdog runs fn on a goroutine of its own and waits for it; if fn has not
// returned after testTimeout, it fails t with every goroutine's stack, so that
// a hang shows where it is instead of stopping the test binary.
func watchdog(t testing.TB, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: still running after %v (a hang); goroutines:\n%s", what, testTimeout, buf[:runtime.Stack(buf, true)])
	}
}

// subprocessEnv marks a test binary run by inSubprocess.
const subprocessEnv = "AIO_TEST_SUBPROCESS"

// inSubprocess runs the calling test again in a child process, with env
// added to its environment, and returns what the child printed and whether
// it exited cleanly. In the child, it returns ran = false to the caller,
// which then does the risky part itself: a process-killing regression then
// fails the parent's test instead of the whole binary.
//
//	if out, ok, child := inSubprocess(t, "GODEBUG=panicnil=1"); !child {
//		... check out and ok ...
//		return
//	}
//	... the risky part ...
func inSubprocess(t *testing.T, env ...string) (out string, ok, child bool) {
	t.Helper()
	if os.Getenv(subprocessEnv) == t.Name() {
		return "", false, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), subprocessEnv+"="+t.Name()), env...)
	b, err := cmd.CombinedOutput()
	return string(b), err == nil, false
}

// recordFunc is a slog.Handler that hands every record to a function, from
// whichever goroutine logs it.
type recordFunc func(slog.Record)

func (f recordFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f recordFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f recordFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f recordFunc) WithGroup(string) slog.Handler                 { return f }

// attrs returns a record's attributes as key=value strings.
func attrs(r slog.Record) []string {
	var as []string
	r.Attrs(func(a slog.Attr) bool {
		as = append(as, a.String())
		return true
	})
	return as
}
