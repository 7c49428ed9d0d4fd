package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// config is what the flags set.
type config struct {
	URL        string // page to fetch; "" means the embedded server's
	Verbose    bool   // print every request and every line
	Goroutines int    // step 5: goroutines calling at once
	Calls      int    // step 5: calls per goroutine
}

// A tour walks through the seed's article, one step at a time.
type tour struct {
	cfg   config
	p     *printer
	url   string
	srv   *server // nil with -url
	tally atomic.Int64
	kept  *Session // step 6's kept session, used by step 7
}

// run runs the whole tour, printing to out. It returns an error if a step
// fails or if what a step shows does not hold.
func run(ctx context.Context, out io.Writer, cfg config) (err error) {
	if cfg.Goroutines < 1 {
		cfg.Goroutines = 8
	}
	if cfg.Calls < 1 {
		cfg.Calls = 4
	}
	tr := &tour{cfg: cfg, p: &printer{out: out, verbose: cfg.Verbose}, url: cfg.URL}
	if tr.url == "" {
		srv, err := startServer()
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, srv.Close()) }()
		tr.srv, tr.url = srv, srv.URL
		tr.p.Printf("threadrunner tour: fetching %s (embedded server, a %d-line page)", tr.url, pageLines)
	} else {
		tr.p.Printf("threadrunner tour: fetching %s", tr.url)
	}
	tr.p.Printf("process %d; every loop below reports its id and the OS thread (gettid) it ran on\n", os.Getpid())

	steps := []func(context.Context) error{tr.teaser, tr.transient, tr.withRunner}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return tr.crossCheck()
}

// teaser is the seed's opening: a coroutine run from sync code, and a
// generator consumed from it.
func (tr *tour) teaser(ctx context.Context) error {
	tr.p.Printf("0. The seed's teaser: run a task and range over a generator from sync code")
	r := threadrunner.New()
	defer r.Close()
	doStuff := func(i int) func(*aio.Task) (int, error) {
		return func(t *aio.Task) (int, error) { return i * 2, nil }
	}
	v, err := threadrunner.Run(ctx, r, doStuff(4))
	if err != nil {
		return err
	}
	generateStuff := func(n int) aio.Seq[int] {
		return func(t *aio.Task, yield func(int) bool) error {
			for i := range n {
				if !yield(i) {
					break
				}
			}
			return nil
		}
	}
	var items []string
	for i, err := range threadrunner.Iter(ctx, r, generateStuff(4)) {
		if err != nil {
			return err
		}
		items = append(items, fmt.Sprint(i))
	}
	tr.p.Printf("   runner.run(do_stuff(4))        -> threadrunner.Run  = %d", v)
	tr.p.Printf("   runner.wrap_iter(gen_stuff(4)) -> threadrunner.Iter = %s\n", strings.Join(items, " "))
	return r.Close()
}

// transient is step 1: asyncio.run twice, each time on a new loop.
func (tr *tour) transient(ctx context.Context) error {
	tr.p.Printf("1. Run on a transient loop, twice (asyncio.run -> aio.Run)")
	var hops []hop
	for range 2 {
		h, err := aio.Run(ctx, tr.main)
		if err != nil {
			return err
		}
		tr.p.Printf("   main goroutine: %v", h)
		hops = append(hops, h)
	}
	if hops[0].Loop == hops[1].Loop {
		return fmt.Errorf("step 1: both aio.Run calls ran in loop %d; want two loops", hops[0].Loop)
	}
	tr.p.Printf("   -> two loops (%d, then %d): each aio.Run makes a loop, runs it on the calling goroutine, and closes it\n",
		hops[0].Loop, hops[1].Loop)
	return nil
}

// main is the seed's main(): async with ClientSession() as session:
// do_stuff(session).
func (tr *tour) main(t *aio.Task) (hop, error) {
	var h hop
	err := aio.With(t, NewSession("per-run", tr.p, &tr.tally), func(s *Session) error {
		var err error
		h, err = s.Get(t, tr.url)
		return err
	})
	return h, err
}

// withRunner runs the steps that share one long-lived runner, and closes it.
func (tr *tour) withRunner(ctx context.Context) error {
	r := threadrunner.New(aio.Name("LoopThread"))
	steps := []func(context.Context, *threadrunner.Runner) error{
		tr.longLivedLoop, tr.longLivedSession, tr.lifetime, tr.iterate,
	}
	for _, step := range steps {
		if err := step(ctx, r); err != nil {
			return errors.Join(err, r.Close())
		}
	}
	tr.p.Printf("8. Close: kept resources are exited (last kept, first exited), the loop stops")
	if err := r.Close(); err != nil {
		return err
	}
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return 0, nil })
	if !errors.Is(err, aio.ErrClosed) {
		return fmt.Errorf("step 8: Run after Close = %v; want ErrClosed", err)
	}
	tr.p.Printf("   -> after Close, threadrunner.Run returns %q (errors.Is ErrClosed: %v)\n", err, errors.Is(err, aio.ErrClosed))
	return nil
}

// longLivedLoop is step 2: asyncio.Runner, run twice: one loop, one thread.
func (tr *tour) longLivedLoop(ctx context.Context, r *threadrunner.Runner) error {
	tr.p.Printf("2. A long-lived loop (asyncio.Runner -> threadrunner.New, threadrunner.Run twice)")
	var hops []hop
	for range 2 {
		h, err := threadrunner.Run(ctx, r, tr.main)
		if err != nil {
			return err
		}
		tr.p.Printf("   main goroutine: %v", h)
		hops = append(hops, h)
	}
	sameLoop, sameThread := hops[0].Loop == hops[1].Loop, hops[0].Thread == hops[1].Thread
	if !sameLoop || !sameThread {
		return fmt.Errorf("step 2: runs in %v and %v; want one loop on one thread", hops[0], hops[1])
	}
	tr.p.Printf("   -> same loop: %v (loop %d), same thread: %v (thread %d)\n", sameLoop, hops[0].Loop, sameThread, hops[0].Thread)
	return nil
}

// longLivedSession is steps 3 to 5: one session, entered and exited by hand,
// used twice, then while the main goroutine does something else, then from
// many goroutines at once.
func (tr *tour) longLivedSession(ctx context.Context, r *threadrunner.Runner) error {
	tr.p.Printf("3. A long-lived session (session.__aenter__ / __aexit__ by hand -> threadrunner.Open, release)")
	s, release, err := threadrunner.Open(ctx, r, NewSession("shared", tr.p, &tr.tally))
	if err != nil {
		return err
	}
	tr.p.Printf("   Open: session %q was made on the loop; the main goroutine holds it but uses it only through the runner", "shared")
	for range 2 {
		h, err := tr.get(ctx, r, s)
		if err != nil {
			return errors.Join(err, release(err))
		}
		tr.p.Printf("   main goroutine: %v (request %d of this session)", h, h.N)
	}
	tr.p.Printf("")
	if err := tr.meanwhile(ctx, r, s); err != nil {
		return errors.Join(err, release(err))
	}
	if err := tr.manyGoroutines(ctx, r, s); err != nil {
		return errors.Join(err, release(err))
	}
	tr.p.Printf("   releasing the session by hand (the seed's session.__aexit__):")
	err = release(nil)
	tr.p.Printf("")
	return err
}

// get is do_stuff run through the runner: one request with s, on the loop.
func (tr *tour) get(ctx context.Context, r *threadrunner.Runner, s *Session) (hop, error) {
	return threadrunner.Run(ctx, r, func(t *aio.Task) (hop, error) { return s.Get(t, tr.url) })
}

// crossCheck compares the requests the sessions counted on their loops with
// those the embedded server served.
func (tr *tour) crossCheck() error {
	counted := tr.tally.Load()
	if tr.srv == nil {
		tr.p.Printf("done: the sessions made %d requests", counted)
		return nil
	}
	served := tr.srv.served.Load()
	tr.p.Printf("done: the embedded server served %d requests; the sessions counted %d", served, counted)
	if served != counted {
		return fmt.Errorf("the server served %d requests, the sessions counted %d", served, counted)
	}
	return nil
}
