package js_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// A deadline interrupts JavaScript that never yields, and the VM is usable
// after.
func TestInterruptDeadline(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		let spins = 0;
		function spin() { while (true) { spins++; } }
		function add(a, b) { return a + b; }
	`))
	for i := range 3 {
		ctx, cancel := context.WithTimeout(e.ctx, 20*time.Millisecond)
		var err error
		_, err = js.Call[int](ctx, e.vm.Global("spin"))
		cancel()
		var je *js.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &je) || !strings.Contains(je.Stack, "at spin (lib.js:3") {
			t.Fatalf("round %d: Call(spin) = %v; want context.DeadlineExceeded in a *js.Error with the stack of spin", i, err)
		}
		if v, err := js.Call[int](e.ctx, e.vm.Global("add"), 1, 2); v != 3 || err != nil {
			t.Fatalf("round %d: Call(add) after the interrupt = %v, %v; want 3, nil", i, v, err)
		}
	}
	if spins := eval[int](t, e, "spins"); spins == 0 {
		t.Errorf("spins = 0; want the loop to have run")
	}
}

// Cancelling the caller's ctx while a Go function called from JavaScript
// runs interrupts the JavaScript as soon as that function returns.
func TestInterruptAfterGoReturns(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("block", func() {
			close(entered)
			<-release
		})
	}), js.Script("lib.js", `function f() { block(); for (;;) {} }`))
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := js.Call[int](ctx, e.vm.Global("f"))
		done <- err
	}()
	testkit.Await(t, entered, "the Go function to be entered")
	cancel()
	close(release)
	if err := testkit.Await(t, done, "the interrupted call"); !errors.Is(err, context.Canceled) {
		t.Errorf("Call = %v; want context.Canceled", err)
	}
}

// A ctx that ends while the promise is pending ends the wait, not the
// JavaScript: the promise settles later, and the VM serves on.
func TestInterruptPendingPromise(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		let release;
		const gate = new Promise(r => { release = r; });
		async function waitGate() { await gate; globalThis.passed = true; return 1; }
	`))
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := js.Call[int](ctx, e.vm.Global("waitGate")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call(waitGate) = %v; want context.DeadlineExceeded", err)
	}
	eval[any](t, e, "release()")
	if !eval[bool](t, e, "globalThis.passed === true") {
		t.Errorf("the promise did not go on after its caller gave up")
	}
}

// A task's cancellation interrupts the JavaScript it runs through Do.
func TestInterruptDo(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Millisecond)
	defer cancel()
	var err error
	_, err = threadrunner.Run(ctx, e.r, func(t *aio.Task) (int, error) {
		return js.Do[int](t, e.vm, func(rt *goja.Runtime) (goja.Value, error) {
			return rt.RunString("for (;;) {}")
		})
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run(Do(for (;;) {})) = %v; want context.DeadlineExceeded", err)
	}
	if v := eval[int](t, e, "6 * 7"); v != 42 {
		t.Errorf("Eval after the interrupt = %d; want 42", v)
	}
}

// An interrupt inside an async function, before or after its first await,
// leaves the VM usable: its promise jobs still run (goja needs the repair of
// repair.go for that).
func TestInterruptAsync(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		async function spinNow() { for (;;) {} }
		async function spinLater() { await null; for (;;) {} }
		async function spinDeep() { await null; await Promise.resolve(); (function inner() { for (;;) {} })(); }
		async function later(x) { await null; await null; return x; }
	`))
	for _, fn := range []string{"spinNow", "spinLater", "spinDeep", "spinNow"} {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Millisecond)
		var err error
		_, err = js.Call[int](ctx, e.vm.Global(fn))
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Call(%s) = %v; want context.DeadlineExceeded", fn, err)
		}
		if v, err := js.Call[string](e.ctx, e.vm.Global("later"), "ok"); v != "ok" || err != nil {
			t.Fatalf("Call(later) after interrupting %s = %q, %v; want ok (the VM usable)", fn, v, err)
		}
	}
}

func TestRepairLayout(t *testing.T) {
	if !js.RepairWorks() {
		t.Fatal("repair.go does not recognize this goja's layout: interrupts inside async functions would lose the VM")
	}
}
