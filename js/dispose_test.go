package js_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// disposeLib's objects report their cleanup to Go, through gone(name), so
// that a test can see it after the VM has closed.
func disposeLib(gone chan<- string) []js.Option {
	return []js.Option{js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("gone", func(name string) { gone <- name })
	}), js.Script("lib.js", `
		let opened = 0;
		async function session(name) {
			await null;
			opened++;
			return {
				name,
				async get(x) { await null; return name + ':' + x; },
				async [Symbol.asyncDispose]() {
					// Timers one after the other, and a Go async function if
					// there is one: at Close too, while the loop closes.
					await new Promise(r => setTimeout(r, 2));
					await new Promise(r => setTimeout(r, 1));
					if (typeof double === 'function') await double(1);
					gone(name);
				},
			};
		}
		function closer(name) { return { close() { gone(name + ' closed'); } }; }
		function syncDisposer(name) { return { [Symbol.dispose]() { gone(name + ' disposed'); } }; }
		function plain() { return { x: 1 }; }
		async function failing() { throw new Error('cannot open'); }
		function badExit() { return { async [Symbol.asyncDispose]() { throw new Error('cannot close'); } }; }
	`)}
}

func TestResourceWith(t *testing.T) {
	gone := make(chan string, 8)
	e := newEnv(t, disposeLib(gone)...)
	var got string
	err := threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global("session"), "s1"), func(s js.Handle) error {
		var err error
		got, err = js.Call[string](e.ctx, s.Get("get"), 7)
		return err
	})
	if err != nil || got != "s1:7" {
		t.Fatalf("With(session) = %q, %v; want s1:7", got, err)
	}
	if name := testkit.Await(t, gone, "the async dispose"); name != "s1" {
		t.Errorf("disposed %q; want s1", name)
	}
	for _, tt := range []struct{ fn, want string }{{"closer", "c closed"}, {"syncDisposer", "d disposed"}} {
		if err := threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global(tt.fn), tt.want[:1]), func(js.Handle) error { return nil }); err != nil {
			t.Errorf("With(%s) = %v", tt.fn, err)
		}
		if name := testkit.Await(t, gone, "the cleanup"); name != tt.want {
			t.Errorf("%s: cleanup %q; want %q", tt.fn, name, tt.want)
		}
	}
	if err := threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global("plain")), func(js.Handle) error { return nil }); err != nil {
		t.Errorf("With(an object without cleanup) = %v; want nil", err)
	}
}

func TestResourceErrors(t *testing.T) {
	gone := make(chan string, 8)
	e := newEnv(t, disposeLib(gone)...)
	ran := false
	err := threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global("failing")), func(js.Handle) error {
		ran = true
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "cannot open") || ran {
		t.Errorf("With(failing) = %v, body ran %v; want the rejection, body not run", err, ran)
	}
	errBody := errors.New("body failed")
	err = threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global("badExit")), func(js.Handle) error { return errBody })
	if !errors.Is(err, errBody) || !strings.Contains(err.Error(), "cannot close") {
		t.Errorf("With(badExit) = %v; want the body's error joined with the dispose's", err)
	}
}

// A kept session is disposed at Close, before its VM (last in, first out),
// and Open's release disposes at once.
func TestResourceKeepAndOpen(t *testing.T) {
	gone := make(chan string, 8)
	e := newEnv(t, append(disposeLib(gone), asyncLib(nil, nil))...)
	if _, err := threadrunner.Keep(e.ctx, e.r, js.Resource(e.vm.Global("session"), "kept")); err != nil {
		t.Fatal(err)
	}
	s, release, err := threadrunner.Open(e.ctx, e.r, js.Resource(e.vm.Global("session"), "opened"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := js.Call[string](e.ctx, s.Get("get"), 1); v != "opened:1" || err != nil {
		t.Errorf("opened.get = %q, %v", v, err)
	}
	if err := release(nil); err != nil {
		t.Errorf("release() = %v", err)
	}
	if name := testkit.Await(t, gone, "the release"); name != "opened" {
		t.Errorf("released %q; want opened", name)
	}
	if err := e.r.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if name := testkit.Await(t, gone, "the kept session's dispose at Close"); name != "kept" {
		t.Errorf("Close disposed %q; want kept", name)
	}
}
