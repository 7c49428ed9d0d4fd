package js

import (
	"context"
	"slices"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// An entry is one entry into JavaScript from Go: a call, a script, a promise
// settled or a timer fired. Entries nest when Go code that JavaScript called
// enters again; only the outermost one is watched for interrupts.
type entry struct {
	// ctx is the context of the Go code the entry works for: its end
	// interrupts the JavaScript, and Go async functions that the JavaScript
	// starts are cancelled with it (see Async).
	ctx context.Context
	t   *aio.Task // the task the entry runs in, or nil in a callback

	interrupted bool // the runtime was interrupted for it; guarded by VM.mu
}

// run runs fn, which calls into vm.rt, as an entry into JavaScript, on the
// loop. It is the one way into the runtime, and it guards it:
//
//   - If t is not nil, fn runs under aio.NoAwait: an await by t inside
//     the JavaScript (in a Go function it called) panics with a clear
//     message instead of suspending t in the middle of the runtime, which
//     would corrupt it.
//   - When ctx ends while the outermost entry runs, the JavaScript is
//     interrupted (vm.rt.Interrupt) and fn's error says so, unwrapping to
//     ctx's error. The runtime stays usable (see repairIdle).
//   - A panic in fn (in Go code JavaScript called) is recovered and
//     returned as a *aio.PanicError; callers re-panic it where someone
//     waits, or log it. After a panic, a runtime.Goexit or an interrupt,
//     the runtime's stacks are checked and repaired (see repairIdle).
//   - Promises rejected with no handler by the time the outermost entry
//     ends (its microtasks have run by then) are reported.
//
// fn's goja errors come back as *Error.
func (vm *VM) run(t *aio.Task, ctx context.Context, fn func() error) (err error) {
	if err := vm.check(); err != nil {
		return err
	}
	e := &entry{ctx: ctx, t: t}
	outer := vm.cur
	vm.cur = e
	if outer == nil {
		vm.mu.Lock()
		vm.running = e
		vm.mu.Unlock()
		vm.watch(ctx)
	}
	returned := false
	defer func() {
		abrupt := !returned // a panic or runtime.Goexit unwound through the runtime
		if p := recover(); p != nil {
			err = aio.AsPanicError(p)
		}
		vm.cur = outer
		if outer != nil {
			return
		}
		vm.mu.Lock()
		vm.running = nil
		vm.rt.ClearInterrupt() // an interrupt that came too late for the JavaScript it meant
		abrupt = abrupt || e.interrupted
		vm.mu.Unlock()
		if abrupt && !repairIdle(vm.rt) {
			vm.log.Error("js: a panic or an interrupt left the runtime unusable, and this version of goja cannot be repaired: the VM is closed", "vm", vm.cfg.name)
			vm.closed.Store(true)
		}
		vm.reportRejections()
	}()
	if t == nil {
		err = fn()
	} else {
		aio.NoAwait(t, func() { err = fn() })
	}
	returned = true
	if err != nil {
		err = vm.asError(err)
	}
	return err
}

// watch makes the end of ctx interrupt the outermost entry running with it,
// now if ctx has ended already. One watcher (a context.AfterFunc) serves
// every entry with the same context, so that entries in a row for one task
// (an iterator's steps) or one caller do not each register one; it is
// replaced when an entry comes with another context, and stopped when the
// VM closes. It runs on the loop, after the entry is vm.running.
func (vm *VM) watch(ctx context.Context) {
	switch {
	case ctx.Done() == nil:
	case ctx.Err() != nil:
		vm.interrupt(ctx)
	case ctx != vm.watched:
		vm.unwatch()
		vm.watched = ctx
		vm.stopWatch = context.AfterFunc(ctx, func() { vm.interrupt(ctx) })
	}
}

// unwatch stops the watcher, if any. It runs on the loop.
func (vm *VM) unwatch() {
	if vm.stopWatch != nil {
		vm.stopWatch()
	}
	vm.watched, vm.stopWatch = nil, nil
}

// interrupt stops the JavaScript of the outermost entry running, if its
// context is ctx, which has ended. It runs on the goroutine that ended ctx,
// or on the loop.
func (vm *VM) interrupt(ctx context.Context) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if e := vm.running; e != nil && e.ctx == ctx {
		vm.rt.Interrupt(ctx.Err())
		e.interrupted = true
	}
}

// entryContext returns the context of the entry running now, or the VM's own
// when none runs (a callback from Go code that holds no caller's context).
func (vm *VM) entryContext() context.Context {
	if vm.cur != nil && vm.cur.ctx != nil {
		return vm.cur.ctx
	}
	return vm.ctx
}

// entryTask returns the task of the entry running now, or nil.
func (vm *VM) entryTask() *aio.Task {
	if vm.cur != nil {
		return vm.cur.t
	}
	return nil
}

// track is the runtime's promise rejection tracker: it notes promises
// rejected with no handler, and forgets them when a handler comes.
func (vm *VM) track(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		vm.unhandled = append(vm.unhandled, p)
	case goja.PromiseRejectionHandle:
		vm.handled(p)
	}
}

// handled forgets p as an unhandled rejection: Go code took its reason.
func (vm *VM) handled(p *goja.Promise) {
	if i := slices.Index(vm.unhandled, p); i >= 0 {
		vm.unhandled = slices.Delete(vm.unhandled, i, i+1)
	}
}

// reportRejections reports the promises still rejected with no handler at
// the end of an outermost entry.
func (vm *VM) reportRejections() {
	for len(vm.unhandled) > 0 {
		p := vm.unhandled[0]
		vm.unhandled = vm.unhandled[1:]
		vm.logError("unhandled promise rejection", vm.reason(p.Result()))
	}
	vm.unhandled = nil
}
