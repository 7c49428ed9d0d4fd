package js_test

import (
	"context"
	"testing"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// env is a runner with a kept VM, closed when the test ends, after which no
// goroutine may be left; a watchdog fails the test with every goroutine's
// stack if it hangs (testkit.Check).
type env struct {
	r   *threadrunner.Runner
	vm  *js.VM
	ctx context.Context
	log *testkit.LogSink
}

// newEnv starts a runner and keeps a VM made with opts, whose log goes to
// env.log. It defines tid(), which returns the OS thread JavaScript runs on.
func newEnv(t *testing.T, opts ...js.Option) *env {
	t.Helper()
	testkit.Check(t)
	e := &env{r: threadrunner.New(), ctx: testkit.Context(t), log: &testkit.LogSink{}}
	testkit.CloseAtEnd(t, e.r)
	base := []js.Option{js.Logger(e.log.Logger()), js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("tid", testkit.ThreadID)
	})}
	vm, err := threadrunner.Keep(e.ctx, e.r, js.New(append(base, opts...)...))
	if err != nil {
		t.Fatalf("Keep(js.New()) = %v; want nil", err)
	}
	e.vm = vm
	return e
}

// loopTID returns the OS thread of the runner's loop.
func (e *env) loopTID(t *testing.T) int {
	t.Helper()
	tid, err := threadrunner.Run(e.ctx, e.r, func(*aio.Task) (int, error) { return testkit.ThreadID(), nil })
	if err != nil {
		t.Fatal(err)
	}
	return tid
}

// eval evaluates src and fails the test on error.
func eval[T any](t *testing.T, e *env, src string) T {
	t.Helper()
	v, err := js.Eval[T](e.ctx, e.vm, t.Name()+".js", src)
	if err != nil {
		t.Fatalf("Eval(%q) = %v; want nil", src, err)
	}
	return v
}
