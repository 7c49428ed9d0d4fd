package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

// The JavaScript cases compare three ways of using goja from Go: package js
// on a threadrunner loop (tr-js), goja_nodejs's event loop (goja-promise),
// and goja called directly by the caller under a mutex (goja-direct, the
// floor: no thread hop, no event loop). Each runs jsScript, with goInc, an
// async function written in Go, defined the peer's way.

// An AwaitGoer runs, from Go, an async JavaScript function that awaits an
// async function written in Go, and returns its result.
type AwaitGoer interface {
	AwaitGo(x int) (int, error)
}

// A TimeoutSetter has JavaScript set n timers of setTimeout(cb, 1) at once,
// and returns once all have fired.
type TimeoutSetter interface {
	Timeouts(n int) error
}

// A JSIterator consumes, from Go, a JavaScript async iterator yielding 0, 1,
// 2, ... while more reports true, and returns how many values it took and
// their sum.
type JSIterator interface {
	IterJS(more func() bool) (n, sum int, err error)
}

// A PendingAwaiter has n goroutines each wait for a JavaScript promise that
// is pending, calls measure while all n wait, then settles the promises and
// waits for the goroutines.
type PendingAwaiter interface {
	Pending(n int, measure func()) error
}

// The JavaScript peers' names.
const (
	NameJS         = "tr-js"
	NameJSUnpinned = "tr-js-unpinned"
	NameGojaDirect = "goja-direct"
	NameJSPool1    = "tr-js-pool-1"
	NameJSPool2    = "tr-js-pool-2"
)

// jsPeers are the peers of the JavaScript cases that All adds to the
// others (goja-promise is one of those).
func jsPeers() []Peer {
	return []Peer{{
		Name:  NameJS,
		Doc:   "package js: a goja VM kept on a pinned threadrunner loop; js.Call of an async function from Go",
		New:   newSystem(func() (*JS, error) { return NewJS() }),
		Proto: (*JS)(nil),
	}, {
		Name:  NameJSUnpinned,
		Doc:   "the same on an aio.Unpinned() loop: goja needs no thread of its own, so the Go scheduler may move the loop",
		New:   newSystem(func() (*JS, error) { return NewJS(aio.Unpinned()) }),
		Proto: (*JS)(nil),
	}, {
		Name:  NameGojaDirect,
		Doc:   "goja called directly by the calling goroutine, under a mutex: no thread hop, no event loop",
		New:   newSystem(NewGojaDirect),
		Proto: (*GojaDirect)(nil),
	}, {
		Name:  NameJSPool1,
		Doc:   "threadrunner.Pool of 1 loop with a VM each, behind a loopback HTTP server that renders pages in JavaScript",
		New:   newSystem(func() (*JSPool, error) { return NewJSPool(1) }),
		Proto: (*JSPool)(nil),
	}, {
		Name:  NameJSPool2,
		Doc:   "the same with 2 loops",
		New:   newSystem(func() (*JSPool, error) { return NewJSPool(2) }),
		Proto: (*JSPool)(nil),
	}}
}

// jsScript is the JavaScript the peers run. goInc(x) is an async function
// the peer defines in Go.
const jsScript = `
let count = 0;
async function tick() { return ++count; }
async function viaGo(x) { return await goInc(x); }

function timeouts(n, done) {
	let left = n;
	for (let i = 0; i < n; i++) setTimeout(() => { if (--left === 0) done(); }, 1);
}
function timeoutsPromise(n) { return new Promise(r => timeouts(n, r)); }

function naturals() {
	let i = 0;
	return {
		next() { return Promise.resolve({ done: false, value: i++ }); },
		return() { return Promise.resolve({ done: true }); },
	};
}

let pendingOpen, pendingGate = new Promise(r => { pendingOpen = r; }), waiting = 0;
async function waitGate() { waiting++; await pendingGate; waiting--; return 1; }
function openGate() { pendingOpen(); pendingGate = new Promise(r => { pendingOpen = r; }); }
`

// A JS is package js: a VM kept on a pinned threadrunner loop, called from
// Go with js.Call.
type JS struct {
	r   *threadrunner.Runner
	vm  *js.VM
	ctx context.Context
	// Handles of jsScript's functions, made once.
	tick, viaGo, timeouts, naturals, waitGate, openGate, waiting js.Handle
}

// NewJS starts a runner configured by opts and keeps a VM running jsScript
// on it; goInc is a Go async function (js.Async) whose task returns at once.
func NewJS(opts ...aio.Option) (*JS, error) {
	s := &JS{r: threadrunner.New(opts...), ctx: context.Background()}
	vm, err := threadrunner.Keep(s.ctx, s.r, js.New(js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("goInc", js.Async(vm, func(t *aio.Task, args []goja.Value) (int64, error) {
			return args[0].ToInteger() + 1, nil
		}))
	}), js.Script("bench.js", jsScript)))
	if err != nil {
		return nil, errors.Join(err, s.r.Close())
	}
	s.vm = vm
	g := vm.Global
	s.tick, s.viaGo, s.timeouts, s.naturals = g("tick"), g("viaGo"), g("timeoutsPromise"), g("naturals")
	s.waitGate, s.openGate, s.waiting = g("waitGate"), g("openGate"), g("waiting")
	return s, nil
}

// Call implements [System]: js.Call of the async function tick.
func (s *JS) Call() (int, error) { return js.Call[int](s.ctx, s.tick) }

// AwaitGo implements [AwaitGoer].
func (s *JS) AwaitGo(x int) (int, error) { return js.Call[int](s.ctx, s.viaGo, x) }

// Timeouts implements [TimeoutSetter].
func (s *JS) Timeouts(n int) error {
	_, err := js.Call[struct{}](s.ctx, s.timeouts, n)
	return err
}

// IterJS implements [JSIterator] with threadrunner.Iter over js.Iter.
func (s *JS) IterJS(more func() bool) (n, sum int, err error) {
	for v, err := range threadrunner.Iter(s.ctx, s.r, js.Iter[int](s.naturals)) {
		if err != nil {
			return n, sum, err
		}
		if !more() {
			break
		}
		n, sum = n+1, sum+v
	}
	return n, sum, nil
}

// Pending implements [PendingAwaiter]: n goroutines in js.Call of waitGate.
func (s *JS) Pending(n int, measure func()) error {
	return pendingCalls(n, measure,
		func() error { _, err := js.Call[int](s.ctx, s.waitGate); return err },
		func() (int, error) { return js.Eval[int](s.ctx, s.vm, "waiting.js", "waiting") },
		func() error { _, err := js.Call[struct{}](s.ctx, s.openGate); return err })
}

// Close closes the runner, and the VM with it.
func (s *JS) Close() error { return s.r.Close() }

// pendingCalls runs wait in n goroutines, polls waiting until all n wait,
// calls measure, then release, and waits for the goroutines: the shape of
// every peer's Pending.
func pendingCalls(n int, measure func(), wait func() error, waiting func() (int, error), release func() error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range n {
		wg.Go(func() {
			if err := wait(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(time.Minute); ; {
		w, err := waiting()
		if err != nil {
			return err
		}
		if w == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peers: %d of %d calls wait after a minute", w, n)
		}
		time.Sleep(time.Millisecond)
	}
	measure()
	err := release()
	wg.Wait()
	return errors.Join(err, errors.Join(errs...))
}
