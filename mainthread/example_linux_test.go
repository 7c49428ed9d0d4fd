package mainthread_test

import (
	"fmt"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/mainthread"
)

func ExampleErrNotMainThread() {
	done := make(chan error)
	go func() {
		// Not the main goroutine: Run refuses rather than take a thread
		// that is not the main one.
		done <- mainthread.Run(func(*threadrunner.Runner) error { return nil })
	}()
	fmt.Println(<-done)
	// Output: mainthread: Run must be called from the main goroutine
}
