package js

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// A VM is a goja JavaScript runtime bound to a loop: made on the loop when
// the resource [New] returns is entered, used only by code on that loop, and
// closed when it is exited. Go code on any goroutine reaches it through
// [Call] and [Eval] (which hop to the loop and wait), [Iter] and [Resource]
// (for threadrunner's Iter, With, Open and Keep), and names its values with
// [VM.Global] and [Handle]; tasks on the loop use [Do] and [Await].
//
// A VM has console, setTimeout, setInterval, clearTimeout, clearInterval,
// queueMicrotask, fetch, Headers, AbortController and AbortSignal, and
// Symbol.asyncIterator and Symbol.asyncDispose, which goja lacks. Go structs
// cross with the field names of their json tags. A VM must not be copied.
type VM struct {
	loop      *aio.Loop
	cfg       config
	log       *slog.Logger
	client    *http.Client // fetch's
	ownClient bool         // client is the VM's: Exit closes its idle connections

	closed atomic.Bool // Exit has begun: new entries fail with ErrClosed

	// Guarded by mu: the outermost entry, for interrupting it from the
	// goroutine whose context ended. Written on the loop.
	mu      sync.Mutex
	running *entry

	// Loop-owned: read and written only by code on the VM's loop.
	rt        *goja.Runtime
	ctx       context.Context // the VM's life: from Enter until Exit
	cancel    context.CancelFunc
	cur       *entry                                // the innermost entry running, or nil
	watched   context.Context                       // the context the interrupt watcher watches (enter.go)
	stopWatch func() bool                           // stops that watcher
	unhandled []*goja.Promise                       // rejected with no handler during the outermost entry
	waiters   waiters                               // Go code waiting for a promise
	tasks     tasks                                 // Go async functions still running
	timers    timers                                // pending setTimeout and setInterval calls
	bodies    bodies                                // fetch response bodies not yet closed
	kids      map[*aio.Task][]*aio.Future[struct{}] // fallback children, by parent (closing.go)
	builtins  builtins                              // functions of the prelude that Go calls
}

// New returns a resource that makes a VM on the loop when entered and closes
// it when exited: keep one for a runner's life with threadrunner.Keep, or
// use it for a block with threadrunner.With or aio.With. Each resource makes
// one VM; a second Enter fails. Enter fails if an option is invalid, or if a
// [Script] throws or a [Setup] function fails.
//
// Exit closes the VM: from then on every use fails with [ErrClosed]; Go code
// waiting for one of its promises gets ErrClosed; its timers are dropped; its
// Go async functions (fetches among them) are cancelled and awaited; its open
// response bodies are closed.
func New(opts ...Option) aio.Resource[*VM] {
	cfg, err := newConfig(opts)
	return &resource{cfg: cfg, err: err}
}

type resource struct {
	cfg config
	err error
	vm  *VM
}

func (r *resource) Enter(t *aio.Task) (*VM, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.vm != nil {
		return nil, errs.Invalid("js: the resource from New was entered twice; call New for each VM")
	}
	vm := &VM{loop: t.Loop(), cfg: r.cfg, log: r.cfg.logger, client: r.cfg.client}
	if vm.log == nil {
		vm.log = vm.loop.Logger()
	}
	if vm.client == nil {
		vm.ownClient = true
		vm.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	vm.ctx, vm.cancel = context.WithCancel(context.WithoutCancel(t.Context()))
	vm.rt = goja.New()
	vm.rt.SetFieldNameMapper(goja.TagFieldNameMapper("json", true))
	vm.rt.SetPromiseRejectionTracker(vm.track)
	r.vm = vm
	err := vm.run(t, t.Context(), func() error {
		if err := vm.install(); err != nil {
			return err
		}
		for _, fn := range vm.cfg.setup {
			if err := fn(vm, vm.rt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		vm.close(t)
		return nil, err
	}
	return vm, nil
}

func (r *resource) Exit(t *aio.Task, _ error) error {
	if r.vm == nil {
		return nil
	}
	r.vm.close(t)
	return nil
}

// close shuts the VM down, on the loop: see New.
func (vm *VM) close(t *aio.Task) {
	if !vm.closed.CompareAndSwap(false, true) {
		return
	}
	vm.timers.stopAll()
	vm.waiters.failAll(ErrClosed)
	vm.tasks.cancelAll(vm, t)
	vm.bodies.closeAll()
	vm.unwatch()
	vm.cancel()
	if vm.ownClient {
		vm.client.CloseIdleConnections()
	}
}

// Loop returns the loop the VM is bound to. It is safe to call from any
// goroutine.
func (vm *VM) Loop() *aio.Loop { return vm.loop }

// Name returns the VM's name (see [Name]). It is safe to call from any
// goroutine.
func (vm *VM) Name() string { return vm.cfg.name }

// Closed reports whether the VM's Exit has begun. It is safe to call from
// any goroutine.
func (vm *VM) Closed() bool { return vm.closed.Load() }

// check returns why the VM cannot be used now: nil, ErrClosed, or an error
// for a nil VM.
func (vm *VM) check() error {
	switch {
	case vm == nil:
		return errNilVM
	case vm.closed.Load():
		return ErrClosed
	}
	return nil
}

// checkTask is check for task-side calls: t must be a task of vm's loop.
func (vm *VM) checkTask(t *aio.Task) error {
	if err := vm.check(); err != nil {
		return err
	}
	if t == nil || t.Loop() != vm.loop {
		return errs.Invalid("js: the task is not one of the VM's loop")
	}
	return nil
}

var (
	errNilVM   = errs.Invalid("js: nil *VM (a Handle made without one?)")
	errNilFunc = errs.Invalid("js: nil function")
)

// logError reports err, which nobody else can receive, to the rejection
// hook or the logger.
func (vm *VM) logError(what string, err error) {
	defer func() {
		if p := recover(); p != nil {
			vm.log.Error("js: OnRejection panicked", "vm", vm.cfg.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	var je *Error
	if !errors.As(err, &je) {
		je = &Error{Message: err.Error(), vm: vm, err: err}
	}
	if vm.cfg.onRejection != nil {
		vm.cfg.onRejection(je)
		return
	}
	vm.log.Error("js: "+what, "vm", vm.cfg.name, "err", je.Error(), "stack", je.Stack)
}

// cleanup runs fn in t, or, if t has been cancelled, in a task shielded from
// the cancellation for at most the VM's grace, so that cleanup JavaScript
// may still await.
func (vm *VM) cleanup(t *aio.Task, fn func(*aio.Task) error) error {
	if t.Err() == nil {
		return fn(t)
	}
	return aio.Shield(t, vm.cfg.grace, fn)
}
