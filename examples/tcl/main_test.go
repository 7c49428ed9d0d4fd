package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The example is package main, so its tests are in package main too.

func TestRun(t *testing.T) {
	testkit.Check(t)
	if err := tcl.Load(); err != nil {
		t.Skip(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, 16, 100); err != nil {
		t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
	}
	for _, want := range []string{
		"1600 calls, every one on the loop's thread",
		"::n = 1600, exact",
		"fired in the order 0 10 20 30",
		`Tcl's handler read "hello through a pipe\n"`,
		"vwait ::done -> yes",
		"-> HELLO FROM TCL",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run() output does not mention %q; output:\n%s", want, &out)
		}
	}
}

// A directReport is what a child process of TestDirectIsUnsafe saw.
type directReport struct {
	Calls   int // evaluations made
	Count   int // the interpreter's ::n afterwards: one incr per call
	Fired   int // after 0 timers that fired (one scheduled per call)
	Threads int // OS threads the calls ran on
}

// childEnv marks a test binary run by TestDirectIsUnsafe; its value is the
// way the child uses the interpreter.
const childEnv = "TCL_EXAMPLE_CHILD"

// TestDirectIsUnsafe shows why the runner is needed: 16 goroutines, each
// locked to an OS thread of its own as cgo code that calls a thread-affine
// library must be, evaluate scripts on one interpreter directly, without a
// lock ("direct") and with a mutex ("mutex"). Each runs in a subprocess,
// which must crash (the prototype of this example saw SIGSEGV in 5 of 5
// runs without the lock) or report results that are wrong or split
// across threads: Tcl's timers belong to the thread that made them, so
// even the mutex's calls lose their after events. Through the runner
// (TestEvalFromManyGoroutines in package tcl) the same load is exact on
// one thread.
func TestDirectIsUnsafe(t *testing.T) {
	if mode := os.Getenv(childEnv); mode != "" {
		directChild(mode)
		return
	}
	if err := tcl.Load(); err != nil {
		t.Skip(err)
	}
	for _, mode := range []string{"direct", "mutex"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDirectIsUnsafe$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Logf("the child hung (a deadlock in Tcl), and was killed: %v", err) // unsafe, too
				return
			}
			if err != nil {
				first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
				t.Logf("the child died: %v (%s)", err, first)
				return
			}
			var rep directReport
			line := stdout.String()
			if i := strings.Index(line, "{"); i >= 0 {
				line = line[i:]
			}
			if err := json.NewDecoder(strings.NewReader(line)).Decode(&rep); err != nil {
				t.Fatalf("the child survived but its report %q does not parse: %v", stdout.String(), err)
			}
			t.Logf("the child survived: %+v", rep)
			if rep.Count == rep.Calls && rep.Fired == rep.Calls && rep.Threads == 1 {
				t.Errorf("the direct use from %d goroutines gave exact results on one thread (%+v); want it to crash, lose work or split across threads", 16, rep)
			}
		})
	}
}

// directChild is the child's side of TestDirectIsUnsafe: it uses one
// interpreter from 16 locked goroutines, then reports what it saw as JSON.
func directChild(mode string) {
	runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))) // let the calls overlap, whatever the parent's setting
	runtime.LockOSThread()                            // the interpreter's own thread
	d, err := tcl.NewDirect()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	d.Eval("set ::n 0; set ::fired 0")
	const g, n = 16, 500
	var mu sync.Mutex
	threads := make(map[int]bool)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			runtime.LockOSThread() // exits locked: its thread ends with it
			tid := gettid()
			mu.Lock()
			threads[tid] = true
			mu.Unlock()
			for range n {
				if mode == "mutex" {
					mu.Lock()
				}
				d.Eval("incr ::n; after 0 {incr ::fired}")
				if mode == "mutex" {
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	d.Eval("update") // run the events due on the interpreter's own thread
	count, err1 := d.Eval("set ::n")
	fired, err2 := d.Eval("set ::fired")
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	rep := directReport{Calls: g * n, Threads: len(threads)}
	rep.Count, _ = strconv.Atoi(count)
	rep.Fired, _ = strconv.Atoi(fired)
	json.NewEncoder(os.Stdout).Encode(rep)
	os.Exit(0) // not d.Close: deleting it from here may crash, and the report is out
}
