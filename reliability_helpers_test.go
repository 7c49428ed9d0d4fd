package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// Helpers of the reliability tests (stress, faults, model, fuzz, slow tasks,
// bad input). Every name starts with rel so that they never clash with the
// other tests of the package.

// They use the shared helpers of helpers_test.go: testTimeout, testContext
// and newRunner.

// relServesOn fails t unless a plain Run on r still works: the loop survived
// whatever the test did to it.
func relServesOn(t *testing.T, r *threadrunner.Runner) {
	t.Helper()
	v, err := threadrunner.Run(testContext(t), r, func(*aio.Task) (string, error) { return "still serving", nil })
	if v != "still serving" || err != nil {
		t.Errorf("Run() afterwards = %q, %v; want %q, nil", v, err, "still serving")
	}
}

// relCatch calls fn and returns what it panicked with, or nil.
func relCatch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// relPanicError returns p as a *aio.PanicError, failing t if it is not one.
func relPanicError(t *testing.T, p any) *aio.PanicError {
	t.Helper()
	pe, ok := p.(*aio.PanicError)
	if !ok {
		t.Fatalf("recovered %T %v; want a *aio.PanicError", p, p)
	}
	return pe
}

// relDump returns the stacks of every goroutine, for the message of a test
// whose watchdog tripped.
func relDump() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// relAwait waits for ch to be closed, failing t with a goroutine dump if the
// watchdog trips first.
func relAwait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s; goroutines:\n%s", what, relDump())
	}
}

// relLeaves returns the errors at the leaves of err's tree (through Unwrap()
// error and Unwrap() []error), so that a test can check that an error holds
// nothing but what it expects.
func relLeaves(err error) []error {
	switch u := err.(type) {
	case nil:
		return nil
	case interface{ Unwrap() []error }:
		var leaves []error
		for _, e := range u.Unwrap() {
			leaves = append(leaves, relLeaves(e)...)
		}
		return leaves
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return relLeaves(inner)
		}
	}
	return []error{err}
}

// relStrayLeaf returns the first leaf of err that is none of allowed, or nil.
func relStrayLeaf(err error, allowed ...error) error {
	for _, leaf := range relLeaves(err) {
		if !slices.Contains(allowed, leaf) {
			return leaf
		}
	}
	return nil
}

// relEvent is one thing a relResource saw, as the loop saw it.
type relEvent struct {
	kind string // "enter", "enter-fail" or "exit"
	id   int
	how  string // for "exit": how the block ended, see relHow
}

func (e relEvent) String() string {
	if e.kind == "exit" {
		return fmt.Sprintf("exit %d (%s)", e.id, e.how)
	}
	return fmt.Sprintf("%s %d", e.kind, e.id)
}

// relHow names how a block ended, as Exit was told: "nil", "closed"
// (aio.ErrClosed), "panic" (a *aio.PanicError), "canceled"
// (context.Canceled) or "error: MESSAGE".
func relHow(how error) string {
	var pe *aio.PanicError
	switch {
	case how == nil:
		return "nil"
	case errors.Is(how, aio.ErrClosed):
		return "closed"
	case errors.As(how, &pe):
		return "panic"
	case errors.Is(how, context.Canceled):
		return "canceled"
	}
	return "error: " + how.Error()
}

// relLedger records, in order, what the resources of one runner saw. It is
// loop-owned: only Enter and Exit, on the loop, write it, and a test reads it
// only after a call that synchronizes with the loop has returned, so the race
// detector checks that the library orders them.
type relLedger struct {
	events []relEvent
}

// relResource is an aio.Resource that records its Enter and Exit in a ledger
// and counts them. Its fields other than the configuration are loop-owned.
// Enter returns the resource's id.
type relResource struct {
	id     int
	ledger *relLedger // may be nil

	enterErr   error                              // Enter fails with it
	enterPanic any                                // Enter panics with it
	exitErr    error                              // Exit returns it
	exitPanic  any                                // Exit panics with it
	onExit     func(t *aio.Task, how error) error // if set, runs in Exit; its error is Exit's

	enters   int     // Enter calls that succeeded
	attempts int     // Enter calls
	exits    int     // Exit calls
	hows     []error // the err each Exit was told
	enterSeq int     // position of the enter event in the ledger
	exitSeq  int     // position of the (last) exit event in the ledger
}

func (r *relResource) record(e relEvent) int {
	if r.ledger == nil {
		return -1
	}
	r.ledger.events = append(r.ledger.events, e)
	return len(r.ledger.events) - 1
}

func (r *relResource) Enter(t *aio.Task) (int, error) {
	r.attempts++
	if r.enterPanic != nil {
		r.record(relEvent{kind: "enter-fail", id: r.id})
		panic(r.enterPanic)
	}
	if r.enterErr != nil {
		r.record(relEvent{kind: "enter-fail", id: r.id})
		return 0, r.enterErr
	}
	r.enters++
	r.enterSeq = r.record(relEvent{kind: "enter", id: r.id})
	return r.id, nil
}

func (r *relResource) Exit(t *aio.Task, how error) error {
	r.exits++
	r.hows = append(r.hows, how)
	r.exitSeq = r.record(relEvent{kind: "exit", id: r.id, how: relHow(how)})
	if r.exitPanic != nil {
		panic(r.exitPanic)
	}
	if r.onExit != nil {
		return r.onExit(t, how)
	}
	return r.exitErr
}

// check returns an error unless the resource was entered at most once and
// exited exactly as often as it was entered.
func (r *relResource) check() error {
	if r.enters > 1 || r.exits != r.enters {
		return fmt.Errorf("resource %d: entered %d times, exited %d times; want 0 and 0 or 1 and 1", r.id, r.enters, r.exits)
	}
	return nil
}

// relRecord is one log record captured by relRecorder.
type relRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// relRecorder is a slog.Handler that keeps every record it is given. It is
// safe for concurrent use.
type relRecorder struct {
	mu      sync.Mutex // guards records
	records []relRecord
}

func (h *relRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *relRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := relRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve().String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, rec)
	return nil
}

// WithAttrs and WithGroup drop what they are given: the library logs with
// attributes on each record, which Handle keeps.
func (h *relRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *relRecorder) WithGroup(string) slog.Handler      { return h }

// list returns a copy of the records so far.
func (h *relRecorder) list() []relRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// find returns the records whose message is msg and whose attribute key
// contains sub.
func (h *relRecorder) find(msg, key, sub string) []relRecord {
	var found []relRecord
	for _, r := range h.list() {
		if r.msg == msg && strings.Contains(r.attrs[key], sub) {
			found = append(found, r)
		}
	}
	return found
}

// relStopMessage is the panic a generator gets when it yields again after
// yield returned false.
const relStopMessage = "aio: Seq called yield again after yield returned false"

// relIgnoringStop is a generator that never looks at what yield returns. It
// counts, on the loop, how often it started and how often its deferred
// cleanup ran.
type relIgnoringStop struct {
	started, cleaned int
}

func (g *relIgnoringStop) seq(t *aio.Task, yield func(int) bool) error {
	g.started++
	defer func() { g.cleaned++ }()
	for i := 0; ; i++ {
		yield(i) // the bug under test: the result is ignored
		if i%100 == 99 {
			_ = aio.Sleep(t, 0) // and so is the cancellation
		}
	}
}

// relCheckYieldAfterStop ranges over a generator that ignores yield
// returning false, breaks off after a few values, and checks that the range
// loop panics with the library's *aio.PanicError about it, that the values
// came in order, and that the generator's cleanup ran once.
func relCheckYieldAfterStop(t *testing.T, r *threadrunner.Runner) {
	t.Helper()
	g := &relIgnoringStop{}
	var got []int
	p := relCatch(func() {
		for v, err := range threadrunner.Iter(testContext(t), r, g.seq, threadrunner.BatchSize(8)) {
			if err != nil {
				t.Errorf("Iter yielded error %v; want values, then a panic", err)
				return
			}
			got = append(got, v)
			if len(got) == 5 {
				break
			}
		}
	})
	pe := relPanicError(t, p)
	if pe.Value != relStopMessage {
		t.Errorf("range loop panicked with %#v; want %#v", pe.Value, relStopMessage)
	}
	if !strings.Contains(string(pe.Stack), "relIgnoringStop") {
		t.Errorf("the panic's stack does not name the generator:\n%s", pe.Stack)
	}
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("values before the break = %v; want %v", got, want)
	}
	// The range loop ended after the generator's task did.
	if g.started != 1 || g.cleaned != 1 {
		t.Errorf("generator started %d times, cleaned up %d times; want 1 and 1", g.started, g.cleaned)
	}
}

// relBlockingMsg is the slow-task watchdog's warning about a step that is
// still holding the loop.
const relBlockingMsg = "aio: task is blocking the loop"

// relHogger is a task that holds the loop without awaiting.
type relHogger struct {
	rec     *relRecorder
	name    string        // if set, the task first names itself so
	hogging chan struct{} // closed when the hog starts holding the loop
	done    atomic.Bool   // set when it stops
}

func relNewHogger(rec *relRecorder, name string) *relHogger {
	return &relHogger{rec: rec, name: name, hogging: make(chan struct{})}
}

// hog is the task. Its step holds the loop until relBusy returns.
func (h *relHogger) hog(t *aio.Task) (int, error) {
	if h.name != "" {
		t.SetName(h.name)
	}
	close(h.hogging)
	relBusy(h.rec, h.reported)
	h.done.Store(true)
	return 1, nil
}

// reported reports whether w is the watchdog's warning about the hog: it
// names the hog's function or name, or shows relBusy on its stack.
func (h *relHogger) reported(w relRecord) bool {
	task := w.attrs["task"]
	return w.msg == relBlockingMsg && (strings.Contains(task, "relHogger") ||
		h.name != "" && strings.Contains(task, h.name) ||
		strings.Contains(w.attrs["stack"], "relBusy"))
}

// relBusy holds the loop without awaiting: it busy-waits at least 60ms, and
// until rec holds a record for which reported is true (bounded by
// testTimeout, so that a library that never warns fails rather than hangs).
//
//go:noinline
func relBusy(rec *relRecorder, reported func(relRecord) bool) {
	start := time.Now()
	for time.Since(start) < 60*time.Millisecond || !slices.ContainsFunc(rec.list(), reported) {
		if time.Since(start) > testTimeout {
			return
		}
	}
}

// relCheckHogWarning fails t unless rec holds exactly one warning that the
// loop is blocked by a task whose name contains name, with a stack in
// relBusy, held at least threshold.
func relCheckHogWarning(t *testing.T, rec *relRecorder, name string, threshold time.Duration) {
	t.Helper()
	warnings := rec.find(relBlockingMsg, "task", name)
	if len(warnings) != 1 {
		t.Fatalf("got %d warnings %q naming %q; want 1 (all records: %v)", len(warnings), relBlockingMsg, name, rec.list())
	}
	w := warnings[0]
	if w.level != slog.LevelWarn {
		t.Errorf("the warning's level is %v; want %v", w.level, slog.LevelWarn)
	}
	if stack := w.attrs["stack"]; !strings.Contains(stack, "relBusy") || !strings.Contains(stack, "relHogger") {
		t.Errorf("the warning's stack does not show the busy function relBusy called by the task:\n%s", stack)
	}
	if held, err := time.ParseDuration(w.attrs["held"]); err != nil || held < threshold {
		t.Errorf("the warning says held=%q; want a duration of at least %v", w.attrs["held"], threshold)
	}
	if got := w.attrs["threshold"]; got != threshold.String() {
		t.Errorf("the warning says threshold=%q; want %q", got, threshold)
	}
}
