package mainthread_test

import (
	"context"
	"fmt"
	"log"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/mainthread"
)

// This is the body of a program's main. Run must be called from the main
// goroutine, which this package's tests give to their own TestMain, so the
// example is compiled but not run.
func ExampleRun() {
	err := mainthread.Run(func(r *threadrunner.Runner) error {
		// Every task of r runs on the main thread, as GUI toolkits need.
		onMain, err := threadrunner.Run(context.Background(), r, func(t *aio.Task) (bool, error) {
			return t.Loop().InLoop(), nil // e.g. glfw.Init()
		})
		fmt.Println("on the loop:", onMain)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
