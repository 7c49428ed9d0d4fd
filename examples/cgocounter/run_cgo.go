//go:build linux && cgo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// A result is what one way of calling the library saw.
type result struct {
	Calls   int         // calls made
	Threads map[int]int // the counter each thread the calls landed on ended with
	Loop    int         // the runner's loop thread, as aio.Loop.ThreadID reports it (viaRunner only)
}

// viaRunner makes g goroutines call the library n times each through one
// runner: every call lands on the loop's thread, so there is one counter and
// it ends exact.
func viaRunner(ctx context.Context, out io.Writer, g, n int) (res result, err error) {
	r := threadrunner.New(aio.Name("CounterThread"))
	defer func() { err = errors.Join(err, r.Close()) }()
	if _, err := threadrunner.Keep(ctx, r, library{out: out}); err != nil {
		return res, err
	}
	seen := make([]map[int]bool, g) // threads each goroutine's calls landed on
	errs := make([]error, g)
	var wg sync.WaitGroup
	for i := range g {
		seen[i] = make(map[int]bool)
		wg.Go(func() {
			for range n {
				rd, err := threadrunner.Run(ctx, r, func(t *aio.Task) (reading, error) { return incr(), nil })
				if err != nil {
					errs[i] = err
					return
				}
				seen[i][rd.Thread] = true
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	res = result{Calls: g * n, Threads: make(map[int]int)}
	for _, s := range seen {
		for tid := range s {
			res.Threads[tid] = 0
		}
	}
	// Read the final counter of every thread the calls landed on, there.
	final, err := threadrunner.Run(ctx, r, func(t *aio.Task) (reading, error) { return get(), nil })
	if err != nil {
		return res, err
	}
	if _, ok := res.Threads[final.Thread]; !ok || len(res.Threads) != 1 {
		return res, fmt.Errorf("the calls landed on threads %v, the final read on %d; want one thread", slices.Sorted(maps.Keys(res.Threads)), final.Thread)
	}
	res.Threads[final.Thread] = final.Count
	res.Loop = r.Loop().ThreadID()
	report(out, res) // before the deferred Close reports the library's exit
	return res, nil
}

// direct makes g goroutines call the library n times each, directly. Each
// goroutine locks itself to its OS thread, as cgo code that uses a
// thread-affine library must, so each has a thread, and a counter, of its
// own. (Without the lock the split is worse: a goroutine's calls land on
// whichever thread it runs on at the moment.)
func direct(g, n int) result {
	finals := make([]reading, g)
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() {
			// The goroutine exits locked, so its thread ends with it: no
			// other goroutine ever runs on a thread whose counter it touched.
			runtime.LockOSThread()
			reset()
			for range n {
				finals[i] = incr()
			}
		})
	}
	wg.Wait()
	res := result{Calls: g * n, Threads: make(map[int]int)}
	for _, f := range finals {
		res.Threads[f.Thread] += f.Count
	}
	return res
}

// run runs the example: the library called through a runner, then directly.
func run(ctx context.Context, out io.Writer, g, n int) error {
	fmt.Fprintf(out, "A C library whose counter lives in thread-local storage (__thread), called %d times from each of %d goroutines.\n\n", n, g)

	fmt.Fprintf(out, "1. Through threadrunner.Run:\n")
	res, err := viaRunner(ctx, out, g, n)
	if err != nil {
		return err
	}
	if len(res.Threads) != 1 || res.Threads[res.Loop] != res.Calls {
		return fmt.Errorf("through the runner: counters %v; want the loop's thread %d counting %d", res.Threads, res.Loop, res.Calls)
	}
	fmt.Fprintf(out, "   -> every call landed on one thread, the loop's (%d), and its counter is exact: %d\n\n", res.Loop, res.Calls)

	fmt.Fprintf(out, "2. Directly, from goroutines each locked to its own OS thread:\n")
	res = direct(g, n)
	report(out, res)
	if total(res) != res.Calls {
		return fmt.Errorf("directly: counters %v add up to %d; want %d", res.Threads, total(res), res.Calls)
	}
	fmt.Fprintf(out, "   -> the calls split over %d threads; the counters add up to %d, but the largest is %d\n",
		len(res.Threads), total(res), slices.Max(slices.Collect(maps.Values(res.Threads))))
	return nil
}

// report prints the counter of each thread in res.
func report(out io.Writer, res result) {
	for _, tid := range slices.Sorted(maps.Keys(res.Threads)) {
		fmt.Fprintf(out, "   thread %d: counter %d\n", tid, res.Threads[tid])
	}
}

// total adds up the counters of res.
func total(res result) int {
	sum := 0
	for _, n := range res.Threads {
		sum += n
	}
	return sum
}
