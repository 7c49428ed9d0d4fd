//go:build linux && cgo

package tcl

// #cgo LDFLAGS: -ldl
// #include "abi.h"
import "C"

import (
	"fmt"
	"sync"
)

var (
	loadOnce  sync.Once
	loadErr   error
	startOnce sync.Once
)

// Load opens libtcl8.6 (once for the process) and returns nil, or an error
// that is [ErrUnavailable] and says why it cannot. It is safe to call from
// any goroutine; it does not start Tcl, which the first interpreter does.
func Load() error {
	loadOnce.Do(func() {
		var msg *C.char
		if C.th_load(&msg) == 0 {
			loadErr = fmt.Errorf("%w: %s", ErrUnavailable, C.GoString(msg))
		}
	})
	return loadErr
}

// start installs the notifier and initializes Tcl, once, before the first
// interpreter is made; it must follow a successful Load.
func start() { startOnce.Do(func() { C.th_start() }) }
