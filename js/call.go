package js

import (
	"context"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// Call calls the JavaScript function fn names with args on fn's VM and
// waits for its outcome, from any goroutine but the loop's own: if fn
// returns a promise (an async function does) or another thenable, Call
// waits for it to settle. It returns the value exported to T, or the
// exception or rejection as an *[Error] carrying the JavaScript message and
// stack. A method named with [Handle.Get] is called with its object as this.
//
// Arguments cross as goja's ToValue makes them, except a [Handle], which
// becomes the value it names: numbers, strings and booleans are copied, but
// maps, slices and pointers to structs are wrapped, so JavaScript sees (and
// may keep) the Go value itself; do not change it while JavaScript may use
// it. The result is exported with goja's ExportTo into a T (objects into
// structs by their json field names, arrays into slices, anything into
// any), except that a T of Handle keeps the value in the VM and gives Go a
// handle to it, and a T of struct{} ignores it.
//
// When ctx ends while the JavaScript runs, it is interrupted: Call returns
// an *Error that unwraps to ctx's error, with the JavaScript stack where it
// stopped, and the VM is usable again. When ctx ends while the promise is
// pending, Call returns ctx's error and the promise goes on; Go async
// functions the call started are cancelled (see [Async]). A panic in Go code
// the JavaScript called reaches Call's caller as a *aio.PanicError, and the
// VM serves on. After the VM's Exit, Call returns [ErrClosed]; from the
// loop's own thread, [aio.ErrLoopThread] (tasks use [Do]).
//
// The JavaScript runs in a callback of the loop (see aio.Loop.Do), not a
// task; while its promise is pending, the call holds a future and the
// waiting goroutine, nothing of the loop's.
func Call[T any](ctx context.Context, fn Handle, args ...any) (T, error) {
	vm := fn.vm
	return call[T](ctx, vm, func(rt *goja.Runtime) (goja.Value, error) {
		f, this, err := fn.resolve(vm)
		if err != nil {
			return nil, err
		}
		callable, ok := goja.AssertFunction(f)
		if !ok {
			return nil, vm.typeError("%s is not a function", fn)
		}
		vs, err := vm.values(args)
		if err != nil {
			return nil, err
		}
		return callable(this, vs...)
	})
}

// Eval runs the script src on vm and waits for its completion value, as
// [Call] does for a function's result: a promise is awaited, and the value
// is exported to T. name names the script in stack traces.
func Eval[T any](ctx context.Context, vm *VM, name, src string) (T, error) {
	return call[T](ctx, vm, func(rt *goja.Runtime) (goja.Value, error) {
		prg, err := goja.Compile(name, src, false)
		if err != nil {
			return nil, err
		}
		return rt.RunProgram(prg)
	})
}

// call runs fn as an entry on vm's loop, from a goroutine that is not the
// loop's, and waits for what it returns, awaited and exported to T: the sync
// doorway of Call and Eval.
func call[T any](ctx context.Context, vm *VM, fn func(rt *goja.Runtime) (goja.Value, error)) (T, error) {
	var zero T
	if err := vm.check(); err != nil {
		return zero, err
	}
	if ctx == nil {
		return zero, errs.Invalid("js: nil context")
	}
	// The JavaScript runs in a callback of the loop, which Do waits for; a
	// promise still pending when it returns is waited for on a future,
	// which holds neither a task nor a goroutine of the loop.
	var (
		res  *result[T]
		wait *aio.Future[T]
	)
	err := vm.loop.Do(ctx, func() {
		res, _ = start(nil, ctx, vm, fn, export[T])
		switch {
		case res.ready:
		case ctx.Err() != nil:
			// Pending, but the caller gave up while the JavaScript ran.
			res.ready, res.err = true, ctx.Err()
		default:
			wait = res.pending()
		}
	})
	switch {
	case err != nil:
		return zero, err
	case wait != nil:
		return wait.Wait(ctx)
	}
	if pe, ok := res.err.(*aio.PanicError); ok {
		panic(pe) // Go code the JavaScript called panicked
	}
	return res.v, res.err
}
