package js_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

// keep keeps a VM made with opts on r, for the examples.
func keep(r *threadrunner.Runner, opts ...js.Option) *js.VM {
	vm, err := threadrunner.Keep(context.Background(), r, js.New(opts...))
	if err != nil {
		panic(err)
	}
	return vm
}

func ExampleNew() {
	runner := threadrunner.New()
	defer runner.Close() // closes the VM too
	vm, err := threadrunner.Keep(context.Background(), runner, js.New(
		js.Script("lib.js", `async function greet(name) { return 'hello, ' + name; }`),
	))
	if err != nil {
		panic(err)
	}
	s, err := js.Call[string](context.Background(), vm.Global("greet"), "gopher")
	fmt.Println(s, err)
	// Output: hello, gopher <nil>
}

func ExampleCall() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `
		async function sum(xs) { await null; return xs.reduce((a, b) => a + b, 0); }
		const box = { n: 40, add(k) { return this.n + k; } };
	`))
	ctx := context.Background()
	total, err := js.Call[int](ctx, vm.Global("sum"), []int{1, 2, 3}) // the promise is awaited
	fmt.Println(total, err)
	n, err := js.Call[int](ctx, vm.Global("box.add"), 2) // a method, with its object as this
	fmt.Println(n, err)
	// Output:
	// 6 <nil>
	// 42 <nil>
}

func ExampleCall_error() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `async function check(n) { if (n < 0) throw new RangeError('negative: ' + n); return n; }`))
	_, err := js.Call[int](context.Background(), vm.Global("check"), -1)
	var je *js.Error
	if errors.As(err, &je) {
		fmt.Println(je.Name, "|", je.Message, "|", strings.Contains(je.Stack, "at check (lib.js:1"))
	}
	// Output: RangeError | negative: -1 | true
}

func ExampleCall_timeout() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `function spin() { for (;;) {} }`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := js.Call[int](ctx, vm.Global("spin")) // interrupted at the deadline
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	v, err := js.Eval[int](context.Background(), vm, "after.js", "6 * 7") // the VM serves on
	fmt.Println(v, err)
	// Output:
	// true
	// 42 <nil>
}

func ExampleCall_panic() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("broken", func() { panic("bug in Go") })
	}))
	defer func() {
		pe := recover().(*aio.PanicError) // the Go caller gets the panic
		fmt.Println(pe.Value)
	}()
	js.Call[int](context.Background(), vm.Global("broken"))
	// Output: bug in Go
}

func ExampleEval() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner)
	type point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	p, err := js.Eval[point](context.Background(), vm, "p.js", "Promise.resolve({ x: 1, y: 2 })")
	fmt.Printf("%+v %v\n", p, err)
	// Output: {X:1 Y:2} <nil>
}

func ExampleVM_Global() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `const math = { twice(x) { return 2 * x; } };`))
	v, err := js.Call[int](context.Background(), vm.Global("math.twice"), 21)
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleHandle() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `
		function counter() { let n = 0; return { next() { return ++n; } }; }
		function peek(c) { return typeof c.next; }
	`))
	ctx := context.Background()
	c, _ := js.Call[js.Handle](ctx, vm.Global("counter")) // the object stays in the VM
	js.Call[int](ctx, c.Get("next"))
	n, _ := js.Call[int](ctx, c.Get("next"))
	kind, _ := js.Call[string](ctx, vm.Global("peek"), c) // and goes back as itself
	fmt.Println(n, kind, c.Get("next"))
	// Output: 2 function value.next
}

func ExampleHandle_Get() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `const config = { db: { url() { return 'postgres://'; } } };`))
	url := vm.Global("config").Get("db").Get("url")
	s, err := js.Call[string](context.Background(), url)
	fmt.Println(s, err, url.VM() == vm)
	// Output: postgres:// <nil> true
}

func ExampleAsync() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		// readConfig is an async JavaScript function; its work runs off the
		// loop, through ToThread.
		return rt.Set("readConfig", js.Async(vm, func(t *aio.Task, args []goja.Value) (string, error) {
			key := args[0].String()
			return aio.ToThread(t, func(context.Context) (string, error) { return "value of " + key, nil })
		}))
	}), js.Script("lib.js", `async function setting(k) { return (await readConfig(k)).toUpperCase(); }`))
	s, err := js.Call[string](context.Background(), vm.Global("setting"), "port")
	fmt.Println(s, err)
	// Output: VALUE OF PORT <nil>
}

func ExamplePromise() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("later", func(ms int) goja.Value {
			// A Go future, as a promise: no task waits for it.
			f := aio.Spawn(context.Background(), vm.Loop(), func(t *aio.Task) (int, error) {
				return ms, aio.Sleep(t, time.Duration(ms)*time.Millisecond)
			})
			return js.Promise(vm, f)
		})
	}), js.Script("lib.js", `async function both() { return await later(2) + await later(1); }`))
	v, err := js.Call[int](context.Background(), vm.Global("both"))
	fmt.Println(v, err)
	// Output: 3 <nil>
}

func ExampleAwait() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `async function slowAdd(a, b) { await new Promise(r => setTimeout(r, 1)); return a + b; }`))
	v, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
		p, err := js.Do[goja.Value](t, vm, func(rt *goja.Runtime) (goja.Value, error) {
			f, _ := goja.AssertFunction(rt.Get("slowAdd"))
			return f(goja.Undefined(), rt.ToValue(1), rt.ToValue(2))
		})
		if err != nil {
			return 0, err
		}
		return js.Await[int](t, vm, p) // the task waits; the loop runs the timer meanwhile
	})
	fmt.Println(v, err)
	// Output: 3 <nil>
}

func ExampleDo() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner)
	v, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (string, error) {
		return js.Do[string](t, vm, func(rt *goja.Runtime) (goja.Value, error) {
			rt.Set("who", "task")
			return rt.RunString("'hello from a ' + who")
		})
	})
	fmt.Println(v, err)
	// Output: hello from a task <nil>
}

func ExampleIter() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `
		function countFrom(n) {
			return {
				[Symbol.asyncIterator]() { return this; },
				async next() { await null; return { value: n++, done: false }; }, // for ever
				async return() { console.log('stopped'); return { done: true }; },
			};
		}
	`), js.Logger(slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))))
	for n, err := range threadrunner.Iter(context.Background(), runner, js.Iter[int](vm.Global("countFrom"), 1)) {
		if err != nil {
			panic(err)
		}
		fmt.Println(n)
		if n == 3 {
			break // calls return, and waits for it
		}
	}
	// Output:
	// 1
	// 2
	// 3
	// level=INFO msg=stopped vm=js
}

func ExampleResource() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `
		async function connect(name) {
			await null;
			return {
				query(q) { return name + ': ' + q; },
				async [Symbol.asyncDispose]() { await new Promise(r => setTimeout(r, 1)); done(name); },
			};
		}
	`), js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("done", func(name string) { fmt.Println("closed", name) })
	}))
	err := threadrunner.With(context.Background(), runner, js.Resource(vm.Global("connect"), "db"), func(conn js.Handle) error {
		s, err := js.Call[string](context.Background(), conn.Get("query"), "select 1")
		fmt.Println(s)
		return err
	})
	fmt.Println(err)
	// Output:
	// db: select 1
	// closed db
	// <nil>
}

func ExampleScript() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("a.js", `const base = 40;`), js.Script("b.js", `function answer() { return base + 2; }`))
	v, _ := js.Call[int](context.Background(), vm.Global("answer"))
	fmt.Println(v)
	_, err := threadrunner.Keep(context.Background(), runner, js.New(js.Script("bad.js", `throw new Error('no')`)))
	fmt.Println(err)
	// Output:
	// 42
	// js: Error: no
}

func ExampleSetup() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("goVersion", func() string { return "go1.26" })
	}))
	v, err := js.Eval[string](context.Background(), vm, "v.js", "goVersion()")
	fmt.Println(v, err)
	// Output: go1.26 <nil>
}

// noTime drops the time of log records, so that the examples' output is
// deterministic.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func ExampleLogger() {
	runner := threadrunner.New()
	defer runner.Close()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	vm := keep(runner, js.Logger(logger), js.Name("app"))
	js.Eval[any](context.Background(), vm, "log.js", `console.warn('disk', { free: '1%' }); 0`)
	// Output: level=WARN msg="disk {\"free\":\"1%\"}" vm=app
}

func ExampleOnRejection() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.OnRejection(func(err *js.Error) {
		fmt.Println("unhandled:", err.Message)
	}))
	js.Eval[any](context.Background(), vm, "r.js", `Promise.reject(new Error('nobody catches me')); 0`)
	// Output: unhandled: nobody catches me
}

func ExampleHTTPClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Method, r.Header.Get("X-Token"))
	}))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.HTTPClient(client), js.Script("lib.js", `
		async function send(url) {
			const r = await fetch(url, { method: 'PUT', headers: { 'X-Token': 't0k' } });
			return r.status + ' ' + await r.text();
		}
	`))
	s, err := js.Call[string](context.Background(), vm.Global("send"), srv.URL)
	fmt.Println(s, err)
	// Output: 200 PUT t0k <nil>
}

func ExampleName() {
	runner := threadrunner.New()
	defer runner.Close()
	fmt.Println(keep(runner, js.Name("renderer")).Name())
	// Output: renderer
}

func ExampleGrace() {
	runner := threadrunner.New()
	vm := keep(runner, js.Grace(10*time.Millisecond), js.Script("lib.js", `
		function stubborn() {
			return { next() { return new Promise(() => {}); }, return() { return new Promise(() => {}); } };
		}
	`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	for _, err := range threadrunner.Iter(ctx, runner, js.Iter[int](vm.Global("stubborn"))) {
		fmt.Println(errors.Is(err, context.DeadlineExceeded)) // return was given 10ms, then cut off
	}
	fmt.Println(runner.Close())
	// Output:
	// true
	// <nil>
}

func ExampleError() {
	runner := threadrunner.New()
	defer runner.Close()
	errNotFound := errors.New("not found")
	vm := keep(runner, js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("lookup", js.Async(vm, func(*aio.Task, []goja.Value) (int, error) { return 0, errNotFound }))
	}), js.Script("lib.js", `async function find() { return await lookup(); }`))
	_, err := js.Call[int](context.Background(), vm.Global("find"))
	fmt.Println(err, errors.Is(err, errNotFound)) // the Go error, through JavaScript and back
	// Output: js: GoError: not found true
}

func ExampleVM_Closed() {
	runner := threadrunner.New()
	vm := keep(runner)
	fmt.Println(vm.Closed())
	runner.Close()
	_, err := js.Eval[int](context.Background(), vm, "x.js", "1")
	fmt.Println(vm.Closed(), errors.Is(err, js.ErrClosed))
	// Output:
	// false
	// true true
}

func ExampleVM_Loop() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner)
	fmt.Println(vm.Loop() == runner.Loop())
	// Output: true
}

func ExampleVM_Name() {
	runner := threadrunner.New()
	defer runner.Close()
	fmt.Println(keep(runner).Name()) // the default
	// Output: js
}

func ExampleHandle_String() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner)
	fmt.Println(vm.Global("client.session"))
	fmt.Println(vm.Global("client").Get("session"))
	// Output:
	// global client.session
	// global client.session
}

func ExampleHandle_VM() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner)
	fmt.Println(vm.Global("x").VM() == vm)
	// Output: true
}

func ExampleError_Unwrap() {
	runner := threadrunner.New()
	defer runner.Close()
	vm := keep(runner, js.Script("lib.js", `function spin() { for (;;) {} }`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err := js.Call[int](ctx, vm.Global("spin"))
	var je *js.Error
	if errors.As(err, &je) {
		fmt.Println(je.Name, je.Unwrap() == context.DeadlineExceeded)
	}
	// Output: InterruptedError true
}
