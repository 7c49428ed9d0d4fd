// Command cgocounter calls a thread-affine C library through cgo: a counter
// kept in thread-local storage (__thread), as OpenGL's current context,
// CUDA's current device or an embedded interpreter's state are. Called
// through a threadrunner.Runner from many goroutines, every call lands on the
// loop's one thread and the count is exact; called directly, the calls land on
// many threads and the count splits among them.
//
//	go run ./examples/cgocounter
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

func main() {
	g := flag.Int("goroutines", 8, "goroutines calling the library")
	n := flag.Int("calls", 1000, "calls per goroutine")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *g, *n); err != nil {
		fmt.Fprintln(os.Stderr, "cgocounter:", err)
		os.Exit(1)
	}
}
