package js_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// Go futures become JavaScript promises: settled from another goroutine, by
// a task of another loop, with an error, or by a panic.
func TestPromiseOfFuture(t *testing.T) {
	other := threadrunner.New()
	defer other.Close()
	var (
		settle func(string, error)
		vmLoop *aio.Loop
	)
	e := newEnv(t, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		vmLoop = vm.Loop()
		var f *aio.Future[string]
		f, settle = aio.NewFuture[string](vm.Loop())
		return errors.Join(
			rt.Set("fromGo", func() goja.Value { return js.Promise(vm, f) }),
			rt.Set("fromOtherLoop", func(ms int) goja.Value {
				return js.Promise(vm, threadrunner.Submit(context.Background(), other, func(t *aio.Task) (int, error) {
					return ms, aio.Sleep(t, time.Duration(ms)*time.Millisecond)
				}))
			}),
			rt.Set("failing", func() goja.Value { return js.Promise(vm, aio.Completed(0, errGo)) }),
			rt.Set("panicking", func() goja.Value {
				return js.Promise(vm, aio.Spawn(context.Background(), vm.Loop(), func(*aio.Task) (int, error) { panic("kaboom") }))
			}),
			rt.Set("nilFuture", func() goja.Value { return js.Promise[int](vm, nil) }),
		)
	}), js.Script("lib.js", `
		async function both() { return [await fromGo(), await fromOtherLoop(3)].join(' '); }
	`))
	done := make(chan string, 1)
	go func() {
		v, err := js.Call[string](e.ctx, e.vm.Global("both"))
		if err != nil {
			v = err.Error()
		}
		done <- v
	}()
	settle("from go", nil) // from this goroutine, while JavaScript awaits
	if got := testkit.Await(t, done, "both"); got != "from go 3" {
		t.Errorf("both() = %q; want %q", got, "from go 3")
	}
	if vmLoop == nil {
		t.Fatal("Setup did not run")
	}
	if _, err := js.Call[int](e.ctx, e.vm.Global("failing")); !errors.Is(err, errGo) {
		t.Errorf("failing() = %v; want %v", err, errGo)
	}
	var pe *aio.PanicError
	if _, err := js.Call[int](e.ctx, e.vm.Global("panicking")); !errors.As(err, &pe) || pe.Value != "kaboom" {
		t.Errorf("panicking() = %v; want the *aio.PanicError", err)
	}
	if _, err := js.Call[int](e.ctx, e.vm.Global("nilFuture")); !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nilFuture() = %v; want aio.ErrInvalid", err)
	}
}
