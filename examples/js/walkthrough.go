package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

//go:embed client.js
var clientJS string

// config is what the flags set.
type config struct {
	Goroutines int // step 3: goroutines calling at once; step 5: HTTP clients
	Calls      int // step 3: calls per goroutine; step 5: requests per client
	Loops      int // step 5: loops of the rendering pool
}

// A hop is what client.doStuff reports: where a request was made.
type hop struct {
	Status int    `json:"status"`
	Loop   string `json:"loop"`
	Thread int    `json:"thread"`
	N      int    `json:"n"` // the session's request count after it
}

func (h hop) String() string {
	return fmt.Sprintf("got %d in loop %s in thread %d (request %d of the session)", h.Status, h.Loop, h.Thread, h.N)
}

// A walk is the walkthrough's state: where it prints, and the page it
// fetches.
type walk struct {
	cfg config
	out io.Writer
	mu  sync.Mutex // guards out
	url string
}

func (w *walk) printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, format+"\n", args...)
}

// run runs the whole walkthrough, printing to out. It returns an error if a
// step fails or if what a step shows does not hold.
func run(ctx context.Context, out io.Writer, cfg config) error {
	cfg.Goroutines, cfg.Calls, cfg.Loops = max(1, cfg.Goroutines), max(1, cfg.Calls), max(1, cfg.Loops)
	srv := startPageServer()
	defer srv.Close()
	w := &walk{cfg: cfg, out: out, url: srv.URL}
	w.printf("threadrunner and JavaScript: the seed's walkthrough with client.js, a JavaScript client library,")
	w.printf("fetching %s/ (an embedded server's %d-line page)\n", w.url, pageLines)
	for _, step := range []func(context.Context) error{w.teaser, w.withRunner, w.serve} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// vmOptions are the options of the walkthrough's VMs: the Go functions
// that its scripts call, then the scripts.
func (w *walk) vmOptions(scripts ...js.Option) []js.Option {
	return append([]js.Option{js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return errors.Join(
			rt.Set("tid", threadID),
			rt.Set("loopName", vm.Loop().Name),
			rt.Set("sessionClosed", func(id, requests int) {
				w.printf("   exit: session %d closed after %d requests, on thread %d", id, requests, threadID())
			}),
		)
	})}, scripts...)
}

// withRunner runs steps 1 to 4 on one runner, then closes it (step 5).
func (w *walk) withRunner(ctx context.Context) error {
	r := threadrunner.New(aio.Name("LoopThread"))
	defer r.Close()

	w.printf("1. A long-lived loop, and a JavaScript VM kept for its life (threadrunner.Keep(js.New(...)))")
	vm, err := threadrunner.Keep(ctx, r, js.New(w.vmOptions(js.Script("client.js", clientJS))...))
	if err != nil {
		return err
	}
	w.printf("   the VM was made on loop %s, and only that loop's thread (%d) ever touches it\n", r.Loop().Name(), r.Loop().ThreadID())

	w.printf("2. A long-lived session: client.openSession, kept (enter_context -> threadrunner.Keep(js.Resource(...)))")
	session, err := threadrunner.Keep(ctx, r, js.Resource(vm.Global("client.openSession"), w.url))
	if err != nil {
		return err
	}
	for range 2 {
		h, err := js.Call[hop](ctx, vm.Global("client.doStuff"), session)
		if err != nil {
			return err
		}
		w.printf("   main goroutine: %v", h)
	}
	w.printf("")
	if err := w.manyGoroutines(ctx, r, vm, session); err != nil {
		return err
	}
	if err := w.lines(ctx, r, session); err != nil {
		return err
	}

	w.printf("5. Close: the session's async dispose runs (kept last, closed first), then the VM closes")
	if err := r.Close(); err != nil {
		return err
	}
	_, err = js.Call[hop](ctx, vm.Global("client.doStuff"), session)
	if !errors.Is(err, js.ErrClosed) {
		return fmt.Errorf("step 5: a call after Close = %v; want js.ErrClosed", err)
	}
	w.printf("   -> after Close, js.Call returns %q (errors.Is ErrClosed: %v)\n", err, errors.Is(err, aio.ErrClosed))
	return nil
}

// teaser is the seed's opening: a coroutine run from sync code and a
// generator consumed from it, written in JavaScript, on a VM entered for one
// block.
func (w *walk) teaser(ctx context.Context) error {
	r := threadrunner.New()
	defer r.Close()
	var (
		v     int
		items []string
	)
	err := threadrunner.With(ctx, r, js.New(w.vmOptions(js.Script("client.js", clientJS))...), func(vm *js.VM) error {
		var err error
		if v, err = js.Call[int](ctx, vm.Global("doubled"), 4); err != nil {
			return err
		}
		for i, err := range threadrunner.Iter(ctx, r, js.Iter[int](vm.Global("generate"), 4)) {
			if err != nil {
				return err
			}
			items = append(items, fmt.Sprint(i))
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.printf("0. The seed's teaser, in JavaScript (a VM for one block: threadrunner.With(js.New(...)))")
	w.printf("   runner.run(do_stuff(4))        -> js.Call(doubled, 4)            = %d", v)
	w.printf("   runner.wrap_iter(gen_stuff(4)) -> threadrunner.Iter(js.Iter(...)) = %s\n", strings.Join(items, " "))
	if v != 8 || len(items) != 4 {
		return fmt.Errorf("step 0: got %d and %v; want 8 and 0 1 2 3", v, items)
	}
	return r.Close()
}

// manyGoroutines is step 3: the seed's do_stuff_in_threads, with n
// goroutines and no lock anywhere.
func (w *walk) manyGoroutines(ctx context.Context, r *threadrunner.Runner, vm *js.VM, session js.Handle) error {
	g, c := w.cfg.Goroutines, w.cfg.Calls
	w.printf("3. From many goroutines at once (run_coroutine_threadsafe -> js.Call from any goroutine)")
	before, err := js.Call[int](ctx, session.Get("requests"))
	if err != nil {
		return err
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		threads = map[int]int{}
		errs    []error
	)
	for range g {
		wg.Go(func() {
			for range c {
				h, err := js.Call[hop](ctx, vm.Global("client.doStuff"), session)
				mu.Lock()
				threads[h.Thread]++
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	after, err := js.Call[int](ctx, session.Get("requests"))
	if err != nil {
		return err
	}
	var ran []string
	for tid, n := range threads {
		ran = append(ran, fmt.Sprintf("%d requests on thread %d", n, tid))
	}
	w.printf("   %d goroutines x %d calls = %d requests; in JavaScript: %s (the loop's thread: %d)",
		g, c, g*c, strings.Join(ran, ", "), r.Loop().ThreadID())
	w.printf("   -> the session's request count went from %d to %d: exact (%d), with no lock\n", before, after, after-before)
	if after-before != g*c || len(threads) != 1 || threads[r.Loop().ThreadID()] != g*c {
		return fmt.Errorf("step 3: %d requests counted on threads %v; want %d on the loop's", after-before, threads, g*c)
	}
	return nil
}

// lines is step 4: a response for one block (wrap_context), and its lines
// as an async iterable (wrap_iter).
func (w *walk) lines(ctx context.Context, r *threadrunner.Runner, session js.Handle) error {
	w.printf("4. A response for one block, its lines as an async iterable")
	w.printf("   (wrap_context -> threadrunner.With(js.Resource(session.get)); wrap_iter -> threadrunner.Iter(js.Iter(response.lines)))")
	n := 0
	err := threadrunner.With(ctx, r, js.Resource(session.Get("get"), "/"), func(resp js.Handle) error {
		for _, err := range threadrunner.Iter(ctx, r, js.Iter[string](resp.Get("lines"))) {
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.printf("   got %d lines\n", n)
	if n != pageLines {
		return fmt.Errorf("step 4: got %d lines; want %d", n, pageLines)
	}
	return nil
}
