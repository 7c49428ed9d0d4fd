package peers

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/eventloop"
)

// A Goja is goja_nodejs's event loop, the JavaScript engine's own answer to
// "run this on the engine's goroutine". It is not pinned to an OS thread.
// Its Call posts a Go function with RunOnLoop and waits for it on a channel.
type Goja struct {
	loop   *eventloop.EventLoop
	closed atomic.Bool
	replys sync.Pool

	// Owned by the loop goroutine.
	count     int
	f         goja.Callable // async function f(x) { return x + 1 }
	spawnLoop goja.Callable // spawnLoop(more, done): await g(i) while more()
	suspendN  goja.Callable // suspendN(n): n async functions awaiting one promise
	release   goja.Callable // release(done): resolve that promise, done() after the last
	js        gojaJS        // jsScript's functions, for the JavaScript cases
}

// gojaScript defines the JavaScript side of the goja peers.
const gojaScript = `
async function f(x) { return x + 1; }

async function g(i) { return i; }
async function spawnAll(more) { let n = 0; while (more()) { n += await g(1); } return n; }
function spawnLoop(more, done) { spawnAll(more).then(v => done(v, null), e => done(null, e)); }

let gate = null, gated = null, left = 0, finish = null;
async function w() { await gated; if (--left === 0) finish(); }
function suspendN(n) {
	gated = new Promise(r => { gate = r; });
	left = n;
	for (let i = 0; i < n; i++) w();
}
function release(done) {
	if (left === 0) { done(); return; }
	finish = done;
	gate();
}
`

// NewGoja starts a goja_nodejs event loop in the background and loads the
// script the benchmarks call.
func NewGoja() (*Goja, error) {
	g := &Goja{loop: eventloop.NewEventLoop()}
	g.replys.New = func() any { return make(chan gojaResult, 1) }
	g.loop.Start()
	errc := make(chan error, 1)
	g.loop.RunOnLoop(func(vm *goja.Runtime) {
		errc <- g.load(vm)
	})
	if err := <-errc; err != nil {
		g.loop.Terminate()
		return nil, err
	}
	return g, nil
}

func (g *Goja) load(vm *goja.Runtime) error {
	if _, err := vm.RunString(gojaScript); err != nil {
		return err
	}
	if err := g.loadJS(vm); err != nil {
		return err
	}
	for name, dst := range map[string]*goja.Callable{
		"f": &g.f, "spawnLoop": &g.spawnLoop, "suspendN": &g.suspendN, "release": &g.release,
	} {
		fn, ok := goja.AssertFunction(vm.Get(name))
		if !ok {
			return fmt.Errorf("peers: goja: %s is not a function", name)
		}
		*dst = fn
	}
	return nil
}

// A gojaResult is what a JavaScript callback hands back to Go.
type gojaResult struct {
	v   int
	err error
}

// doneFunc returns a JavaScript function done(v, err) that sends its
// arguments to reply.
func doneFunc(vm *goja.Runtime, reply chan<- gojaResult) goja.Value {
	return vm.ToValue(func(call goja.FunctionCall) goja.Value {
		if e := call.Argument(1); !goja.IsNull(e) && !goja.IsUndefined(e) {
			reply <- gojaResult{err: errors.New(e.String())}
			return goja.Undefined()
		}
		reply <- gojaResult{v: int(call.Argument(0).ToInteger())}
		return goja.Undefined()
	})
}

// Call implements [System] with RunOnLoop and a channel.
func (g *Goja) Call() (int, error) {
	if g.closed.Load() {
		return 0, ErrClosed
	}
	reply := g.replys.Get().(chan gojaResult)
	if !g.loop.RunOnLoop(func(*goja.Runtime) {
		g.count++
		reply <- gojaResult{v: g.count}
	}) {
		return 0, ErrClosed
	}
	r := <-reply
	g.replys.Put(reply)
	return r.v, r.err
}

// Close stops the loop and waits for its goroutine to exit.
func (g *Goja) Close() error {
	if g.closed.CompareAndSwap(false, true) {
		g.loop.Terminate()
	}
	return nil
}

// A GojaPromise is the same loop used the way JavaScript code is: Call runs
// `async function f(x) { return x + 1 }` on the loop and waits from Go for the
// promise it returns; SpawnAwait and Suspend run async functions.
type GojaPromise struct {
	*Goja
}

// NewGojaPromise starts a goja_nodejs event loop for the promise peer.
func NewGojaPromise() (GojaPromise, error) {
	g, err := NewGoja()
	return GojaPromise{g}, err
}

// Call implements [System]: it calls the async function f on the loop and
// waits for its promise. goja runs the promise jobs that the call queued
// before the call returns, so a promise that can settle now has settled
// then, and is read at once; one still pending (f awaiting something that
// has not happened) is awaited with a then-callback, which the loop runs
// when it settles.
func (g GojaPromise) Call() (int, error) {
	if g.closed.Load() {
		return 0, ErrClosed
	}
	reply := g.replys.Get().(chan gojaResult)
	if !g.loop.RunOnLoop(func(vm *goja.Runtime) { g.callF(vm, reply) }) {
		return 0, ErrClosed
	}
	r := <-reply
	g.replys.Put(reply)
	return r.v, r.err
}

// callF calls f with the count, on the loop, and sends the promise's outcome
// to reply once it has one, keeping it as the new count.
func (g GojaPromise) callF(vm *goja.Runtime, reply chan<- gojaResult) {
	v, err := g.f(goja.Undefined(), vm.ToValue(g.count))
	g.settled(vm, v, err, func(r gojaResult) {
		if r.err == nil {
			g.count = r.v
		}
		reply <- r
	})
}

// SpawnAwait implements [Spawner] for the promise peer: an async JavaScript
// function awaits another async function's result while more reports true.
func (g GojaPromise) SpawnAwait(more func() bool) (int, error) {
	if g.closed.Load() {
		return 0, ErrClosed
	}
	reply := make(chan gojaResult, 1)
	ok := g.loop.RunOnLoop(func(vm *goja.Runtime) {
		moreFn := vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.ToValue(more()) })
		if _, err := g.spawnLoop(goja.Undefined(), moreFn, doneFunc(vm, reply)); err != nil {
			reply <- gojaResult{err: err}
		}
	})
	if !ok {
		return 0, ErrClosed
	}
	r := <-reply
	return r.v, r.err
}

// Suspend implements [Suspender] for the promise peer: n async JavaScript
// functions await one promise that is still pending.
func (g GojaPromise) Suspend(n int, measure func()) error {
	if g.closed.Load() {
		return ErrClosed
	}
	suspended := make(chan error, 1)
	if !g.loop.RunOnLoop(func(vm *goja.Runtime) {
		_, err := g.suspendN(goja.Undefined(), vm.ToValue(n))
		suspended <- err
	}) {
		return ErrClosed
	}
	if err := <-suspended; err != nil {
		return err
	}
	measure()
	reply := make(chan gojaResult, 1)
	g.loop.RunOnLoop(func(vm *goja.Runtime) {
		if _, err := g.release(goja.Undefined(), doneFunc(vm, reply)); err != nil {
			reply <- gojaResult{err: err}
		}
	})
	return (<-reply).err
}
