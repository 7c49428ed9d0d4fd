package tcl_test

import (
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// needTcl skips t where libtcl8.6 cannot be loaded.
func needTcl(t testing.TB) {
	t.Helper()
	if err := tcl.Load(); err != nil {
		t.Skip(err)
	}
}

// newInterp returns a runner with an interpreter kept on it; the runner is
// closed when the test ends. Call testkit.Check first.
func newInterp(t testing.TB) (*threadrunner.Runner, *tcl.Interp) {
	t.Helper()
	needTcl(t)
	r := threadrunner.New()
	testkit.CloseAtEnd(t, r)
	in, err := threadrunner.Keep(testkit.Context(t), r, tcl.Interpreter())
	if err != nil {
		t.Fatalf("Keep(Interpreter()) = %v", err)
	}
	return r, in
}

// eval evaluates script through r and returns its result, failing t on an
// error.
func eval(t testing.TB, r *threadrunner.Runner, in *tcl.Interp, script string) string {
	t.Helper()
	v, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) { return in.Eval(t, script) })
	if err != nil {
		t.Fatalf("Eval(%q) = %v", script, err)
	}
	return v
}

// command registers fn as the Tcl command name, through r.
func command(t testing.TB, r *threadrunner.Runner, in *tcl.Interp, name string, fn tcl.CommandFunc) {
	t.Helper()
	_, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (int, error) { return 0, in.Command(t, name, fn) })
	if err != nil {
		t.Fatalf("Command(%q) = %v", name, err)
	}
}
