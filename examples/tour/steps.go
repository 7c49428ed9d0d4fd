package main

// Steps 4 to 7 of the tour, on the long-lived runner that withRunner made:
// the main goroutine working while the loop serves, many goroutines at
// once, resource lifetimes, and an async generator.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// meanwhile is step 4: Submit starts the request and returns a future at
// once; the main goroutine works while the loop serves the request.
func (tr *tour) meanwhile(ctx context.Context, r *threadrunner.Runner, s *Session) error {
	tr.p.Printf("4. Doing something else meanwhile (run_coroutine_threadsafe -> threadrunner.Submit, Future.Wait)")
	f := threadrunner.Submit(ctx, r, func(t *aio.Task) (hop, error) { return s.Get(t, tr.url) })
	tr.p.Printf("   main goroutine: submitted; the request runs on the loop (future settled yet: %v)", f.Settled())
	primes := countPrimes(200_000)
	tr.p.Printf("   main goroutine: meanwhile, counted %d primes below 200000", primes)
	h, err := f.Wait(ctx)
	if err != nil {
		return err
	}
	tr.p.Printf("   main goroutine: Wait -> %v (request %d of this session)\n", h, h.N)
	return nil
}

// manyGoroutines is step 5: the naive re-entrant call is refused, and calls
// from many goroutines at once are safe.
func (tr *tour) manyGoroutines(ctx context.Context, r *threadrunner.Runner, s *Session) error {
	tr.p.Printf("5. Calls from several goroutines at once")
	// The seed's naive version broke with "This event loop is already
	// running". Here the blocking calls that would deadlock are refused.
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (hop, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (hop, error) { return s.Get(t, tr.url) })
	})
	if !errors.Is(err, aio.ErrLoopThread) {
		return fmt.Errorf("step 5: threadrunner.Run inside a task = %v; want ErrLoopThread", err)
	}
	tr.p.Printf("   naive: threadrunner.Run inside a task of the same runner -> %q (errors.Is ErrLoopThread: %v)", err, errors.Is(err, aio.ErrLoopThread))
	_, err = threadrunner.Run(ctx, r, func(t *aio.Task) (struct{}, error) { return struct{}{}, r.Close() })
	if !errors.Is(err, aio.ErrLoopThread) {
		return fmt.Errorf("step 5: Close inside a task = %v; want ErrLoopThread", err)
	}
	tr.p.Printf("   naive: runner.Close inside a task -> ErrLoopThread too; the runner serves on")

	before, err := threadrunner.Run(ctx, r, s.Requests)
	if err != nil {
		return err
	}
	g, c := tr.cfg.Goroutines, tr.cfg.Calls
	errs := make([]error, g)
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() {
			for j := range c {
				h, err := tr.get(ctx, r, s)
				if err != nil {
					errs[i] = err
					return
				}
				tr.p.Verbosef("   goroutine %d, call %d: %v (request %d)", i+1, j+1, h, h.N)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	after, err := threadrunner.Run(ctx, r, s.Requests)
	if err != nil {
		return err
	}
	threads, err := threadrunner.Run(ctx, r, s.Threads)
	if err != nil {
		return err
	}
	tr.p.Printf("   %d goroutines x %d calls = %d requests at once through threadrunner.Run", g, c, g*c)
	if after-before != g*c {
		return fmt.Errorf("step 5: the session counted %d requests; want %d", after-before, g*c)
	}
	tr.p.Printf("   -> the session's plain int counter went from %d to %d: exact (%d), with no lock", before, after, after-before)
	if len(threads) != 1 {
		return fmt.Errorf("step 5: the session's requests were counted on threads %v; want one", threads)
	}
	tr.p.Printf("   -> all %d of its requests were counted on one thread: %v", after, slices.Collect(maps.Keys(threads)))
	return nil
}

// lifetime is step 6: a resource for one block (wrap_context), and one kept
// for the runner's life (enter_context).
func (tr *tour) lifetime(ctx context.Context, r *threadrunner.Runner) error {
	tr.p.Printf("6. Resources without managing them by hand (wrap_context -> threadrunner.With, enter_context -> threadrunner.Keep)")
	err := threadrunner.With(ctx, r, NewSession("block", tr.p, &tr.tally), func(s *Session) error {
		h, err := tr.get(ctx, r, s)
		if err == nil {
			tr.p.Printf("   inside With: %v", h)
		}
		return err
	})
	if err != nil {
		return err
	}
	s, err := threadrunner.Keep(ctx, r, NewSession("kept", tr.p, &tr.tally))
	if err != nil {
		return err
	}
	tr.kept = s
	tr.p.Printf("   Keep: session \"kept\" lives until the runner closes (step 8)\n")
	return nil
}

// iterate is step 7: a response opened for one block, its lines read through
// an async generator.
func (tr *tour) iterate(ctx context.Context, r *threadrunner.Runner) error {
	tr.p.Printf("7. An async iterable (async with session.get(url) -> threadrunner.With; async for -> threadrunner.Iter)")
	n := 0
	err := threadrunner.With(ctx, r, tr.kept.Open(tr.url), func(resp *Response) error {
		tr.p.Printf("   response status %d; reading its lines on the loop, handed over in batches", resp.Status)
		for line, err := range threadrunner.Iter(ctx, r, resp.Lines()) {
			if err != nil {
				return err
			}
			n++
			tr.p.Verbosef("   line %d: %s", n, strings.TrimRight(line, "\r\n"))
		}
		return nil
	})
	if err != nil {
		return err
	}
	tr.p.Printf("   got %d lines\n", n)
	if tr.srv != nil && n != pageLines {
		return fmt.Errorf("step 7: got %d lines; want %d", n, pageLines)
	}
	return nil
}

// countPrimes is the main goroutine's other work: the primes below n, by sieve.
func countPrimes(n int) int {
	composite := make([]bool, n)
	count := 0
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return count
}
