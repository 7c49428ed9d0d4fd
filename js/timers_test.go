package js_test

import (
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/js"
)

// timerLib records what the timers do in log, and resolves done() once the
// log has n entries.
const timerLib = `
	const log = [];
	let want = 0, finish = null;
	function note(s) { log.push(s); if (log.length === want && finish) finish(log.join(' ')); }
	function until(n) { want = n; return new Promise(r => { finish = r; if (log.length >= n) r(log.join(' ')); }); }
`

func TestTimerOrder(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", timerLib))
	got := eval[string](t, e, `
		setTimeout(() => note('c30'), 30);
		setTimeout(() => note('a0'), 0);
		setTimeout(() => note('b10'), 10);
		setTimeout((x, y) => note('args' + x + y), 20, 1, 2);
		queueMicrotask(() => note('micro'));
		Promise.resolve().then(() => note('then'));
		note('sync');
		until(7)
	`)
	if want := "sync micro then a0 b10 args12 c30"; got != want {
		t.Errorf("timers ran as %q; want %q", got, want)
	}
}

func TestTimerClear(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", timerLib))
	got := eval[string](t, e, `
		const dropped = setTimeout(() => note('dropped'), 5);
		clearTimeout(dropped);
		clearTimeout(dropped); // twice: nothing
		clearTimeout(12345);   // unknown: nothing
		let ticks = 0;
		const tick = setInterval(() => {
			note('tick' + (++ticks));
			if (ticks === 3) {
				clearInterval(tick);
				setTimeout(() => note('done'), 10); // a fourth tick would come first
			}
		}, 1);
		until(4)
	`)
	if want := "tick1 tick2 tick3 done"; got != want {
		t.Errorf("timers ran as %q; want %q", got, want)
	}
	if v := eval[int](t, e, "typeof setTimeout(() => {}, 0) === 'number' ? 1 : 0"); v != 1 {
		t.Errorf("setTimeout's id is not a number")
	}
}

func TestTimerErrors(t *testing.T) {
	e := newEnv(t, js.Script("lib.js", timerLib))
	_, err := js.Eval[int](e.ctx, e.vm, "x.js", "setTimeout('not a function', 1)")
	if err == nil || !strings.Contains(err.Error(), "TypeError") {
		t.Errorf("setTimeout with a string = %v; want a TypeError", err)
	}
	// A callback's uncaught error is reported, and the timers go on.
	got := eval[string](t, e, `
		setTimeout(() => { throw new Error('timer boom'); }, 0);
		queueMicrotask(() => { throw new Error('micro boom'); });
		setTimeout(() => note('after'), 5);
		until(1)
	`)
	if got != "after" {
		t.Errorf("timers after a failing one ran as %q; want after", got)
	}
	for _, tt := range []struct{ msg, err string }{
		{"js: uncaught error in a timer callback", "timer boom"},
		{"js: uncaught error in a callback", "micro boom"},
	} {
		if len(e.log.Find(tt.msg, "err", tt.err)) != 1 {
			t.Errorf("no record %q with %q; records:\n%s", tt.msg, tt.err, e.log)
		}
	}
}

// AbortSignal.timeout runs on the timers too.
func TestTimerAbortSignal(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t)
	got, err := js.Eval[string](e.ctx, e.vm, "x.js", `(async () => {
		try { await fetch('`+srv.URL+`/hang', { signal: AbortSignal.timeout(5) }); } catch (e) { return e.name; }
	})()`)
	if got != "TimeoutError" || err != nil {
		t.Errorf("fetch with AbortSignal.timeout = %q, %v; want TimeoutError", got, err)
	}
}
