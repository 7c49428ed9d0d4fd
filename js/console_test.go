package js_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/js"
)

func TestConsole(t *testing.T) {
	e := newEnv(t, js.Name("app"))
	eval[any](t, e, `
		console.log('plain', 1, true, null, undefined);
		console.info({ a: [1, 2] });
		console.warn('careful');
		console.error(new TypeError('bad'));
		console.debug('details');
		const cyclic = {}; cyclic.self = cyclic;
		console.log(cyclic, function named() {});
	`)
	for _, want := range []string{
		"INFO plain 1 true null undefined vm=app",
		`INFO {"a":[1,2]} vm=app`,
		"WARN careful vm=app",
		"ERROR TypeError: bad",
		"DEBUG details vm=app",
		"INFO [object Object] function named() {} vm=app",
	} {
		if len(e.log.find(want)) == 0 {
			t.Errorf("no record %q; records:\n%s", want, strings.Join(e.log.lines(), "\n"))
		}
	}
}

func TestUnhandledRejection(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []*js.Error
	)
	e := newEnv(t, js.OnRejection(func(err *js.Error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, err)
	}))
	eval[any](t, e, `
		Promise.reject(new RangeError('nobody listens'));
		const late = Promise.reject(new Error('handled in time'));
		late.catch(() => {});
		(async () => { throw new Error('async throw'); })();
		0 // the completion value, which Eval would await
	`)
	mu.Lock()
	defer mu.Unlock()
	var msgs []string
	for _, err := range seen {
		msgs = append(msgs, err.Name+": "+err.Message)
		if !strings.Contains(err.Stack, ".js:") {
			t.Errorf("rejection %q has no stack: %q", err.Message, err.Stack)
		}
	}
	if got, want := strings.Join(msgs, "; "), "RangeError: nobody listens; Error: async throw"; got != want {
		t.Errorf("unhandled rejections = %q; want %q", got, want)
	}
}

// Without a hook, rejections go to the logger; a hook that panics is
// logged, and the VM serves on.
func TestUnhandledRejectionLogged(t *testing.T) {
	e := newEnv(t)
	eval[any](t, e, "Promise.reject(new Error('to the log')); 0")
	if len(e.log.find("ERROR js: unhandled promise rejection", "to the log", "stack=")) == 0 {
		t.Errorf("rejection not logged; records:\n%s", strings.Join(e.log.lines(), "\n"))
	}
	p := newEnv(t, js.OnRejection(func(*js.Error) { panic("hook broke") }))
	eval[any](t, p, "Promise.reject(new Error('x')); 0")
	if v := eval[int](t, p, "1 + 1"); v != 2 {
		t.Errorf("Eval after a panicking hook = %d; want 2", v)
	}
	if len(p.log.find("OnRejection panicked", "hook broke")) == 0 {
		t.Errorf("the hook's panic was not logged; records:\n%s", strings.Join(p.log.lines(), "\n"))
	}
}
