// Command mainthread runs a threadrunner loop on the process's main OS
// thread, as GUI toolkits (Cocoa, GLFW, SDL) require, with package
// mainthread: tasks run on the main thread, while the program's own logic
// runs on another goroutine and reaches the main thread through the runner.
//
//	go run ./examples/mainthread
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/mainthread"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mainthread:", err)
		os.Exit(1)
	}
}

// run runs the example. It must be called from the main goroutine.
func run(out io.Writer) error {
	pid := os.Getpid()
	fmt.Fprintf(out, "process %d: on Linux the main thread's id is the process id\n", pid)
	return mainthread.Run(func(r *threadrunner.Runner) error {
		ctx := context.Background()
		fmt.Fprintf(out, "fn runs on another goroutine, on thread %d (main thread: %v)\n", gettid(), gettid() == pid)

		// A task, as a GUI toolkit's calls would be: on the main thread.
		for i := range 3 {
			tid, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return gettid(), nil })
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "task %d ran on thread %d (main thread: %v)\n", i+1, tid, tid == pid)
		}

		// Only the main goroutine can give its thread away.
		err := mainthread.Run(func(*threadrunner.Runner) error { return nil })
		fmt.Fprintf(out, "mainthread.Run from another goroutine -> %q (errors.Is ErrNotMainThread: %v)\n",
			err, errors.Is(err, mainthread.ErrNotMainThread))
		return nil
	})
}
