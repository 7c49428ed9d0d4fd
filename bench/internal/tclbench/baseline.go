package tclbench

import (
	"context"
	"errors"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/bench/internal/cases"
)

// IdleFloor is [IdleCPU] without Tcl: a runner made idle after the same
// warm-up, the floor of the process that the Tcl rows are read against.
func IdleFloor(window time.Duration) (msPerSec float64, err error) {
	r := threadrunner.New()
	defer func() { err = errors.Join(err, r.Close()) }()
	n := 0
	return cases.IdleCPU(func() (int, error) {
		return threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { n++; return n, nil })
	}, 1000, window)
}

// IdleSleepLoop is [IdleFloor] with a task sleeping every long, in a loop
// (aio.Sleep): the cost of the loop's own timers, to read the Tcl timer's
// row against.
func IdleSleepLoop(window, every time.Duration) (msPerSec float64, err error) {
	r := threadrunner.New()
	defer func() { err = errors.Join(err, r.Close()) }()
	threadrunner.Submit(context.Background(), r, func(t *aio.Task) (int, error) {
		for {
			if err := aio.Sleep(t, every); err != nil {
				return 0, err
			}
		}
	})
	return cases.IdleCPU(func() (int, error) {
		return threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) { return 0, nil })
	}, 1000, window)
}
