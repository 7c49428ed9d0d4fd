package js

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// Iter returns the JavaScript async iterable that iterable names as an
// [aio.Seq], for threadrunner.Iter to range over from any goroutine (or a
// task to call): an object with a Symbol.asyncIterator method, one with a
// Symbol.iterator method (its values are awaited, as for await does), or an
// iterator itself (an object whose next method returns a promise of {done,
// value}). If iterable names a function, it is called with args and the
// iterable is what it returns, awaited.
//
// Each value is exported to T as [Call] exports results. When the consumer
// stops early (a break out of the range loop, the ctx's end, the runner's
// Close), or a value cannot be exported, the iterator's return method is
// called and its promise awaited before the sequence ends: after a break,
// for as long as it takes (a break is not a cancellation); after a
// cancellation, for at most the VM's [Grace]. A next that throws or rejects
// ends the sequence with its *[Error], without return, as for await does.
func Iter[T any](iterable Handle, args ...any) aio.Seq[T] {
	return func(t *aio.Task, yield func(T) bool) error {
		vm := iterable.vm
		it := &iterator[T]{vm: vm}
		_, err := do(t, vm, func(*goja.Runtime) (goja.Value, error) {
			return vm.callIfFunc(iterable, args)
		}, func(vm *VM, src goja.Value) (struct{}, error) {
			return struct{}{}, it.open(iterable, src)
		})
		if err != nil {
			return err
		}
		for {
			s, err := do(t, vm, it.next, it.read)
			switch {
			case err != nil && (t.Err() != nil || errors.Is(err, aio.ErrStopped)):
				return it.close(t, err) // cancelled or stopped while next was pending
			case err != nil:
				return err
			case s.done:
				return nil
			case s.err != nil:
				return it.close(t, s.err)
			}
			if !yield(s.v) {
				return it.close(t, nil)
			}
		}
	}
}

// callIfFunc returns the value h names, or what it returns when called with
// args if it is a function.
func (vm *VM) callIfFunc(h Handle, args []any) (goja.Value, error) {
	v, this, err := h.resolve(vm)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return v, nil
	}
	vs, err := vm.values(args)
	if err != nil {
		return nil, err
	}
	return fn(this, vs...)
}

// An iterator is a JavaScript iterator that a Seq consumes. Loop-owned.
type iterator[T any] struct {
	vm  *VM
	obj *goja.Object // an async iterator: next returns a promise
}

// A step is one result of next.
type step[T any] struct {
	done bool
	v    T
	err  error // the value could not be exported
}

// open finds the iterator of src, which h named. A sync iterator is wrapped
// by the prelude's asyncFromSync, which awaits its values.
func (it *iterator[T]) open(h Handle, src goja.Value) error {
	vm := it.vm
	obj, ok := src.(*goja.Object)
	if !ok {
		return vm.typeError("%s is not async iterable", h)
	}
	it.obj = obj
	method, ok := goja.AssertFunction(obj.GetSymbol(vm.builtins.asyncIterator))
	sync := false
	if !ok {
		method, sync = goja.AssertFunction(obj.GetSymbol(goja.SymIterator))
	}
	if method != nil {
		v, err := method(obj)
		if err != nil {
			return err
		}
		if sync {
			if v, err = vm.builtins.asyncFromSync(goja.Undefined(), v); err != nil {
				return err
			}
		}
		if it.obj, ok = v.(*goja.Object); !ok {
			return vm.typeError("the iterator of %s is not an object", h)
		}
	}
	if _, ok := goja.AssertFunction(it.obj.Get("next")); !ok {
		return vm.typeError("%s is not async iterable", h)
	}
	return nil
}

// next calls the iterator's next method.
func (it *iterator[T]) next(*goja.Runtime) (goja.Value, error) {
	next, ok := goja.AssertFunction(it.obj.Get("next"))
	if !ok {
		return nil, it.vm.typeError("the iterator's next is not a function")
	}
	return next(it.obj)
}

// read reads a settled result of next, {done, value}.
func (it *iterator[T]) read(vm *VM, r goja.Value) (step[T], error) {
	obj, ok := r.(*goja.Object)
	if !ok {
		return step[T]{}, vm.typeError("the iterator's result %v is not an object", r)
	}
	if done := obj.Get("done"); done != nil && done.ToBoolean() {
		return step[T]{done: true}, nil
	}
	v, err := export[T](vm, obj.Get("value"))
	return step[T]{v: v, err: err}, nil
}

// close calls the iterator's return method, if it has one, and awaits its
// promise, shielded from t's cancellation for the VM's [Grace] if t is cancelled. It
// returns err joined with what return fails with.
func (it *iterator[T]) close(t *aio.Task, err error) error {
	rerr := it.vm.cleanup(t, func(t *aio.Task) error {
		_, err := do(t, it.vm, func(*goja.Runtime) (goja.Value, error) {
			ret, ok := goja.AssertFunction(it.obj.Get("return"))
			if !ok {
				return goja.Undefined(), nil
			}
			return ret(it.obj)
		}, export[struct{}])
		return err
	})
	return errors.Join(err, rerr)
}

// typeError returns an *Error named TypeError.
func (vm *VM) typeError(format string, args ...any) *Error {
	return &Error{Name: "TypeError", Message: fmt.Sprintf(format, args...), vm: vm}
}
