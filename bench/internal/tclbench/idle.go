package tclbench

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// IdleCPU measures an idle interpreter with a timer pending: on a fresh
// runner, it evaluates `after 60000 {set ::late 1}`, makes 1000 warm
// evaluations, and returns the CPU time the whole process used over window
// while nothing was asked of anyone, in milliseconds per second (see
// cases.IdleCPU). With every, it instead keeps a timer firing every that
// long (`after` rescheduling itself), to show what a busy Tcl timer costs.
func IdleCPU(window, every time.Duration) (msPerSec float64, err error) {
	if err := tcl.Load(); err != nil {
		return 0, err
	}
	r := threadrunner.New()
	defer func() { err = errors.Join(err, r.Close()) }()
	ctx := context.Background()
	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
	if err != nil {
		return 0, err
	}
	eval := func(script string) (string, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, script) })
	}
	setup := "after 60000 {set ::late 1}"
	if every > 0 {
		setup = "proc tick {} { incr ::ticks; after " + strconv.FormatInt(max(1, every.Milliseconds()), 10) + " tick }; tick"
	}
	if _, err := eval(setup); err != nil {
		return 0, err
	}
	return cases.IdleCPU(func() (int, error) {
		_, err := eval(Script)
		return 0, err
	}, 1000, window)
}
