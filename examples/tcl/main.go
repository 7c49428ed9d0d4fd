// Command tcl runs Tcl 8.6, a real thread-affine C library, on a
// threadrunner loop: an interpreter created on the loop's thread, scripts
// evaluated from many goroutines through threadrunner.Run with exact
// results on that one thread, Go functions as Tcl commands, and Tcl's own
// event loop (after, fileevent, vwait) driven by the aio loop, so that an
// idle interpreter costs nothing. Where cgo or libtcl8.6 is missing, it says
// so and exits 0.
//
//	go run ./examples/tcl
//
// Why the runner is needed, the direct use from many goroutines crashing or
// losing events, is shown by this directory's tests (TestDirectIsUnsafe),
// in subprocesses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

func main() {
	g := flag.Int("goroutines", 16, "goroutines evaluating scripts")
	n := flag.Int("calls", 500, "scripts each goroutine evaluates")
	flag.Parse()
	err := run(context.Background(), os.Stdout, *g, *n)
	if errors.Is(err, tcl.ErrUnavailable) {
		fmt.Println("examples/tcl: skipped:", err)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples/tcl:", err)
		os.Exit(1)
	}
}
