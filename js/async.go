package js

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// Async returns a JavaScript function that, each time JavaScript calls it,
// starts fn as a task on vm's loop with the call's arguments and returns a
// promise that fn's outcome settles: fulfilled with its value (converted as
// [Call] converts arguments), or rejected with its error (a GoError that
// carries it, or the JavaScript error itself for an *[Error] of vm). The
// promise holds no coroutine while fn awaits.
//
// fn runs on the loop, so it may await ([aio.ToThread] for blocking work,
// [Await] for promises) and read args; code that calls into JavaScript (a
// function argument, a getter) must do so through [Do]. fn's task is
// cancelled when the Go code that the calling JavaScript works for gives up
// (the ctx of the [Call] that led to it; for task-side [Do] and [Await], the
// task's cancellation or end) and when the VM closes, which also waits for
// it. A panic in fn rejects the promise with a GoError carrying the
// *aio.PanicError, stack included.
//
// Async must be called on the loop (in a [Setup] function, or in [Do]).
func Async[R any](vm *VM, fn func(t *aio.Task, args []goja.Value) (R, error)) goja.Value {
	return vm.rt.ToValue(func(c goja.FunctionCall) goja.Value {
		if fn == nil {
			return vm.rejectedPromise(errNilFunc)
		}
		args := slices.Clone(c.Arguments)
		return vm.goAsync(func(t *aio.Task) (any, error) { return fn(t, args) })
	})
}

// goAsync starts fn as a task and returns a promise of its outcome. It runs
// on the loop, inside an entry.
func (vm *VM) goAsync(fn func(t *aio.Task) (any, error)) goja.Value {
	p, resolve, reject := vm.rt.NewPromise()
	// The promise's reactions run for the same Go code as the entry that
	// started fn: the same context interrupts them and cancels what they
	// start in turn.
	ctx := vm.entryContext()
	settle := func(t *aio.Task, v any, err error) { vm.settle(t, ctx, resolve, reject, v, err) }
	if err := vm.tasks.start(vm, ctx, fn, settle); err != nil {
		return vm.rejectedPromise(err)
	}
	return vm.rt.ToValue(p)
}

// settle settles a promise made by goja's NewPromise with v or err, as an
// entry in t (nil for a callback) whose context is ctx; the promise's
// reactions run in it. It runs on the loop.
func (vm *VM) settle(t *aio.Task, ctx context.Context, resolve, reject func(any) error, v any, err error) {
	err = vm.run(t, ctx, func() error {
		if err == nil {
			var jv goja.Value
			if jv, err = vm.value(v); err == nil {
				return resolve(jv)
			}
		}
		return reject(vm.toJS(err))
	})
	if pe, ok := err.(*aio.PanicError); ok {
		// Go code called by the promise's reactions panicked: nobody
		// waits for them.
		vm.logError("panic in JavaScript run by a settled promise", pe)
	}
}

// rejectedPromise returns a promise rejected with err.
func (vm *VM) rejectedPromise(err error) goja.Value {
	p, _, reject := vm.rt.NewPromise()
	reject(vm.toJS(err))
	return vm.rt.ToValue(p)
}

var errGoexit = errors.New("js: Go async function panicked with nil or called runtime.Goexit")

// tasks are the VM's Go async functions still running, so that closing the
// VM can cancel them and wait for them. Loop-owned.
type tasks struct {
	m map[*aio.Future[struct{}]]struct{}
}

// start runs fn as a task with ctx, then settle with its outcome (a panic
// as a *aio.PanicError), in the task, whatever fn does. It returns an error
// if the task cannot start: ctx has ended, or the loop is closing and the
// entry has no task to start a child of.
func (ts *tasks) start(vm *VM, ctx context.Context, fn func(t *aio.Task) (any, error), settle func(t *aio.Task, v any, err error)) error {
	if ts.m == nil {
		ts.m = make(map[*aio.Future[struct{}]]struct{})
	}
	var f *aio.Future[struct{}]
	body := func(t *aio.Task) (struct{}, error) {
		var v any
		err := errGoexit
		returned := false
		defer func() {
			if !returned {
				if p := recover(); p != nil {
					err = aio.AsPanicError(p)
				}
			}
			delete(ts.m, f) // f is set: the task runs after start has returned
			settle(t, v, err)
		}()
		v, err = fn(t)
		returned = true
		return struct{}{}, nil
	}
	f = aio.Spawn(ctx, vm.loop, body)
	if f.Settled() {
		_, err := f.Wait(context.Background())
		if parent := vm.entryTask(); parent != nil && errors.Is(err, aio.ErrClosed) {
			f = vm.fallback(parent, body) // the loop is closing: see closing.go
		} else {
			return err
		}
	}
	ts.m[f] = struct{}{}
	return nil
}

// cancelAll cancels every task and waits in t for them to end, for at most
// the VM's grace if t is cancelled too.
func (ts *tasks) cancelAll(vm *VM, t *aio.Task) {
	fs := slices.Collect(maps.Keys(ts.m))
	for _, f := range fs {
		f.Cancel()
	}
	vm.cleanup(t, func(t *aio.Task) error {
		for _, f := range fs {
			aio.Await(t, f)
		}
		return nil
	})
}
