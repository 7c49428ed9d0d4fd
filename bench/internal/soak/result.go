package soak

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/threadrunner/threadrunner/internal/stress"
)

// A Snap is the process's goroutines and live heap at one moment.
type Snap struct {
	Label      string
	Goroutines int
	HeapAlloc  uint64 // after a full collection
}

// Result is what a soak saw: what the load saw (see stress.Result), and the
// goroutines and heap over time.
type Result struct {
	Config Config
	*stress.Result
	Snaps []Snap // start, warm-up, midpoint, end of load, after Close
}

func (res *Result) snap(label string) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Snaps = append(res.Snaps, Snap{Label: label, Goroutines: runtime.NumGoroutine(), HeapAlloc: ms.HeapAlloc})
}

func (res *Result) snapNamed(label string) (Snap, bool) {
	for _, s := range res.Snaps {
		if s.Label == label {
			return s, true
		}
	}
	return Snap{}, false
}

// MemoryGrew reports whether the heap at the end of the load exceeds the heap
// after warm-up by more than the tolerance.
func (res *Result) MemoryGrew() bool {
	warm, ok1 := res.snapNamed("warm-up")
	end, ok2 := res.snapNamed("end of load")
	return ok1 && ok2 && end.HeapAlloc > warm.HeapAlloc+heapSlack+warm.HeapAlloc*heapSlackPct/100
}

// LeakedGoroutines returns how many more goroutines run after Close than at
// the start.
func (res *Result) LeakedGoroutines() int {
	start, ok1 := res.snapNamed("start")
	end, ok2 := res.snapNamed("after Close")
	if !ok1 || !ok2 {
		return 0
	}
	return max(0, end.Goroutines-start.Goroutines)
}

// OK reports whether the soak saw nothing wrong.
func (res *Result) OK() bool {
	return res.Result.OK() && res.LeakedGoroutines() == 0 && !res.MemoryGrew()
}

// Print writes the report.
func (res *Result) Print(w io.Writer) {
	cfg := res.Config
	loop := "pinned"
	if cfg.Unpinned {
		loop = "unpinned"
	}
	fmt.Fprintf(w, "soak: %d goroutines on one %s runner for %v (GOMAXPROCS=%d, %s)\n",
		cfg.Goroutines, loop, cfg.Duration, runtime.GOMAXPROCS(0), runtime.Version())
	if res.Stuck != "" {
		fmt.Fprintf(w, "STUCK: callers did not return within %v of Close\nverdict: FAIL\n", stuckAfter)
		return
	}
	served := res.Calls() - res.Count(stress.Closed)
	fmt.Fprintf(w, "calls served: %d (%.0f/s); refused with ErrClosed once Close began: %d; Close took %v under load\n",
		served, float64(served)/res.Elapsed.Seconds(), res.Count(stress.Closed), res.CloseTook.Round(time.Microsecond))
	fmt.Fprintf(w, "outcomes:")
	for k := range stress.NumKinds {
		fmt.Fprintf(w, " %s %d", k, res.Count(k))
		if k < stress.NumKinds-1 {
			fmt.Fprint(w, ",")
		}
	}
	fmt.Fprintln(w)
	for _, d := range res.Disallowed {
		fmt.Fprintf(w, "  disallowed: %s\n", d)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	fmt.Fprintf(w, "Run latency: p50 %v, p99 %v, max %v (%d Runs)\n",
		res.Latency.Percentile(0.50), res.Latency.Percentile(0.99), res.Latency.Max(), res.Latency.N())
	fmt.Fprintf(w, "  %-12s %10s %12s\n", "", "goroutines", "heap")
	for _, s := range res.Snaps {
		fmt.Fprintf(w, "  %-12s %10d %12s\n", s.Label, s.Goroutines, bytes(s.HeapAlloc))
	}
	if n := res.LeakedGoroutines(); n > 0 {
		fmt.Fprintf(w, "GOROUTINES LEAKED: %d more after Close than at the start\n", n)
	} else {
		fmt.Fprintf(w, "goroutines back to the start count after Close\n")
	}
	if len(res.KeptProblems) == 0 {
		fmt.Fprintf(w, "kept resources: %d exited once each at Close, last kept first, seeing nil\n", keptCount)
	}
	for _, p := range res.KeptProblems {
		fmt.Fprintf(w, "KEPT RESOURCES: %s\n", p)
	}
	if err := res.CloseErr(); err != nil {
		fmt.Fprintf(w, "CLOSE FAILED: %v\n", err)
	}
	warm, _ := res.snapNamed("warm-up")
	end, _ := res.snapNamed("end of load")
	verdict := "memory did not grow"
	if res.MemoryGrew() {
		verdict = "MEMORY GREW"
	}
	fmt.Fprintf(w, "%s: heap %s after warm-up, %s at the end of the load (tolerance %s + %d%%)\n",
		verdict, bytes(warm.HeapAlloc), bytes(end.HeapAlloc), bytes(heapSlack), heapSlackPct)
	if res.OK() {
		fmt.Fprintln(w, "verdict: OK")
	} else {
		fmt.Fprintln(w, "verdict: FAIL")
	}
}

func bytes(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
