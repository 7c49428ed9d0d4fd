package js_test

import (
	"context"
	"testing"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

func BenchmarkCallAsync(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	vm, err := threadrunner.Keep(context.Background(), r, js.New(js.Script("f.js", "async function f(x) { return x + 1 }")))
	if err != nil {
		b.Fatal(err)
	}
	f := vm.Global("f")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := js.Call[int](ctx, f, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGojaDirect(b *testing.B) {
	rt := goja.New()
	rt.RunString("async function f(x) { return x + 1 }")
	f, _ := goja.AssertFunction(rt.Get("f"))
	b.ReportAllocs()
	for b.Loop() {
		v, _ := f(goja.Undefined(), rt.ToValue(1))
		p := v.Export().(*goja.Promise)
		_ = p.Result().ToInteger()
	}
}

func BenchmarkRunTrivial(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	ctx := context.Background()
	for b.Loop() {
		threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return 1, nil })
	}
}

func BenchmarkDoOnLoop(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	vm, err := threadrunner.Keep(context.Background(), r, js.New(js.Script("f.js", "async function f(x) { return x + 1 }")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) {
		var f goja.Callable
		js.Do[struct{}](t, vm, func(rt *goja.Runtime) (goja.Value, error) {
			f, _ = goja.AssertFunction(rt.Get("f"))
			return nil, nil
		})
		for b.Loop() {
			js.Do[int](t, vm, func(rt *goja.Runtime) (goja.Value, error) { return f(goja.Undefined(), rt.ToValue(1)) })
		}
		return 0, nil
	})
}

func BenchmarkRunDo(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	vm, err := threadrunner.Keep(context.Background(), r, js.New(js.Script("f.js", "async function f(x) { return x + 1 }")))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var f goja.Callable
	threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		return js.Do[int](t, vm, func(rt *goja.Runtime) (goja.Value, error) {
			f, _ = goja.AssertFunction(rt.Get("f"))
			return nil, nil
		})
	})
	b.ReportAllocs()
	for b.Loop() {
		threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
			return js.Do[int](t, vm, func(rt *goja.Runtime) (goja.Value, error) { return f(goja.Undefined(), rt.ToValue(1)) })
		})
	}
}
