// Command tcl measures Tcl 8.6 on threadrunner (examples/tcl/tcl) side by
// side with the ways Go code reaches a thread-affine library without it, in
// one process, interleaved in rounds, and prints a markdown table of
// medians and best rounds:
//
//   - eval: one evaluation of a short script (incr ::n) through
//     threadrunner.Run from another goroutine; through a naive loop (a
//     goroutine locked to its thread serving a channel); and directly by the
//     interpreter's own locked goroutine, with no hop;
//   - idle: the CPU time the whole process uses per second while an
//     interpreter on a runner has nothing to do but a pending after 60000,
//     read from the process's rusage over a window; next to it, the same
//     process with an idle runner and no Tcl (the floor), an interpreter
//     whose timer fires every 10ms, and a task of the loop sleeping every
//     10ms without Tcl.
//
// Where libtcl8.6 cannot be loaded it says so and exits 0.
//
//	cd bench && go run ./cmd/tcl
//	go run ./cmd/tcl -rounds 1 -duration 20ms -idle 100ms   # quick: checks that it runs; its numbers are not worth quoting
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/internal/tclbench"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

func main() {
	rounds := flag.Int("rounds", 5, "rounds of every measure")
	duration := flag.Duration("duration", 150*time.Millisecond, "length of one timed run of eval on a system")
	idle := flag.Duration("idle", time.Second, "idle window")
	flag.Parse()
	if err := tcl.Load(); err != nil {
		fmt.Println("bench/cmd/tcl: skipped:", err)
		return
	}
	if err := run(*rounds, *duration, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cmd/tcl:", err)
		os.Exit(1)
	}
}

// A row is one measure of one system, a value per round.
type row struct {
	measure, system, unit string
	values                []float64
}

func run(rounds int, duration, window time.Duration) error {
	systems := tclbench.Systems()
	evals := make(map[string]*row)
	for _, s := range systems {
		evals[s] = &row{measure: "eval", system: s, unit: cases.NsPerOp}
	}
	idles := []*row{
		{measure: "idle", system: "tr-run, after 60000 pending", unit: cases.CPUMsPerSec},
		{measure: "idle", system: "runner without Tcl (floor)", unit: cases.CPUMsPerSec},
		{measure: "idle", system: "tr-run, after every 10ms", unit: cases.CPUMsPerSec},
		{measure: "idle", system: "runner, aio.Sleep every 10ms, no Tcl", unit: cases.CPUMsPerSec},
	}
	idleFuncs := []func() (float64, error){
		func() (float64, error) { return tclbench.IdleCPU(window, 0) },
		func() (float64, error) { return tclbench.IdleFloor(window) },
		func() (float64, error) { return tclbench.IdleCPU(window, 10*time.Millisecond) },
		func() (float64, error) { return tclbench.IdleSleepLoop(window, 10*time.Millisecond) },
	}
	for r := range rounds {
		for i := range systems {
			name := systems[(i+r)%len(systems)] // rotate the order from round to round
			runtime.GC()
			time.Sleep(100 * time.Millisecond) // let the last system's threads settle
			v, err := timeEval(name, duration)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			evals[name].values = append(evals[name].values, v)
		}
		for i := range idles {
			k := (i + r) % len(idles)
			runtime.GC()
			v, err := idleFuncs[k]()
			if err != nil {
				return fmt.Errorf("%s: %w", idles[k].system, err)
			}
			idles[k].values = append(idles[k].values, v)
		}
	}
	fmt.Printf("Tcl through threadrunner: %d rounds, %s; %s; %s/%s\n\n", rounds, cases.Procs(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| measure | system | median | best | unit | vs naive-locked |")
	fmt.Println("|---|---|--:|--:|---|--:|")
	naive := median(evals[tclbench.Naive].values)
	for _, s := range systems {
		r := evals[s]
		fmt.Printf("| %s | %s | %.0f | %.0f | %s | %.1fx |\n", r.measure, r.system, median(r.values), slices.Min(r.values), r.unit, naive/median(r.values))
	}
	for _, r := range idles {
		fmt.Printf("| %s | %s | %.2f | %.2f | %s | |\n", r.measure, r.system, median(r.values), slices.Min(r.values), r.unit)
	}
	return nil
}

// timeEval makes the named system, times evaluations on it for about d,
// and closes it; it runs on the calling goroutine, which a direct system
// needs.
func timeEval(name string, d time.Duration) (float64, error) {
	sys, err := tclbench.New(name)
	if err != nil {
		return 0, err
	}
	s, err := cases.Timed(d, func(n int) error {
		for range n {
			if _, err := sys.Eval(tclbench.Script); err != nil {
				return err
			}
		}
		return nil
	})
	return s.Value, errors.Join(err, sys.Close())
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
