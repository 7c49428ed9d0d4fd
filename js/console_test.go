package js_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
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
	want := []testkit.Record{
		{Level: slog.LevelInfo, Message: "plain 1 true null undefined"},
		{Level: slog.LevelInfo, Message: `{"a":[1,2]}`},
		{Level: slog.LevelWarn, Message: "careful"},
		{Level: slog.LevelError, Message: "TypeError: bad\n\tat " + t.Name() + ".js:5:17(30)\n"},
		{Level: slog.LevelDebug, Message: "details"},
		{Level: slog.LevelInfo, Message: "[object Object] function named() {}"},
	}
	got := e.log.Records()
	if len(got) != len(want) {
		t.Fatalf("console wrote %d records; want %d:\n%s", len(got), len(want), e.log)
	}
	for i, r := range got {
		if r.Level != want[i].Level || r.Message != want[i].Message || r.Attrs["vm"] != "app" {
			t.Errorf("record %d = %v %q vm=%q; want %v %q vm=app", i, r.Level, r.Message, r.Attrs["vm"], want[i].Level, want[i].Message)
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
	if rs := e.log.Find("js: unhandled promise rejection", "err", "to the log"); len(rs) != 1 || !strings.Contains(rs[0].Attrs["stack"], ".js:") {
		t.Errorf("rejection not logged with its stack; records:\n%s", e.log)
	}
	p := newEnv(t, js.OnRejection(func(*js.Error) { panic("hook broke") }))
	eval[any](t, p, "Promise.reject(new Error('x')); 0")
	if v := eval[int](t, p, "1 + 1"); v != 2 {
		t.Errorf("Eval after a panicking hook = %d; want 2", v)
	}
	if len(p.log.Find("js: OnRejection panicked", "panic", "hook broke")) == 0 {
		t.Errorf("the hook's panic was not logged; records:\n%s", p.log)
	}
}
