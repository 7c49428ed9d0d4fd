// Package soak holds one threadrunner.Runner under mixed load from many
// goroutines for a set time, then closes it under that load, and checks that
// every call ended in an allowed way, that no goroutine was left behind and
// that memory did not grow. The load and its checks are the core module's
// internal/stress, run with its steady mix; the soak adds the snapshots of
// goroutines and heap, the memory verdict and the report. cmd/soak is its
// command line.
package soak

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/stress"
)

// Config sizes a soak.
type Config struct {
	Duration    time.Duration // how long the load runs before Close
	Goroutines  int           // callers; at least 48
	Unpinned    bool          // run the loop with aio.Unpinned
	Seed        uint64        // seeds the workers' choices
	Out         io.Writer     // where a stuck soak dumps its goroutines; nil for nowhere
	HeapProfile string        // if set, a heap profile is written there at the end of the load
}

// Memory tolerance: the heap at the end of the load may exceed the heap
// after warm-up by this much before the soak calls it growth.
const (
	heapSlack    = 4 << 20 // bytes
	heapSlackPct = 25      // percent of the heap after warm-up
	keptCount    = 3       // resources kept for the runner's life
	stuckAfter   = 30 * time.Second
	settleWithin = 5 * time.Second // for goroutines to exit after Close
)

// DefaultGoroutines is the number of callers: at least 48, more on bigger
// machines.
func DefaultGoroutines() int { return max(48, 16*runtime.GOMAXPROCS(0)) }

// Run runs the soak and returns what it saw. It returns an error only if the
// soak could not be set up; a soak that saw something wrong says so in the
// Result (see [Result.OK]).
func Run(cfg Config) (*Result, error) {
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("soak: Duration = %v; want > 0", cfg.Duration)
	}
	cfg.Goroutines = max(cfg.Goroutines, 48)
	res := &Result{Config: cfg}
	res.snap("start")

	var opts []aio.Option
	if cfg.Unpinned {
		opts = append(opts, aio.Unpinned())
	}
	endOfLoad := func() {
		res.snap("end of load")
		if cfg.HeapProfile != "" {
			if err := writeHeapProfile(cfg.HeapProfile); err != nil && cfg.Out != nil {
				fmt.Fprintln(cfg.Out, "soak:", err)
			}
		}
	}
	sr, err := stress.Run(stress.Config{
		Options:  opts,
		Workers:  cfg.Goroutines,
		Duration: cfg.Duration,
		Seed:     cfg.Seed,
		Mix:      stress.Steady(),
		Kept:     keptCount,
		Checkpoints: []stress.Checkpoint{
			{At: 0.1, Fn: func() { res.snap("warm-up") }},
			{At: 0.5, Fn: func() { res.snap("midpoint") }},
			{At: 1, Fn: endOfLoad},
		},
		StuckAfter: stuckAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	res.Result = sr
	if sr.Stuck != "" {
		if cfg.Out != nil {
			fmt.Fprintf(cfg.Out, "soak: callers still running %v after Close:\n%s\n", stuckAfter, sr.Stuck)
		}
		return res, nil
	}

	// Goroutines of the runner and the workers must all be gone.
	deadline := time.Now().Add(settleWithin)
	for runtime.NumGoroutine() > res.Snaps[0].Goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res.snap("after Close")
	return res, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}
