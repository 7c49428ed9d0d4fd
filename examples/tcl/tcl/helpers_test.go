package tcl_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// testTimeout bounds the waits of a test that would hang if the code were
// broken, so that it fails with the goroutines' stacks instead. It is never
// what a test asserts.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// watchdog runs fn and fails t with every goroutine's stack if fn is still
// running after testTimeout.
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

// needTcl skips t where libtcl8.6 cannot be loaded.
func needTcl(t testing.TB) {
	t.Helper()
	if err := tcl.Load(); err != nil {
		t.Skip(err)
	}
}

// newInterp returns a runner with an interpreter kept on it; the runner is
// closed when the test ends. Call leaktest.Check first.
func newInterp(t testing.TB) (*threadrunner.Runner, *tcl.Interp) {
	t.Helper()
	needTcl(t)
	r := threadrunner.New()
	t.Cleanup(func() {
		watchdog(t, "Close", func() {
			if err := r.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
		})
	})
	in, err := threadrunner.Keep(testContext(t), r, tcl.Interpreter())
	if err != nil {
		t.Fatalf("Keep(Interpreter()) = %v", err)
	}
	return r, in
}

// eval evaluates script through r and returns its result, failing t on an
// error.
func eval(t testing.TB, r *threadrunner.Runner, in *tcl.Interp, script string) string {
	t.Helper()
	v, err := threadrunner.Run(testContext(t), r, func(t *aio.Task) (string, error) { return in.Eval(t, script) })
	if err != nil {
		t.Fatalf("Eval(%q) = %v", script, err)
	}
	return v
}

// command registers fn as the Tcl command name, through r.
func command(t testing.TB, r *threadrunner.Runner, in *tcl.Interp, name string, fn tcl.CommandFunc) {
	t.Helper()
	_, err := threadrunner.Run(testContext(t), r, func(t *aio.Task) (int, error) { return 0, in.Command(t, name, fn) })
	if err != nil {
		t.Fatalf("Command(%q) = %v", name, err)
	}
}
