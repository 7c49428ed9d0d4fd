package js

import (
	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// Resource returns a JavaScript object with an async close as an
// [aio.Resource], for threadrunner's With, Open and Keep or aio.With: Enter
// calls the function open names with args (a factory, or a method such as
// session.get) and awaits what it returns, or takes the value open names if
// it is not a function; the entered value is a [Handle] to the object. Exit
// calls the object's Symbol.asyncDispose method, or else its
// Symbol.dispose, close or return method, and awaits the promise it
// returns, for at most the VM's [Grace] after a cancellation. An
// object with none of them needs no cleanup.
//
// Each resource is entered once at a time: call Resource again for another
// object. Exit fails with [ErrClosed] if the VM closed first (Close exits
// resources in reverse order of entry, so a resource entered after its VM
// is exited before it).
func Resource(open Handle, args ...any) aio.Resource[Handle] {
	return &disposable{open: open, args: args}
}

type disposable struct {
	open Handle
	args []any
	obj  goja.Value // loop-owned: the entered object
}

func (d *disposable) Enter(t *aio.Task) (Handle, error) {
	vm := d.open.vm
	obj, err := do(t, vm, func(*goja.Runtime) (goja.Value, error) {
		return vm.callIfFunc(d.open, d.args)
	}, export[goja.Value])
	if err != nil {
		return Handle{}, err
	}
	d.obj = obj
	return Handle{vm: vm, v: obj}, nil
}

func (d *disposable) Exit(t *aio.Task, _ error) error {
	vm := d.open.vm
	obj := d.obj
	d.obj = nil
	return vm.cleanup(t, func(t *aio.Task) error {
		_, err := do(t, vm, func(rt *goja.Runtime) (goja.Value, error) {
			o, ok := obj.(*goja.Object)
			if !ok {
				return goja.Undefined(), nil
			}
			for _, m := range []goja.Value{o.GetSymbol(vm.builtins.asyncDispose), o.GetSymbol(vm.builtins.dispose), o.Get("close"), o.Get("return")} {
				if fn, ok := goja.AssertFunction(m); ok {
					return fn(o)
				}
			}
			return goja.Undefined(), nil
		}, export[struct{}])
		return err
	})
}
