//go:build !linux || !cgo

package tcl

import (
	"unsafe"

	"github.com/threadrunner/threadrunner/aio"
)

// host is the notifier of a loop's thread; this build has none.
type host struct{}

func (*host) enter(*aio.Task) func() { return func() {} }
func (*host) release()               {}
func (*host) repanic()               {}

func newInterp(*aio.Task) (*Interp, error)        { return nil, Load() }
func createDirect() (unsafe.Pointer, error)       { return nil, Load() }
func deleteInterp(unsafe.Pointer)                 {}
func eval(unsafe.Pointer, string) (string, error) { return "", Load() }
func addCommand(*Interp, string, CommandFunc)     {}
