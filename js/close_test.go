package js_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// Close with everything pending: Go calls awaiting a promise that never
// settles, a fetch the server never answers, a timer an hour away, an
// interval that keeps firing, a Go async function, an open response body
// and a range over an iterator. Every Go caller gets ErrClosed, Close does
// not hang, and no goroutine is left (newEnv's leak check).
func TestClosePending(t *testing.T) {
	srv := newServer(t)
	started := make(chan struct{})
	e := newEnv(t, asyncLib(started, nil), js.Script("lib.js", `
		const gate = new Promise(() => {});
		async function never() { await gate; }
		async function hang(url) { const r = await fetch(url); return r.status; }
		async function hour() { await new Promise(r => setTimeout(r, 3600 * 1000)); }
		async function goWait() { return await wait(); }
		let ticks = 0;
		setInterval(() => { ticks++; }, 1);
		async function openBody(url) { globalThis.resp = await fetch(url); return 1; }
		function endless() { return { next() { return new Promise(r => setTimeout(() => r({ value: 1 }), 1)); } }; }
	`))
	if _, err := js.Call[int](e.ctx, e.vm.Global("openBody"), srv.URL+"/stream"); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"never":  func() error { _, err := js.Call[int](e.ctx, e.vm.Global("never")); return err },
		"hang":   func() error { _, err := js.Call[int](e.ctx, e.vm.Global("hang"), srv.URL+"/hang"); return err },
		"hour":   func() error { _, err := js.Call[int](e.ctx, e.vm.Global("hour")); return err },
		"goWait": func() error { _, err := js.Call[int](e.ctx, e.vm.Global("goWait")); return err },
		"range": func() error {
			var last error
			for _, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[int](e.vm.Global("endless"))) {
				last = err
			}
			return last
		},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(calls))
	for name, call := range calls {
		wg.Go(func() {
			// js.ErrClosed if the VM had it pending, aio.ErrClosed if the
			// runner refused it first: js.ErrClosed wraps aio.ErrClosed.
			if err := call(); !errors.Is(err, aio.ErrClosed) {
				errs <- fmt.Errorf("%s across Close = %v; want aio.ErrClosed", name, err)
			}
		})
	}
	testkit.Await(t, srv.arrived, "the server to get the fetch")
	testkit.Await(t, started, "the Go async function to start")
	if err := e.r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for range 2 {
		if got := testkit.Await(t, srv.hung, "the server to see the clients go"); got != "hang" && got != "stream" {
			t.Errorf("server saw %q end", got)
		}
	}
	if _, err := js.Call[int](e.ctx, e.vm.Global("never")); !errors.Is(err, js.ErrClosed) {
		t.Errorf("Call after Close = %v; want js.ErrClosed", err)
	}
}
