// Command soak holds one threadrunner.Runner under mixed load from many
// goroutines for a set time (Run with values, errors, panics and short
// deadlines; Submit + Cancel; Iter broken off early; With whose body fails;
// a few resources kept for the runner's life), closes it under that load,
// and reports calls served, outcomes by kind, Run latency, goroutines and
// heap over time, and a verdict. It exits with status 1 if any call ended in
// a way it should not have, if goroutines leaked, if Close failed, or if
// memory grew.
//
//	cd bench && go run ./cmd/soak -d 60s
//	go run ./cmd/soak -d 3s              # quick, for CI
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/soak"
)

func main() {
	d := flag.Duration("d", 60*time.Second, "how long to hold the load before Close")
	g := flag.Int("g", soak.DefaultGoroutines(), "calling goroutines (at least 48)")
	unpinned := flag.Bool("unpinned", false, "run the loop unpinned (aio.Unpinned)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the callers' random choices")
	heap := flag.String("memprofile", "", "write a heap profile to this file at the end of the load, before Close")
	flag.Parse()

	res, err := soak.Run(soak.Config{Duration: *d, Goroutines: *g, Unpinned: *unpinned, Seed: *seed, Out: os.Stderr, HeapProfile: *heap})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("seed: %d\n", *seed)
	res.Print(os.Stdout)
	if !res.OK() {
		os.Exit(1)
	}
}
