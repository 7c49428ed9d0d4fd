// Package soak holds one threadrunner.Runner under mixed load from many
// goroutines for a set time, then closes it under that load, and checks that
// every call ended in an allowed way, that no goroutine was left behind and
// that memory did not grow. cmd/soak is its command line.
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
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

// soak is the state the workers share.
type soak struct {
	r       *threadrunner.Runner
	stop    atomic.Bool // workers return at their next operation
	closing atomic.Bool // Close has begun: ErrClosed is allowed from now on

	mu      sync.Mutex // guards bad and nBad
	bad     []string   // the first disallowed outcomes
	nBad    int
	exitOrd []int // order in which kept resources exited; loop-owned until Close returns
}

func (s *soak) disallowed(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nBad++
	if len(s.bad) < 10 {
		s.bad = append(s.bad, msg)
	}
}

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
	s := &soak{r: threadrunner.New(opts...)}
	kept := make([]*resource, keptCount)
	for i := range kept {
		kept[i] = &resource{id: i + 1, order: &s.exitOrd}
		if _, err := threadrunner.Keep(context.Background(), s.r, kept[i]); err != nil {
			s.r.Close()
			return nil, fmt.Errorf("soak: Keep: %w", err)
		}
	}

	workers := make([]*worker, cfg.Goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{s: s, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
		workers[i] = w
		wg.Go(w.loop)
	}
	at := func(frac float64) { time.Sleep(time.Until(start.Add(time.Duration(frac * float64(cfg.Duration))))) }
	at(0.1)
	res.snap("warm-up")
	at(0.5)
	res.snap("midpoint")
	at(1)
	res.snap("end of load")
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile); err != nil && cfg.Out != nil {
			fmt.Fprintln(cfg.Out, "soak:", err)
		}
	}

	// Close under load: calls in flight and calls made from now on end
	// with ErrClosed.
	s.closing.Store(true)
	closeStart := time.Now()
	res.CloseErr = s.r.Close()
	res.CloseTook = time.Since(closeStart)
	s.stop.Store(true)
	joined := make(chan struct{})
	go func() {
		wg.Wait()
		close(joined)
	}()
	select {
	case <-joined:
	case <-time.After(stuckAfter):
		res.Stuck = true
		if cfg.Out != nil {
			buf := make([]byte, 1<<22)
			fmt.Fprintf(cfg.Out, "soak: callers still running %v after Close; goroutines:\n%s\n", stuckAfter, buf[:runtime.Stack(buf, true)])
		}
		return res, nil
	}
	res.Elapsed = time.Since(start)

	for _, w := range workers {
		for k, n := range w.counts {
			res.Outcomes[k] += n
		}
		res.Latency.merge(&w.lat)
	}
	res.Disallowed = s.bad
	res.checkKept(kept, s.exitOrd)

	// Goroutines of the runner and the workers must all be gone.
	deadline := time.Now().Add(settleWithin)
	for runtime.NumGoroutine() > res.Snaps[0].Goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res.snap("after Close")
	return res, nil
}

// checkKept checks that Close exited the kept resources once each, last kept
// first, each seeing nil.
func (res *Result) checkKept(kept []*resource, order []int) {
	want := make([]int, len(kept))
	for i, k := range kept {
		want[len(kept)-1-i] = k.id
		if n := k.exits.Load(); n != 1 || k.how != nil {
			res.KeptProblems = append(res.KeptProblems,
				fmt.Sprintf("kept resource %d: %d exits, last saw %v; want 1 exit seeing nil", k.id, n, k.how))
		}
	}
	if !slices.Equal(order, want) {
		res.KeptProblems = append(res.KeptProblems, fmt.Sprintf("kept resources exited in order %v; want %v", order, want))
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}
