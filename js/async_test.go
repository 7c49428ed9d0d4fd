package js_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

var errGo = errors.New("go side failed")

// asyncLib defines Go async functions: double (through ToThread), fail,
// explode (panics), wait (until its task is cancelled; it closes started,
// if not nil, and sends how it ended to cancelled, if not nil).
func asyncLib(started chan<- struct{}, cancelled chan<- error) js.Option {
	return js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return errors.Join(
			rt.Set("double", js.Async(vm, func(t *aio.Task, args []goja.Value) (int, error) {
				n := int(args[0].ToInteger())
				return aio.ToThread(t, func(context.Context) (int, error) { return 2 * n, nil })
			})),
			rt.Set("fail", js.Async(vm, func(t *aio.Task, args []goja.Value) (int, error) {
				return 0, errGo
			})),
			rt.Set("explode", js.Async(vm, func(t *aio.Task, args []goja.Value) (int, error) {
				panic("kaboom")
			})),
			rt.Set("wait", js.Async(vm, func(t *aio.Task, args []goja.Value) (int, error) {
				if started != nil {
					close(started)
				}
				err := aio.Sleep(t, time.Hour)
				if cancelled != nil {
					cancelled <- err
				}
				return 0, err
			})),
		)
	})
}

func TestAsyncAwaitedByJS(t *testing.T) {
	e := newEnv(t, asyncLib(nil, nil), js.Script("lib.js", `
		async function quad(n) { return await double(await double(n)); }
		async function catchFail() { try { await fail(); } catch (e) { return e.name + ': ' + e.message; } }
	`))
	if v, err := js.Call[int](e.ctx, e.vm.Global("quad"), 5); v != 20 || err != nil {
		t.Errorf("Call(quad, 5) = %v, %v; want 20, nil", v, err)
	}
	if v, err := js.Call[string](e.ctx, e.vm.Global("catchFail")); v != "GoError: go side failed" || err != nil {
		t.Errorf("Call(catchFail) = %q, %v; want the Go error caught in JavaScript", v, err)
	}
	// A Go error that JavaScript does not catch comes back to Go unchanged.
	if _, err := js.Call[int](e.ctx, e.vm.Global("fail")); !errors.Is(err, errGo) {
		t.Errorf("Call(fail) = %v; want errors.Is %v", err, errGo)
	}
}

func TestAsyncPanicRejects(t *testing.T) {
	e := newEnv(t, asyncLib(nil, nil))
	_, err := js.Call[int](e.ctx, e.vm.Global("explode"))
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "async_test.go") {
		t.Fatalf("Call(explode) = %v; want a rejection carrying the *aio.PanicError and its stack", err)
	}
	if v, err := js.Call[int](e.ctx, e.vm.Global("double"), 1); v != 2 || err != nil {
		t.Errorf("Call(double) after a panic = %v, %v; want 2, nil", v, err)
	}
}

// The Go caller giving up cancels the Go async functions its JavaScript
// started.
func TestAsyncCancelledWithCaller(t *testing.T) {
	cancelled := make(chan error, 1)
	e := newEnv(t, asyncLib(nil, cancelled), js.Script("lib.js", `async function waitLong() { return await wait(); }`))
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := js.Call[int](ctx, e.vm.Global("waitLong")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call(waitLong) = %v; want context.DeadlineExceeded", err)
	}
	if err := testkit.Await(t, cancelled, "the Go async function to be cancelled"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the Go async function's Sleep = %v; want context.DeadlineExceeded", err)
	}
}

// Closing the VM cancels its Go async functions and fails the Go callers
// waiting for JavaScript that awaits them.
func TestAsyncClosedWithVM(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan error, 1)
	e := newEnv(t, asyncLib(started, cancelled), js.Script("lib.js", `async function waitLong() { return await wait(); }`))
	done := make(chan error, 1)
	go func() {
		_, err := js.Call[int](e.ctx, e.vm.Global("waitLong"))
		done <- err
	}()
	testkit.Await(t, started, "the Go async function to start")
	if err := e.r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if err := testkit.Await(t, done, "the call across Close"); !errors.Is(err, js.ErrClosed) {
		t.Errorf("Call(waitLong) across Close = %v; want js.ErrClosed", err)
	}
	if err := testkit.Await(t, cancelled, "the Go async function to end"); !errors.Is(err, context.Canceled) {
		t.Errorf("the Go async function's Sleep = %v; want context.Canceled", err)
	}
}

func TestAsyncNilFunc(t *testing.T) {
	e := newEnv(t, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("nothing", js.Async[int](vm, nil))
	}))
	if _, err := js.Call[int](e.ctx, e.vm.Global("nothing")); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("calling Async(nil) = %v; want aio.ErrInvalid", err)
	}
}
