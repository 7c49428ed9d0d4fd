package tcl

import (
	"errors"
	"unsafe"
)

// A Direct is a Tcl interpreter used without a runner, the way cgo code
// calls a C library by hand: for comparisons (benchmarks, and the tests
// that show why the runner is needed), not for use. Its caller must keep
// every call on the thread that created it (runtime.LockOSThread on one
// goroutine, or a goroutine so locked serving a channel); Tcl does not
// check, and from other threads it crashes or misbehaves. No loop drives
// its events: they run only inside a script's update or vwait.
type Direct struct {
	p unsafe.Pointer // the C Tcl_Interp; nil once closed
}

// NewDirect creates an interpreter on the calling thread; the calling
// goroutine should be locked to that thread. It returns an error that is
// [ErrUnavailable] where libtcl8.6 cannot be loaded.
func NewDirect() (*Direct, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	p, err := createDirect()
	if err != nil {
		return nil, err
	}
	return &Direct{p: p}, nil
}

// Eval evaluates script at global level and returns its result, or an
// *[Error]. It must be called on the thread that created d.
func (d *Direct) Eval(script string) (string, error) {
	if d == nil || d.p == nil {
		return "", ErrDeleted
	}
	return eval(d.p, script)
}

// Close deletes the interpreter. It must be called on the thread that
// created d; later calls do nothing.
func (d *Direct) Close() error {
	if d == nil {
		return errors.New("tcl: Close on a nil *Direct")
	}
	if d.p != nil {
		deleteInterp(d.p)
		d.p = nil
	}
	return nil
}
