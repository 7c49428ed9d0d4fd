package js_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// A Go function that JavaScript calls awaits with the task that entered the
// VM: NoAwait makes that a clear panic instead of a coroutine suspended in
// the middle of the runtime, and the VM serves on.
func TestNoAwaitInGoCalledFromJS(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		function viaGo(sleep) { return sleep(); }
		async function viaGoAsync(sleep) { await null; return sleep(); }
		async function later(x) { await null; return x; }
	`))
	for _, fn := range []string{"viaGo", "viaGoAsync"} {
		p := testkit.RecoverPanic(func() {
			threadrunner.Run(e.ctx, e.r, func(task *aio.Task) (int, error) {
				sleep := func() { aio.Sleep(task, time.Millisecond) } // awaits: not allowed here
				return js.Do[int](task, e.vm, func(rt *goja.Runtime) (goja.Value, error) {
					f, _ := goja.AssertFunction(rt.Get(fn))
					return f(goja.Undefined(), rt.ToValue(sleep))
				})
			})
		})
		pe, ok := p.(*aio.PanicError)
		if !ok || !strings.Contains(fmt.Sprint(pe.Value), "NoAwait") {
			t.Fatalf("%s: recover() = %v; want a *aio.PanicError with NoAwait's message", fn, p)
		}
		if v, err := js.Call[string](e.ctx, e.vm.Global("later"), "ok"); v != "ok" || err != nil {
			t.Fatalf("%s: Call(later) after the panic = %q, %v; want ok (the VM not corrupted)", fn, v, err)
		}
	}
}
