//go:build linux && cgo

package tcl

// #include <stdlib.h>
// #include "abi.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"unsafe"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/fault"
)

// newInterp creates an interpreter on t's loop thread.
func newInterp(t *aio.Task) (*Interp, error) {
	start()
	h := hostFor(t)
	var p *C.th_Interp
	aio.NoAwait(t, func() {
		var initErr *C.char // Tcl_Init's: without init.tcl, the core still works
		p = C.th_create(&initErr)
	})
	if p == nil {
		h.release()
		return nil, errors.New("tcl: Tcl_CreateInterp failed")
	}
	return &Interp{loop: t.Loop(), p: unsafe.Pointer(p), h: h}, nil
}

// createDirect creates an interpreter on the calling thread, which no host
// serves.
func createDirect() (unsafe.Pointer, error) {
	start()
	var initErr *C.char
	p := C.th_create(&initErr)
	if p == nil {
		return nil, errors.New("tcl: Tcl_CreateInterp failed")
	}
	return unsafe.Pointer(p), nil
}

func deleteInterp(p unsafe.Pointer) { C.th_delete((*C.th_Interp)(p)) }

// empty stands for the bytes of an empty script, which have no address.
var empty = [1]byte{}

// cstr points at s's bytes, for C functions that take a length and do not
// keep the pointer (Go memory without Go pointers may be passed to C).
func cstr(s string) *C.char {
	if len(s) == 0 {
		return (*C.char)(unsafe.Pointer(&empty[0]))
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s)))
}

// eval evaluates script in the interpreter p, on the calling thread. The
// script's bytes are handed to Tcl without a copy: Tcl_EvalEx reads them
// only while it runs.
func eval(p unsafe.Pointer, script string) (string, error) {
	r := C.th_eval((*C.th_Interp)(p), cstr(script), C.int(len(script)))
	out := C.GoStringN(r.s, r.len)
	switch r.code {
	case C.TH_OK, tclReturn:
		return out, nil
	case C.TH_ERROR:
		return "", &Error{Msg: out, Info: C.GoString(C.th_error_info((*C.th_Interp)(p)))}
	}
	return "", &Error{Msg: fmt.Sprintf("script ended with Tcl code %d (break or continue outside a loop)", r.code)}
}

// tclReturn is TCL_RETURN: a return at the script's top level.
const tclReturn = 2

// A command is a Go function registered as a Tcl command.
type command struct {
	in   *Interp
	name string
	fn   CommandFunc
}

func addCommand(in *Interp, name string, fn CommandFunc) {
	h := cgo.NewHandle(&command{in: in, name: name, fn: fn})
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	C.th_command((*C.th_Interp)(in.p), cname, C.uintptr_t(h))
}

// goCommand is what Tcl calls for a Go command (interp.c's command_proc),
// on the loop's thread.
//
//export goCommand
func goCommand(handle C.uintptr_t, interp *C.th_Interp, objc C.int, objv **C.th_Obj) C.int {
	c := cgo.Handle(handle).Value().(*command)
	args := make([]string, max(0, int(objc)-1))
	for i := range args {
		var n C.int
		s := C.th_arg(objv, C.int(i+1), &n)
		args[i] = C.GoStringN(s, n)
	}
	var res string
	var err error
	h := c.in.h
	value, stack, panicked := fault.Catch(func() { res, err = c.fn(h.curr, args) }, nil)
	if panicked {
		// Tcl unwinds with an error; the task that called into Tcl
		// panics once it has (host.repanic).
		if h.panicked == nil {
			h.panicked = &aio.PanicError{Value: value, Stack: stack}
			if pe, ok := value.(*aio.PanicError); ok {
				h.panicked = pe
			}
		}
		err = fmt.Errorf("the Go command %s panicked: %v", c.name, value)
	}
	if err != nil {
		res = err.Error()
	}
	C.th_set_result(interp, cstr(res), C.int(len(res))) // Tcl copies it
	if err != nil {
		return C.TH_ERROR
	}
	return C.TH_OK
}

// goCommandDeleted is what Tcl calls when a Go command is deleted (with
// its interpreter, or renamed to "").
//
//export goCommandDeleted
func goCommandDeleted(handle C.uintptr_t) { cgo.Handle(handle).Delete() }
