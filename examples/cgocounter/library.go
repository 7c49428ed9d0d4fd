//go:build linux && cgo

package main

import (
	"fmt"
	"io"

	"github.com/threadrunner/threadrunner/aio"
)

// library is the C library as a resource of the loop: Enter initializes it on
// the loop's thread, Exit reports its final count and tears it down there, so
// that the thread goes back to the Go runtime clean.
type library struct {
	out io.Writer
}

func (l library) Enter(t *aio.Task) (int, error) {
	reset()
	return get().Thread, nil
}

func (l library) Exit(t *aio.Task, how error) error {
	r := get()
	fmt.Fprintf(l.out, "   Close: the library is torn down on thread %d, where its counter reads %d\n", r.Thread, r.Count)
	reset()
	return nil
}
