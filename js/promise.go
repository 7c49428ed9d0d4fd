package js

import (
	"context"
	"reflect"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// Await waits in t for v to settle, if it is a promise or another thenable
// (an object with a then method), and returns its value exported to T (see
// [Call] for how values are exported), or its rejection as an *[Error]. A
// value that is not a thenable is exported at once; so is a promise that has
// already settled, without a trip through the loop. While v is pending, t is
// suspended and the loop runs other work. If t is cancelled first, Await
// returns the context's error; if the VM closes first, [ErrClosed].
//
// Await must be called by t itself, a task of vm's loop. v must be a value of
// vm's runtime.
func Await[T any](t *aio.Task, vm *VM, v goja.Value) (T, error) {
	return do(t, vm, func(*goja.Runtime) (goja.Value, error) { return v, nil }, export[T])
}

// Do runs fn with vm's runtime in t, as an entry into JavaScript, and returns
// what fn returns, awaited (as [Await] does) and exported to T. It is the way
// for a task to use the runtime directly (rt.RunString, rt.Get, calling a
// goja.Callable): while fn runs, any await by t panics (see aio.NoAwait), so
// that no JavaScript is left suspended in the middle; t's cancellation
// interrupts the JavaScript. A panic in fn goes on in t after the runtime has
// been restored. Do must be called by t itself, a task of vm's loop.
func Do[T any](t *aio.Task, vm *VM, fn func(rt *goja.Runtime) (goja.Value, error)) (T, error) {
	if fn == nil {
		var zero T
		return zero, errNilFunc
	}
	return do(t, vm, fn, export[T])
}

// do is Do and Await with the value converted by conv: the task-side way
// in.
func do[T any](t *aio.Task, vm *VM, fn func(rt *goja.Runtime) (goja.Value, error), conv func(*VM, goja.Value) (T, error)) (T, error) {
	if err := vm.checkTask(t); err != nil {
		var zero T
		return zero, err
	}
	res, err := start(t, t.Context(), vm, fn, conv)
	if err != nil || res.ready {
		return res.v, res.err
	}
	return aio.Await(t, res.pending())
}

// start runs fn in t as an entry whose context is ctx, and takes the
// outcome of the value it returns, converted by conv: the one place that
// turns a value that may be a thenable into a result for Go. An error of the
// entry is in the result, ready; a panic goes on in t.
func start[T any](t *aio.Task, ctx context.Context, vm *VM, fn func(rt *goja.Runtime) (goja.Value, error), conv func(*VM, goja.Value) (T, error)) (*result[T], error) {
	res := &result[T]{vm: vm, conv: conv}
	err := vm.run(t, ctx, func() error {
		v, err := fn(vm.rt)
		if err != nil {
			return err
		}
		return vm.await(v, res.done)
	})
	if err != nil {
		if t != nil {
			rethrow(err)
		}
		res.ready, res.err = true, err
	}
	return res, err
}

// rethrow panics with err if it is a panic that an entry recovered.
func rethrow(err error) {
	if pe, ok := err.(*aio.PanicError); ok {
		panic(pe)
	}
}

// A result receives the outcome of a value that may be a thenable: at once,
// during the entry that produced the value (ready), or later, through a
// future made once the entry has ended. It is loop-owned.
type result[T any] struct {
	vm     *VM
	conv   func(*VM, goja.Value) (T, error) // what the value becomes for Go, on the loop
	ready  bool
	v      T
	err    error
	settle func(T, error) // set by pending
}

// done takes the settled value or the rejection, converts the value and
// hands the outcome on. It runs on the loop, inside an entry.
func (r *result[T]) done(v goja.Value, err error) {
	var x T
	if err == nil {
		x, err = r.conv(r.vm, v)
	}
	if r.settle != nil {
		r.settle(x, err)
		return
	}
	r.v, r.err, r.ready = x, err, true
}

// pending returns the future that done settles from now on.
func (r *result[T]) pending() *aio.Future[T] {
	f, settle := aio.NewFuture[T](r.vm.loop)
	r.settle = settle
	return f
}

// await calls done exactly once with v's outcome: at once if v is not a
// thenable or is a promise that has settled, else when it settles (from the
// then-callbacks, in a later entry) or when the VM closes (with ErrClosed).
// It runs on the loop, inside an entry, so that a promise whose rejection it
// takes is never reported as unhandled.
func (vm *VM) await(v goja.Value, done func(goja.Value, error)) error {
	obj, ok := v.(*goja.Object)
	if !ok {
		done(v, nil)
		return nil
	}
	var p *goja.Promise
	if obj.ExportType() == promiseType {
		p, _ = obj.Export().(*goja.Promise)
	}
	if p != nil {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			done(p.Result(), nil)
			return nil
		case goja.PromiseStateRejected:
			vm.handled(p)
			done(nil, vm.reason(p.Result()))
			return nil
		}
	}
	then, ok := goja.AssertFunction(obj.Get("then"))
	if !ok {
		done(v, nil)
		return nil
	}
	w := vm.waiters.add(done)
	var onFulfilled, onRejected goja.Value
	if p != nil {
		// One callback for both outcomes, which the promise's state tells
		// apart: a pending await costs one function object less.
		onFulfilled = vm.rt.ToValue(func(goja.FunctionCall) goja.Value {
			if done := w.take(&vm.waiters); done != nil {
				if p.State() == goja.PromiseStateRejected {
					done(nil, vm.reason(p.Result()))
				} else {
					done(p.Result(), nil)
				}
			}
			return goja.Undefined()
		})
		onRejected = onFulfilled
	} else {
		onFulfilled = vm.rt.ToValue(func(c goja.FunctionCall) goja.Value {
			if done := w.take(&vm.waiters); done != nil {
				// A thenable may fulfil with another thenable.
				if err := vm.await(c.Argument(0), done); err != nil {
					done(nil, err)
				}
			}
			return goja.Undefined()
		})
		onRejected = vm.rt.ToValue(func(c goja.FunctionCall) goja.Value {
			if done := w.take(&vm.waiters); done != nil {
				done(nil, vm.reason(c.Argument(0)))
			}
			return goja.Undefined()
		})
	}
	if _, err := then(obj, onFulfilled, onRejected); err != nil {
		if done := w.take(&vm.waiters); done != nil {
			done(nil, vm.asError(err))
		}
	}
	return nil
}

var promiseType = reflect.TypeFor[*goja.Promise]()

// Promise returns a JavaScript promise that f's outcome settles: fulfilled
// with f's value (converted as [Call] converts arguments), or rejected with
// its error (a GoError that carries it; a panic of f's task as its
// *aio.PanicError). While f is pending nothing waits for it, neither a task
// nor a goroutine (see aio.Future.OnSettle); f may belong to another loop.
// If the VM closes first, the promise is left pending, with nobody to see
// it. Promise must be called on vm's loop, inside the VM: in a Go function
// that JavaScript called, a [Setup] function or [Do].
func Promise[T any](vm *VM, f *aio.Future[T]) goja.Value {
	if f == nil {
		return vm.rejectedPromise(errs.Invalid("js: Promise of a nil *aio.Future"))
	}
	p, resolve, reject := vm.rt.NewPromise()
	settle := func(v T, err error) { vm.settle(nil, vm.ctx, resolve, reject, v, err) }
	if l := f.Loop(); l != nil && l != vm.loop {
		// OnSettle calls back on f's loop: hop to the VM's.
		f.OnSettle(func(v T, err error) {
			vm.loop.Post(func() { settle(v, err) })
		})
	} else {
		f.OnSettle(settle)
	}
	return vm.rt.ToValue(p)
}

// A waiter is a Go wait for a pending thenable.
type waiter struct {
	done func(goja.Value, error) // nil once taken
}

// take returns w's done function the first time, and nil after; it forgets
// w in ws.
func (w *waiter) take(ws *waiters) func(goja.Value, error) {
	done := w.done
	if done != nil {
		w.done = nil
		delete(ws.m, w)
	}
	return done
}

// waiters are the Go waits for pending thenables, so that closing the VM can
// fail them. Loop-owned.
type waiters struct {
	m map[*waiter]struct{}
}

func (ws *waiters) add(done func(goja.Value, error)) *waiter {
	if ws.m == nil {
		ws.m = make(map[*waiter]struct{})
	}
	w := &waiter{done: done}
	ws.m[w] = struct{}{}
	return w
}

// failAll hands err to every wait still pending.
func (ws *waiters) failAll(err error) {
	for w := range ws.m {
		if done := w.take(ws); done != nil {
			done(nil, err)
		}
	}
}
