package tcl_test

import (
	"context"
	"fmt"
	"log"
	"runtime"
	"strings"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// The examples have no Output comments: they print what they show only
// where libtcl8.6 is installed, and go test runs them everywhere.

// An interpreter is kept for the runner's life; any goroutine evaluates
// scripts in it through threadrunner.Run.
func ExampleInterpreter() {
	ctx := context.Background()
	r := threadrunner.New()
	defer r.Close()
	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
	if err != nil {
		fmt.Println(err) // tcl.ErrUnavailable without libtcl8.6
		return
	}
	v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) {
		return in.Eval(t, "expr {6 * 7}")
	})
	fmt.Println(v, err) // 42 <nil>
}

// Tcl's events run on the loop: a timer set by one Run fires with no task
// waiting for it, and a vwait inside a Run waits for its own.
func ExampleInterp_Eval() {
	ctx := context.Background()
	r := threadrunner.New()
	defer r.Close()
	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
	if err != nil {
		fmt.Println(err)
		return
	}
	eval := func(script string) string {
		v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, script) })
		if err != nil {
			log.Fatal(err)
		}
		return v
	}
	eval("after 10 {set ::fired yes}")
	fmt.Println(eval("after 20 {set ::done 1}; vwait ::done; set ::fired")) // yes
	_, err = threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return in.Eval(t, "error oops") })
	fmt.Println(err) // tcl: oops
}

// A Go function becomes a Tcl command.
func ExampleInterp_Command() {
	ctx := context.Background()
	r := threadrunner.New()
	defer r.Close()
	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) {
		err := in.Command(t, "upper", func(_ *aio.Task, args []string) (string, error) {
			return strings.ToUpper(strings.Join(args, " ")), nil
		})
		if err != nil {
			return "", err
		}
		return in.Eval(t, "upper hello tcl")
	})
	fmt.Println(v, err) // HELLO TCL <nil>
}

// Load tells whether Tcl can be used here.
func ExampleLoad() {
	if err := tcl.Load(); err != nil {
		fmt.Println("no Tcl here:", err)
		return
	}
	fmt.Println("libtcl8.6 loaded")
}

// A Direct interpreter is for comparisons: the goroutine that makes it
// must make every call, locked to its thread.
func ExampleNewDirect() {
	runtime.LockOSThread() // every call on this thread, or Tcl crashes
	defer runtime.UnlockOSThread()
	d, err := tcl.NewDirect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	fmt.Println(d.Eval("string repeat ab 2")) // abab <nil>
}
