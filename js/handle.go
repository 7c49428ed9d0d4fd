package js

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// A Handle names a JavaScript value of a VM for Go code on any goroutine: a
// global ([VM.Global]), a property of another handle ([Handle.Get]), or a
// value that JavaScript returned (export a call's result to Handle). Go code
// cannot look inside a handle; it passes it to [Call], [Iter] and
// [Resource], and as an argument to JavaScript, which sees the value itself.
// A handle keeps its value alive; names are looked up each time the handle
// is used. The zero Handle names nothing; using it fails with an error.
type Handle struct {
	vm   *VM
	v    goja.Value // the value the path starts from; nil: the global object
	path []string   // property names, looked up from v in order
}

// Global returns a handle to the global named by path: a name, or names
// joined by dots for a property of a property ("client.session"). It is safe
// to call from any goroutine; the names are looked up when the handle is
// used.
func (vm *VM) Global(path string) Handle {
	var names []string
	if path != "" {
		names = strings.Split(path, ".")
	}
	return Handle{vm: vm, path: names}
}

// Get returns a handle to h's property name (a method, for [Call]). It is
// safe to call from any goroutine.
func (h Handle) Get(name string) Handle {
	return Handle{vm: h.vm, v: h.v, path: append(slices.Clip(h.path), name)}
}

// VM returns the VM whose value h names.
func (h Handle) VM() *VM { return h.vm }

// String describes h for messages: "global client.session", "value.get".
func (h Handle) String() string {
	base := "global"
	if h.v != nil {
		base = "value"
	}
	if len(h.path) == 0 {
		return base
	}
	sep := " "
	if h.v != nil {
		sep = "."
	}
	return base + sep + strings.Join(h.path, ".")
}

// resolve looks h up, on the loop: it returns the value and the object it is
// a property of (this, for a call), or an error if a name on the way is
// undefined or null.
func (h Handle) resolve(vm *VM) (v, this goja.Value, err error) {
	if h.vm != vm {
		return nil, nil, errForeign(h)
	}
	v, this = h.v, goja.Undefined()
	path := h.path
	if v == nil {
		if len(path) == 0 {
			return vm.rt.GlobalObject(), this, nil
		}
		// Runtime.Get sees the script's let and const bindings too.
		if v = vm.rt.Get(path[0]); v == nil {
			v = goja.Undefined()
		}
		path = path[1:]
	}
	for i, name := range path {
		if goja.IsUndefined(v) || goja.IsNull(v) {
			return nil, nil, fmt.Errorf("js: %s: %s is %v", h, strings.Join(h.path[:len(h.path)-len(path)+i], "."), v)
		}
		this = v
		v = v.ToObject(vm.rt).Get(name)
		if v == nil {
			v = goja.Undefined()
		}
	}
	return v, this, nil
}

func errForeign(h Handle) error {
	if h.vm == nil {
		return errs.Invalid("js: zero Handle")
	}
	return errs.Invalid("js: %s is a handle of another VM", h)
}

// value converts a Go argument to a JavaScript value, on the loop: a Handle
// becomes the value it names, a goja.Value stays itself, and anything else
// goes through goja's ToValue (see [Call]).
func (vm *VM) value(a any) (goja.Value, error) {
	switch a := a.(type) {
	case Handle:
		v, _, err := a.resolve(vm)
		return v, err
	case goja.Value:
		return a, nil
	}
	return vm.rt.ToValue(a), nil
}

// values converts Go arguments with value.
func (vm *VM) values(args []any) ([]goja.Value, error) {
	if len(args) == 0 {
		return nil, nil
	}
	vs := make([]goja.Value, len(args))
	for i, a := range args {
		v, err := vm.value(a)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// export converts v to a T, on the loop: a Handle or a goja.Value is v
// itself, struct{} ignores it, and anything else goes through goja's
// ExportTo.
func export[T any](vm *VM, v goja.Value) (T, error) {
	var x T
	switch p := any(&x).(type) {
	case *Handle:
		*p = Handle{vm: vm, v: v}
		return x, nil
	case *goja.Value:
		*p = v
		return x, nil
	case *struct{}:
		return x, nil
	case *any:
		if v != nil {
			*p = v.Export()
		}
		return x, nil
	}
	if exportScalar(v, &x) {
		return x, nil
	}
	if v == nil {
		return x, nil
	}
	if err := vm.rt.ExportTo(v, &x); err != nil {
		return x, fmt.Errorf("js: exporting %v to %T: %w", v, x, err)
	}
	return x, nil
}

// exportScalar exports v into *dst without reflection when both are of the
// common kinds (a number into an int, int64 or float64, a string, a
// boolean) and reports whether it did; ExportTo does the rest, with the same
// results.
func exportScalar[T any](v goja.Value, dst *T) bool {
	if v == nil {
		return false
	}
	t := v.ExportType() // no boxing, unlike Export
	switch p := any(dst).(type) {
	case *int:
		if t == int64Type {
			*p = int(v.ToInteger())
			return true
		}
	case *int64:
		if t == int64Type {
			*p = v.ToInteger()
			return true
		}
	case *float64:
		if t == int64Type || t == float64Type {
			*p = v.ToFloat()
			return true
		}
	case *string:
		if t == stringType {
			*p = v.String()
			return true
		}
	case *bool:
		if t == boolType {
			*p = v.ToBoolean()
			return true
		}
	}
	return false
}

var (
	int64Type   = reflect.TypeFor[int64]()
	float64Type = reflect.TypeFor[float64]()
	stringType  = reflect.TypeFor[string]()
	boolType    = reflect.TypeFor[bool]()
)
