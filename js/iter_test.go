package js_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/js"
)

const iterLib = `
	const log = [];
	function note(s) { log.push(s); }
	function logged() { return log.join(' '); }
	function* naturals() {
		try {
			for (let i = 0; ; i++) yield i;
		} finally {
			note('sync finally');
		}
	}
	function ticker() {
		let i = 0;
		return {
			[Symbol.asyncIterator]() { return this; },
			async next() { await null; return { done: false, value: i++ }; },
			async return() {
				await new Promise(r => setTimeout(r, 5)); // an await in the cleanup
				note('async finally');
				return { done: true };
			},
		};
	}
	function range(n) {
		let i = 0;
		return { next() { return Promise.resolve(i < n ? { done: false, value: { n: i++ } } : { done: true }); } };
	}
	function failing() {
		let i = 0;
		return {
			next() { return i++ < 2 ? Promise.resolve({ value: i }) : Promise.reject(new TypeError('broken at ' + i)); },
			return() { note('return after a rejection'); return {}; },
		};
	}
	function slow() {
		return {
			next() { nexted(); return new Promise(() => {}); }, // never settles
			async return() { await new Promise(r => setTimeout(r, 5)); note('cleaned up'); return {}; },
		};
	}
`

// Breaking out calls the iterator's return: a sync generator's finally
// runs, and an async return awaits before the range loop ends.
func TestIterBreak(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", iterLib))
	for _, tt := range []struct{ fn, want string }{
		{"naturals", "sync finally"},
		{"ticker", "async finally"},
	} {
		eval[any](t, e, "log.length = 0")
		var got []int
		for v, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[int](e.vm.Global(tt.fn))) {
			if err != nil {
				t.Fatalf("%s: %v", tt.fn, err)
			}
			got = append(got, v)
			if len(got) == 3 {
				break
			}
		}
		if len(got) != 3 || got[0] != 0 || got[2] != 2 {
			t.Errorf("%s gave %v; want [0 1 2]", tt.fn, got)
		}
		if log := eval[string](t, e, "logged()"); log != tt.want {
			t.Errorf("%s: after the range loop, log = %q; want %q (cleanup before the loop ends)", tt.fn, log, tt.want)
		}
	}
}

func TestIterValues(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", iterLib))
	type item struct {
		N int `json:"n"`
	}
	var got []int
	for v, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[item](e.vm.Global("range"), 4)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.N)
	}
	if len(got) != 4 || got[3] != 3 {
		t.Errorf("range(4) gave %v; want [0 1 2 3]", got)
	}
	// An array is iterable; its values are awaited.
	var words []string
	h, err := js.Eval[js.Handle](e.ctx, e.vm, "x.js", "['a', Promise.resolve('b'), 'c']")
	if err != nil {
		t.Fatal(err)
	}
	for w, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[string](h)) {
		if err != nil {
			t.Fatal(err)
		}
		words = append(words, w)
	}
	if strings.Join(words, "") != "abc" {
		t.Errorf("iterating an array gave %q; want abc", words)
	}
}

func TestIterErrors(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", iterLib))
	var last error
	n := 0
	for _, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[int](e.vm.Global("failing"))) {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	var je *js.Error
	if n != 2 || !errors.As(last, &je) || je.Message != "broken at 3" {
		t.Errorf("failing gave %d values, then %v; want 2, then the TypeError", n, last)
	}
	if log := eval[string](t, e, "logged()"); log != "" {
		t.Errorf("log = %q; want return not called after a rejected next", log)
	}
	for _, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[int](e.vm.Global("log.length"))) {
		if err == nil || !strings.Contains(err.Error(), "not async iterable") {
			t.Errorf("iterating a number = %v; want a TypeError", err)
		}
	}
	for _, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[[]int](e.vm.Global("range"), 1)) {
		if err == nil || !strings.Contains(err.Error(), "exporting") {
			t.Errorf("exporting an object to []int = %v; want an export error", err)
		}
	}
}

// A ctx that ends while next is pending stops the iterator: its return runs,
// and may await, within the VM's grace.
func TestIterCancelled(t *testing.T) {
	nexted := make(chan struct{}, 1)
	e := newEnv(t, js.Script("lib.js", iterLib), js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("nexted", func() { nexted <- struct{}{} })
	}))
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	go func() {
		select {
		case <-nexted:
		case <-ctx.Done():
		}
		cancel() // while next is pending
	}()
	var last error
	for _, err := range threadrunner.Iter(ctx, e.r, js.Iter[int](e.vm.Global("slow"))) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("the range's last error = %v; want context.Canceled", last)
	}
	if log := eval[string](t, e, "logged()"); log != "cleaned up" {
		t.Errorf("log = %q; want the async return to have run", log)
	}
}
