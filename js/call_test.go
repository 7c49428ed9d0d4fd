package js_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

const callLib = `
	async function add(a, b) { return a + b; }
	function addSync(a, b) { return a + b; }
	async function later(x) { await null; await null; return x; }
	const counter = { n: 0, bump(by) { this.n += by; return this.n; } };
	function user(name) { return { name, tags: ['a', 'b'], age: 36 }; }
	function where() { return tid(); }
	async function whereLater() { const before = tid(); await null; return [before, tid()]; }
`

func TestCallValues(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", callLib))
	type user struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
		Age  int      `json:"age"`
	}
	tests := []struct {
		name string
		call func() (any, error)
		want any
	}{
		{"async result", func() (any, error) { return js.Call[int](e.ctx, e.vm.Global("add"), 2, 3) }, 5},
		{"sync result", func() (any, error) { return js.Call[int](e.ctx, e.vm.Global("addSync"), 2, 3) }, 5},
		{"pending promise", func() (any, error) { return js.Call[string](e.ctx, e.vm.Global("later"), "x") }, "x"},
		{"method with this", func() (any, error) { return js.Call[int](e.ctx, e.vm.Global("counter.bump"), 4) }, 4},
		{"struct by json names", func() (any, error) { return js.Call[user](e.ctx, e.vm.Global("user"), "ada") }, user{"ada", []string{"a", "b"}, 36}},
		{"any", func() (any, error) { return js.Call[any](e.ctx, e.vm.Global("add"), 1, 1) }, int64(2)},
		{"ignored", func() (any, error) { return js.Call[struct{}](e.ctx, e.vm.Global("add"), 1, 1) }, struct{}{}},
		{"eval", func() (any, error) { return js.Eval[[]int](e.ctx, e.vm, "e.js", "Promise.resolve([1, 2])") }, []int{1, 2}},
	}
	for _, tt := range tests {
		got, err := tt.call()
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, %v; want %#v, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestCallHandles(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		function makeBox(v) { return { v, get() { return this.v; } }; }
		function unbox(b) { return b.v; }
	`))
	box, err := js.Call[js.Handle](e.ctx, e.vm.Global("makeBox"), 42)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := js.Call[int](e.ctx, box.Get("get")); v != 42 || err != nil {
		t.Errorf("Call(box.get) = %v, %v; want 42, nil", v, err)
	}
	if v, err := js.Call[int](e.ctx, e.vm.Global("unbox"), box); v != 42 || err != nil {
		t.Errorf("Call(unbox, box) = %v, %v; want 42, nil (a Handle argument is its value)", v, err)
	}
	if got := box.Get("get").String(); got != "value.get" {
		t.Errorf("Handle.String() = %q; want value.get", got)
	}
	if box.VM() != e.vm {
		t.Errorf("Handle.VM() is not the VM that made it")
	}
}

func TestCallErrors(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", `
		function thrower() { throw new TypeError('bad input'); }
		async function rejecter() { await null; throw new RangeError('too far'); }
		function thrownValue() { throw 42; }
		function rejectedValue() { return Promise.reject('plain'); }
	`))
	tests := []struct {
		fn        string
		name, msg string
		stack     string
	}{
		{"thrower", "TypeError", "bad input", "at thrower (lib.js:2"},
		{"rejecter", "RangeError", "too far", "at rejecter (lib.js:3"},
		{"thrownValue", "", "42", "at thrownValue (lib.js:4"},
		{"rejectedValue", "", "plain", ""},
	}
	for _, tt := range tests {
		_, err := js.Call[int](e.ctx, e.vm.Global(tt.fn))
		var je *js.Error
		if !errors.As(err, &je) {
			t.Errorf("Call(%s) = %v; want a *js.Error", tt.fn, err)
			continue
		}
		if je.Name != tt.name || je.Message != tt.msg || !strings.Contains(je.Stack, tt.stack) {
			t.Errorf("Call(%s) = %q %q %q; want name %q, message %q, stack with %q", tt.fn, je.Name, je.Message, je.Stack, tt.name, tt.msg, tt.stack)
		}
	}
	_, err := js.Call[int](e.ctx, e.vm.Global("nosuch"))
	if err == nil || !strings.Contains(err.Error(), "global nosuch is not a function") {
		t.Errorf("Call(nosuch) = %v; want a TypeError naming it", err)
	}
	_, err = js.Call[int](e.ctx, e.vm.Global("no.such.thing"))
	if err == nil || !strings.Contains(err.Error(), "no is undefined") {
		t.Errorf("Call(no.such.thing) = %v; want an error saying no is undefined", err)
	}
	_, err = js.Eval[int](e.ctx, e.vm, "bad.js", "let = ;")
	if err == nil || !strings.Contains(err.Error(), "SyntaxError") {
		t.Errorf("Eval(bad syntax) = %v; want a SyntaxError", err)
	}
	_, err = js.Call[int](e.ctx, e.vm.Global("user"))
	if err == nil {
		t.Errorf("Call(undefined global) = nil error; want one")
	}
	_, err = js.Eval[[]string](e.ctx, e.vm, "x.js", "5")
	if err == nil || !strings.Contains(err.Error(), "exporting") {
		t.Errorf("Eval exporting a number to []string = %v; want an export error", err)
	}
}

// Thirty-two goroutines call at once; each gets its own results, and every
// call's JavaScript runs on the loop's thread.
func TestCallConcurrent(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", callLib))
	loop := e.loopTID(t)
	const goroutines, calls = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				want := fmt.Sprintf("g%d-%d", g, i)
				got, err := js.Call[string](e.ctx, e.vm.Global("later"), want)
				if err != nil || got != want {
					errs <- fmt.Errorf("Call(later, %q) = %q, %v", want, got, err)
					return
				}
				tids, err := js.Call[[]int](e.ctx, e.vm.Global("whereLater"))
				if err != nil || len(tids) != 2 || tids[0] != loop || tids[1] != loop {
					errs <- fmt.Errorf("JavaScript ran on threads %v (%v); want the loop's %d", tids, err, loop)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := js.Call[int](e.ctx, e.vm.Global("counter.bump"), 0); n != 0 || err != nil {
		t.Errorf("counter = %d, %v; want 0", n, err)
	}
}

func TestCallThreadEveryCall(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", callLib))
	loop := e.loopTID(t)
	for i := range 100 {
		if tid, err := js.Call[int](e.ctx, e.vm.Global("where")); err != nil || tid != loop {
			t.Fatalf("call %d: JavaScript on thread %d (%v); want the loop's %d", i, tid, err, loop)
		}
	}
}

func TestCallPanicInGo(t *testing.T) {
	e := newEnv(t, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("explode", func() { panic("kaboom") })
	}), js.Script("lib.js", `function viaGo() { try { explode(); } finally { globalThis.ran = true; } }`))
	p := testkit.RecoverPanic(func() { js.Call[int](e.ctx, e.vm.Global("viaGo")) })
	pe, ok := p.(*aio.PanicError)
	if !ok || pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "call_test.go") {
		t.Fatalf("recover() = %v; want a *aio.PanicError of kaboom with the stack of the Go function", p)
	}
	if v, err := js.Eval[int](e.ctx, e.vm, "after.js", "1 + 1"); v != 2 || err != nil {
		t.Errorf("Eval after a panic = %v, %v; want 2, nil (the VM serves on)", v, err)
	}
}

func TestCallBadInput(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", callLib))
	other := newEnv(t)
	var nilVM *js.VM
	tests := []struct {
		name string
		give func() error
		want error
	}{
		{"zero Handle", func() error { _, err := js.Call[int](e.ctx, js.Handle{}); return err }, aio.ErrInvalid},
		{"nil ctx", func() error { _, err := js.Call[int](nil, e.vm.Global("add")); return err }, aio.ErrInvalid}, //lint:ignore SA1012 a nil context on purpose
		{"nil VM", func() error { _, err := js.Eval[int](e.ctx, nilVM, "x", "1"); return err }, aio.ErrInvalid},
		{"handle of another VM", func() error {
			_, err := js.Call[int](e.ctx, e.vm.Global("add"), other.vm.Global("add"))
			return err
		}, aio.ErrInvalid},
		{"ended ctx", func() error {
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			_, err := js.Call[int](ctx, e.vm.Global("add"), 1, 2)
			return err
		}, context.Canceled},
		{"from the loop's thread", func() error {
			got, err := threadrunner.Run(e.ctx, e.r, func(t *aio.Task) (error, error) {
				_, err := js.Call[int](e.ctx, e.vm.Global("add"), 1, 2)
				return err, nil
			})
			return errors.Join(got, err)
		}, aio.ErrLoopThread},
	}
	for _, tt := range tests {
		if err := tt.give(); !errors.Is(err, tt.want) {
			t.Errorf("%s: error = %v; want %v", tt.name, err, tt.want)
		}
	}
	if err := e.r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Call[int](e.ctx, e.vm.Global("add"), 1, 2); !errors.Is(err, js.ErrClosed) || !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Call after Close = %v; want js.ErrClosed (and aio.ErrClosed)", err)
	}
	if !e.vm.Closed() {
		t.Errorf("Closed() after Close = false; want true")
	}
}
