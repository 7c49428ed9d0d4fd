package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// run runs the example: g goroutines evaluating a script n times each,
// then Tcl's events, all on one runner's interpreter.
func run(ctx context.Context, out io.Writer, g, n int) (err error) {
	if err := tcl.Load(); err != nil {
		return err
	}
	r := threadrunner.New(aio.Name("TclThread"))
	defer func() { err = errors.Join(err, r.Close()) }()
	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
	if err != nil {
		return err
	}
	eval := func(script string) (string, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, script) })
	}
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		return 0, errors.Join(
			in.Command(t, "tid", func(*aio.Task, []string) (string, error) { return strconv.Itoa(gettid()), nil }),
			in.Command(t, "goupper", func(_ *aio.Task, args []string) (string, error) { return strings.ToUpper(strings.Join(args, " ")), nil }),
		)
	}); err != nil {
		return err
	}
	version, err := eval("info patchlevel")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Tcl %s, opened at run time through cgo, on a threadrunner loop.\n\n", version)

	if err := manyGoroutines(ctx, out, r, in, g, n); err != nil {
		return err
	}
	fmt.Fprintf(out, "2. Tcl's events, driven by the aio loop (no task waits for them):\n")
	if err := timers(out, eval); err != nil {
		return err
	}
	if err := fileEvent(out, eval); err != nil {
		return err
	}
	v, err := eval("after 20 {set ::done yes}; vwait ::done; set ::done")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   vwait inside a Run: after 20 {set ::done yes}; vwait ::done -> %s\n\n", v)

	v, err = eval("goupper hello from Tcl")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. A Go function as a Tcl command (under aio.NoAwait): goupper hello from Tcl -> %s\n", v)
	return nil
}

// manyGoroutines has g goroutines evaluate the same script n times each
// through r, and checks that the count is exact and every call ran on the
// loop's thread.
func manyGoroutines(ctx context.Context, out io.Writer, r *threadrunner.Runner, in *tcl.Interp, g, n int) error {
	fmt.Fprintf(out, "1. The same script from %d goroutines through threadrunner.Run, %d times each:\n", g, n)
	threads := make([]map[string]int, g)
	errs := make([]error, g)
	var wg sync.WaitGroup
	for i := range g {
		threads[i] = make(map[string]int)
		wg.Go(func() {
			for range n {
				v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, "incr ::n; tid") })
				if err != nil {
					errs[i] = err
					return
				}
				threads[i][v]++
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	all := make(map[string]int)
	for _, m := range threads {
		for tid, c := range m {
			all[tid] += c
		}
	}
	count, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, "set ::n") })
	if err != nil {
		return err
	}
	loop := strconv.Itoa(r.Loop().ThreadID())
	if len(all) != 1 || all[loop] != g*n || count != strconv.Itoa(g*n) {
		return fmt.Errorf("calls ran on threads %v and ::n = %s; want all %d on the loop's thread %s", all, count, g*n, loop)
	}
	fmt.Fprintf(out, "   -> %d calls, every one on the loop's thread %s; ::n = %s, exact\n\n", g*n, loop, count)
	return nil
}

// timers schedules after timers out of order and reports the order they
// fired in.
func timers(out io.Writer, eval func(string) (string, error)) error {
	if _, err := eval("set ::order {}; foreach ms {30 10 20 0} { after $ms [list lappend ::order $ms] }"); err != nil {
		return err
	}
	order, err := waitFor(eval, "set ::order", "0 10 20 30")
	if err != nil {
		return fmt.Errorf("after timers: %w", err)
	}
	fmt.Fprintf(out, "   after 30, 10, 20 and 0 ms: fired in the order %s\n", order)
	return nil
}

// fileEvent has Tcl watch a pipe with fileevent, writes to it from Go, and
// reports what Tcl's handler read.
func fileEvent(out io.Writer, eval func(string) (string, error)) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	defer pw.Close()
	if _, err := eval(fmt.Sprintf(`set ::got {}
		set ::pipe [open /dev/fd/%d {RDONLY NONBLOCK}]
		fileevent $::pipe readable {append ::got [read $::pipe]}`, pr.Fd())); err != nil {
		return err
	}
	fmt.Fprintln(pw, "hello through a pipe")
	got, err := waitFor(eval, "set ::got", "hello through a pipe\n")
	if err != nil {
		return fmt.Errorf("the fileevent handler: %w", err)
	}
	fmt.Fprintf(out, "   fileevent on a pipe: Go wrote a line, Tcl's handler read %q\n", got)
	_, err = eval("close $::pipe")
	return err
}

// waitFor evaluates script every 10ms until it returns want, for at most
// ten seconds. The loop is free between two evaluations: Tcl's events run
// on it then, with no task waiting for them.
func waitFor(eval func(string) (string, error), script, want string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := eval(script)
		if err != nil || got == want {
			return got, err
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%s gave %q by the deadline; want %q", script, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
