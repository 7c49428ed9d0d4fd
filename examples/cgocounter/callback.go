//go:build linux && cgo

package main

// #include <stdint.h>
import "C"

import "runtime/cgo"

// goVisit is the Go function the C library calls back (counter_visit).
//
//export goVisit
func goVisit(value C.long, handle C.uintptr_t) {
	cgo.Handle(handle).Value().(func(int))(int(value))
}
