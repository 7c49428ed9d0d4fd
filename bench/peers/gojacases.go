package peers

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"
)

// gojaJS holds jsScript's functions in a goja_nodejs loop. Loop-owned.
type gojaJS struct {
	viaGo, timeouts, naturals, waitGate, openGate goja.Callable
	waiting                                       func() int
}

// loadJS runs jsScript in the loop's runtime, with goInc written the
// goja_nodejs way: a goroutine does the work and resolves the promise
// through RunOnLoop.
func (g *Goja) loadJS(vm *goja.Runtime) error {
	err := vm.Set("goInc", func(c goja.FunctionCall) goja.Value {
		p, resolve, _ := vm.NewPromise()
		x := c.Argument(0).ToInteger()
		go g.loop.RunOnLoop(func(*goja.Runtime) { resolve(x + 1) })
		return vm.ToValue(p)
	})
	if err != nil {
		return err
	}
	if _, err := vm.RunString(jsScript); err != nil {
		return err
	}
	for name, dst := range map[string]*goja.Callable{
		"viaGo": &g.js.viaGo, "timeouts": &g.js.timeouts, "naturals": &g.js.naturals,
		"waitGate": &g.js.waitGate, "openGate": &g.js.openGate,
	} {
		fn, ok := goja.AssertFunction(vm.Get(name))
		if !ok {
			return fmt.Errorf("peers: goja: %s is not a function", name)
		}
		*dst = fn
	}
	g.js.waiting = func() int { return int(vm.Get("waiting").ToInteger()) }
	return nil
}

// settled calls done, on the loop, with the outcome of v (what a call
// returned, and its error): at once if v is a promise that has settled or
// not a promise, else from a then-callback when it settles.
func (g *Goja) settled(vm *goja.Runtime, v goja.Value, err error, done func(gojaResult)) {
	if err != nil {
		done(gojaResult{err: err})
		return
	}
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		done(gojaResult{v: int(v.ToInteger())})
		return
	}
	result := func() {
		if p.State() == goja.PromiseStateRejected {
			done(gojaResult{err: fmt.Errorf("peers: goja: rejected: %v", p.Result())})
			return
		}
		done(gojaResult{v: int(p.Result().ToInteger())})
	}
	if p.State() != goja.PromiseStatePending {
		result()
		return
	}
	then, ok := goja.AssertFunction(v.ToObject(vm).Get("then"))
	if !ok {
		done(gojaResult{err: errors.New("peers: goja: promise without then")})
		return
	}
	cb := vm.ToValue(func(goja.FunctionCall) goja.Value {
		result()
		return goja.Undefined()
	})
	if _, err := then(v, cb, cb); err != nil {
		done(gojaResult{err: err})
	}
}

// awaitCall calls fn with args on the loop and waits, in the calling
// goroutine, for the outcome of what it returns.
func (g GojaPromise) awaitCall(fn func(*gojaJS) goja.Callable, args ...any) (int, error) {
	if g.closed.Load() {
		return 0, ErrClosed
	}
	reply := make(chan gojaResult, 1)
	if !g.loop.RunOnLoop(func(vm *goja.Runtime) {
		vs := make([]goja.Value, len(args))
		for i, a := range args {
			vs[i] = vm.ToValue(a)
		}
		v, err := fn(&g.js)(goja.Undefined(), vs...)
		g.settled(vm, v, err, func(r gojaResult) { reply <- r })
	}) {
		return 0, ErrClosed
	}
	r := <-reply
	return r.v, r.err
}

// AwaitGo implements [AwaitGoer].
func (g GojaPromise) AwaitGo(x int) (int, error) {
	return g.awaitCall(func(s *gojaJS) goja.Callable { return s.viaGo }, x)
}

// Timeouts implements [TimeoutSetter]: timeouts(n, done), with done a Go
// function that hands the end to the caller.
func (g GojaPromise) Timeouts(n int) error {
	if g.closed.Load() {
		return ErrClosed
	}
	reply := make(chan gojaResult, 1)
	if !g.loop.RunOnLoop(func(vm *goja.Runtime) {
		if _, err := g.js.timeouts(goja.Undefined(), vm.ToValue(n), doneFunc(vm, reply)); err != nil {
			reply <- gojaResult{err: err}
		}
	}) {
		return ErrClosed
	}
	return (<-reply).err
}

// Pending implements [PendingAwaiter]: n goroutines each wait for waitGate's
// promise, through RunOnLoop and a then-callback.
func (g GojaPromise) Pending(n int, measure func()) error {
	onLoop := func(fn func(vm *goja.Runtime) (int, error)) (int, error) {
		reply := make(chan gojaResult, 1)
		if !g.loop.RunOnLoop(func(vm *goja.Runtime) {
			v, err := fn(vm)
			reply <- gojaResult{v: v, err: err}
		}) {
			return 0, ErrClosed
		}
		r := <-reply
		return r.v, r.err
	}
	return pendingCalls(n, measure,
		func() error { _, err := g.awaitCall(func(s *gojaJS) goja.Callable { return s.waitGate }); return err },
		func() (int, error) { return onLoop(func(*goja.Runtime) (int, error) { return g.js.waiting(), nil }) },
		func() error {
			_, err := onLoop(func(*goja.Runtime) (int, error) { _, err := g.js.openGate(goja.Undefined()); return 0, err })
			return err
		})
}
