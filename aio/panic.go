package aio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"weak"

	"github.com/threadrunner/threadrunner/internal/fault"
)

// A PanicError is a panic recovered from user code the library called: a
// task, a [ToThread] function, a generator, an Enter or Exit, a callback.
// It holds the panic value and the stack of the goroutine that panicked, and
// is re-panicked in whoever waits for the outcome: [Await], [Future.Wait],
// [Call]. A panic never kills its loop.
//
// A panic(nil) under GODEBUG=panicnil=1 is a PanicError whose Value is nil
// (without that setting, Go turns it into a *runtime.PanicNilError).
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, from runtime/debug.Stack
}

// Error reports the panic value and the stack where it happened.
func (p *PanicError) Error() string {
	return fmt.Sprintf("aio: task panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through a PanicError.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// AsPanicError returns p, a value recovered from a panic, as a *[PanicError]:
// p itself if it is one, else p with the current goroutine's stack. Call it in
// the deferred function that recovered p.
func AsPanicError(p any) *PanicError {
	if pe, ok := p.(*PanicError); ok {
		return pe
	}
	return &PanicError{Value: p, Stack: debug.Stack()}
}

// errGoexit marks an outcome produced by runtime.Goexit in user code (what
// t.FailNow does). Whoever waits for that outcome calls runtime.Goexit in
// turn, as iter.Pull's next does; where nobody can (an Exit at Close, a
// callback), it is reported as this error.
var errGoexit = errors.New("aio: runtime.Goexit called")

// catch calls fn through the one catcher (package fault) and returns nil if
// fn returned, or its panic as a *PanicError (a *PanicError panicked again
// keeps its first stack). If fn calls runtime.Goexit, catch calls goexit, if
// not nil, as the goroutine unwinds, and does not return.
func catch(fn func(), goexit func()) *PanicError {
	return asPanicError(fault.Catch(fn, goexit))
}

// asPanicError is catch's *PanicError, or nil if nothing panicked. It is
// not inlined, so that it adds nothing to the frame of a task's run, which
// stays under its coroutine while it is suspended (see fault.Catch).
//
//go:noinline
func asPanicError(p any, stack []byte, panicked bool) *PanicError {
	if !panicked {
		return nil
	}
	if pe, ok := p.(*PanicError); ok {
		return pe
	}
	return &PanicError{Value: p, Stack: stack}
}

// report logs through the loop's Logger from the calling goroutine (see
// fault.Log). A Goexit in the handler goes on in the caller, which must be
// ready for it: the loop logs from its callback coroutine (reportOnLoop).
func (l *Loop) report(level slog.Level, msg string, args ...any) {
	fault.Log(l.cfg.logger, level, msg, args...)
}

// reportOnLoop logs from the loop goroutine, which must never run user code
// itself (a Goexit there would end the loop's thread): the record is logged
// by the loop's callback coroutine, before the loop next parks.
func (l *Loop) reportOnLoop(level slog.Level, msg string, args ...any) {
	l.callbacks.push(func() {
		l.reporting = true
		l.report(level, msg, args...)
		l.reporting = false
	})
}

// A panicRecord is a task's panic that nobody has retrieved yet. The loop
// lists it so that Close reports it; but it holds its future only weakly, so
// that a future dropped unretrieved (a fire-and-forget Spawn) does not keep
// its panic until Close: it is logged when the future is collected.
type panicRecord struct {
	l       *Loop
	pe      *PanicError
	task    string      // the task's name when it panicked
	waiting func() bool // a goroutine is in the future's Wait now; holds the future weakly
	claimed atomic.Bool // retrieved, or reported: nothing more to do
}

// notePanic records the panic of f, which settled with it, unless its
// outcome is already spoken for (Call, Run and Stream hand it over
// themselves). It runs on the loop.
func notePanic[T any](f *Future[T]) {
	if f.retrieved.Load() || f.l == nil {
		return
	}
	l := f.l
	wf := weak.Make(f)
	rec := &panicRecord{pe: f.pe, task: f.name, l: l, waiting: func() bool {
		g := wf.Value()
		return g != nil && g.waiting.Load() > 0
	}}
	f.rec.Store(rec)
	if f.retrieved.Load() {
		rec.retrieve() // claimed meanwhile (see Future.claim)
	}
	runtime.AddCleanup(f, (*panicRecord).collected, rec)
	if len(l.panics) >= l.panicsCap {
		l.panics = compactPanics(l.panics)
		l.panicsCap = max(64, 2*len(l.panics))
	}
	l.panics = append(l.panics, rec)
}

// compactPanics drops the records that need nothing more, clearing the
// slots it frees.
func compactPanics(recs []*panicRecord) []*panicRecord {
	kept := recs[:0]
	for _, r := range recs {
		if !r.claimed.Load() {
			kept = append(kept, r)
		}
	}
	clear(recs[len(kept):])
	return kept
}

// retrieve marks the record's panic as handed to someone.
func (r *panicRecord) retrieve() {
	if r != nil {
		r.claimed.Store(true)
	}
}

// collected runs once the future is garbage: nobody can retrieve its panic
// any more, so it is logged now. It runs on the runtime's cleanup goroutine,
// which must not run a Logger (whose handler could block or Goexit), so the
// record is logged from a goroutine of its own.
func (r *panicRecord) collected() {
	if r.claimed.CompareAndSwap(false, true) {
		pe := r.pe
		go r.l.report(slog.LevelError, "aio: task panicked and its future was dropped unretrieved",
			"loop", r.l.Name(), "task", r.task, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
}

// reportPanics logs, at Close, the panics nobody retrieved, and returns them.
// A panic whose future a goroutine is waiting for right now is left to that
// goroutine: Wait hands it over even if its ctx ends meanwhile.
func (l *Loop) reportPanics() []error {
	var errs []error
	for _, r := range l.panics {
		if r.waiting() || !r.claimed.CompareAndSwap(false, true) {
			continue
		}
		l.reportOnLoop(slog.LevelError, "aio: task panicked and nobody retrieved the panic",
			"loop", l.Name(), "task", r.task, "panic", fmt.Sprint(r.pe.Value), "stack", string(r.pe.Stack))
		errs = append(errs, r.pe)
	}
	l.panics = nil
	return errs
}
