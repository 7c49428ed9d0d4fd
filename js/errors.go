package js

import (
	"context"
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// ErrClosed is returned by every use of a [VM] whose Exit has begun, and
// rejects what was still pending then: Go calls awaiting a promise, Go async
// functions, fetches. It wraps [aio.ErrClosed]; test with errors.Is.
var ErrClosed = fmt.Errorf("js: VM closed: %w", aio.ErrClosed)

// An Error is a JavaScript exception or promise rejection, as Go sees it: a
// thrown Error object's name, message and stack, or the thrown value as a
// string. If the JavaScript error carries a Go error (Go code rejected a
// promise or threw with one, or the call was interrupted because its context
// ended), Unwrap returns it, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, ErrClosed) see through an Error.
type Error struct {
	Name    string // the error's name ("TypeError"), or "" for a thrown value that is not an Error
	Message string // the error's message, or the thrown value as a string
	Stack   string // the JavaScript stack where it was thrown or made, if known

	value goja.Value // the thrown value, for rethrowing it in its own VM
	vm    *VM
	err   error // the Go error it carries, if any
}

// Error returns "js: " followed by the name and the message.
func (e *Error) Error() string {
	if e.Name == "" {
		return "js: " + e.Message
	}
	return "js: " + e.Name + ": " + e.Message
}

// Unwrap returns the Go error the JavaScript error carries, or nil.
func (e *Error) Unwrap() error { return e.err }

// asError converts what a goja call returned as an error into a Go error: an
// *Error for a JavaScript exception, ctx's error (inside an *Error holding
// the JavaScript stack) for an interrupt, and err itself otherwise. It runs
// on the loop.
func (vm *VM) asError(err error) error {
	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		cause, _ := interrupted.Value().(error)
		if cause == nil {
			cause = context.Canceled
		}
		return &Error{Name: "InterruptedError", Message: cause.Error(), Stack: interrupted.String(), vm: vm, err: cause}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		e := vm.reason(ex.Value())
		if e.Stack == "" {
			e.Stack = ex.String()
		}
		return e
	}
	return err
}

// reason converts a thrown value or a rejection reason into an *Error. It
// runs on the loop.
func (vm *VM) reason(v goja.Value) *Error {
	e := &Error{value: v, vm: vm}
	obj, ok := v.(*goja.Object)
	if !ok || goja.IsNull(v) || goja.IsUndefined(v) {
		if v == nil {
			v = goja.Undefined()
		}
		e.Message = v.String()
		return e
	}
	if inner, ok := prop(obj, "value").Export().(error); ok && isGoError(obj) {
		e.err = inner
		var je *Error
		if errors.As(inner, &je) {
			return je // a JavaScript error that went through Go and back
		}
	}
	name, msg, stack := prop(obj, "name"), prop(obj, "message"), prop(obj, "stack")
	if goja.IsUndefined(msg) {
		e.Message = v.String()
		return e
	}
	e.Message = msg.String()
	if !goja.IsUndefined(name) {
		e.Name = name.String()
	}
	if !goja.IsUndefined(stack) {
		e.Stack = stack.String()
	}
	return e
}

// isGoError reports whether obj is an error made by goja's NewGoError.
func isGoError(obj *goja.Object) bool {
	return prop(obj, "name").String() == "GoError"
}

// prop returns obj's property name, undefined if it has none.
func prop(obj *goja.Object, name string) goja.Value {
	if v := obj.Get(name); v != nil {
		return v
	}
	return goja.Undefined()
}

// toJS returns the JavaScript value that rejects a promise or is thrown for
// the Go error err: the original value for an *Error of this VM, else a
// GoError whose message is err's and which carries err. It runs on the loop.
func (vm *VM) toJS(err error) goja.Value {
	var je *Error
	if errors.As(err, &je) && je.vm == vm && je.value != nil && je == err {
		return je.value
	}
	return vm.rt.NewGoError(err)
}
