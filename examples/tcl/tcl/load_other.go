//go:build !linux || !cgo

package tcl

import (
	"fmt"
	"runtime"
)

// Load returns an error that is [ErrUnavailable]: this build cannot load
// libtcl8.6 (it needs Linux and cgo).
func Load() error {
	return fmt.Errorf("%w: package tcl needs Linux and cgo (CGO_ENABLED=1 and a C compiler); this is %s/%s", ErrUnavailable, runtime.GOOS, runtime.GOARCH)
}
