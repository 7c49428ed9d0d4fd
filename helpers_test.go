package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// testTimeout bounds the waits of a test that would hang if the library were
// broken, so that it fails with a message instead. It is never what a test
// asserts: a healthy run ends long before it.
const testTimeout = 30 * time.Second

// testContext returns a context that ends after testTimeout, or when the test
// ends.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newRunner returns a new runner that is closed when the test ends. Call
// leaktest.Check before it.
func newRunner(t testing.TB, opts ...aio.Option) *threadrunner.Runner {
	t.Helper()
	r := threadrunner.New(opts...)
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return r
}

// errors the tests hand through the library, to check they come back
// unchanged.
var (
	errBody  = errors.New("body failed")
	errEnter = errors.New("enter failed")
	errExit  = errors.New("exit failed")
	errTask  = errors.New("task failed")
	errGen   = errors.New("generator failed")
)

// ctxKey is the key of the context values the tests pass through.
type ctxKey struct{}

// probe is a test aio.Resource that records what the loop did with it: how
// often Enter and Exit ran, on which OS thread, and how the block ended as
// Exit was told. It is loop-bound, like the seed's session: it has no lock,
// so reading its fields is race-free only once a call that synchronizes with
// the loop (Run, With, Close...) has returned, and the race detector checks
// that the library provides that ordering.
type probe struct {
	name string
	log  *eventLog // if not nil, Enter and Exit append "enter NAME", "exit NAME"

	enterErr   error // Enter returns it
	enterPanic any   // if not nil, Enter panics with it
	exitErr    error // Exit returns it
	exitPanic  any   // if not nil, Exit panics with it
	// enter and exit, if set, run inside Enter and Exit after the
	// bookkeeping and before the outcome, for tests that await there.
	enter func(t *aio.Task)
	exit  func(t *aio.Task)

	enters    int
	exits     int
	enterTID  int
	exitTID   int
	hows      []error // the err Exit was given, one per call
	exitValue any     // ctxKey's value in Exit's task context
}

func (p *probe) Enter(t *aio.Task) (*probe, error) {
	p.enters++
	p.enterTID = threadID()
	p.log.add("enter %s", p.name)
	if p.enter != nil {
		p.enter(t)
	}
	if p.enterPanic != nil {
		panic(p.enterPanic)
	}
	if p.enterErr != nil {
		return nil, p.enterErr
	}
	return p, nil
}

func (p *probe) Exit(t *aio.Task, how error) error {
	p.exits++
	p.exitTID = threadID()
	p.hows = append(p.hows, how)
	p.exitValue = t.Context().Value(ctxKey{})
	p.log.add("exit %s", p.name)
	if p.exit != nil {
		p.exit(t)
	}
	if p.exitPanic != nil {
		panic(p.exitPanic)
	}
	return p.exitErr
}

// checkOnce fails t unless Enter and Exit each ran exactly once, on the
// loop's thread, and Exit was told an error that matches wantHow (errors.Is;
// nil means Exit must have been told nil).
func (p *probe) checkOnce(t *testing.T, loopTID int, wantHow error) {
	t.Helper()
	p.checkRanOnce(t, loopTID)
	how := p.hows[0]
	if wantHow == nil && how != nil || wantHow != nil && !errors.Is(how, wantHow) {
		t.Errorf("%s: Exit was told %v; want %v", p.name, how, wantHow)
	}
}

// checkRanOnce fails t unless Enter and Exit each ran exactly once, on the
// loop's thread.
func (p *probe) checkRanOnce(t *testing.T, loopTID int) {
	t.Helper()
	if p.enters != 1 || p.exits != 1 {
		t.Fatalf("%s: Enter ran %d times, Exit %d times; want 1 and 1", p.name, p.enters, p.exits)
	}
	if p.enterTID != loopTID || p.exitTID != loopTID {
		t.Errorf("%s: Enter ran on thread %d, Exit on %d; want the loop's, %d", p.name, p.enterTID, p.exitTID, loopTID)
	}
}

// eventLog records events from any goroutine, in order. A nil *eventLog
// records nothing.
type eventLog struct {
	mu     sync.Mutex // guards events
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
}

// list returns a copy of the events so far.
func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// index returns the position of the first event that starts with prefix, or
// -1.
func (l *eventLog) index(prefix string) int {
	return slices.IndexFunc(l.list(), func(e string) bool { return strings.HasPrefix(e, prefix) })
}

// loopTID returns the OS thread id of r's loop, starting it if needed. It
// asks a task rather than Loop.ThreadID, so that it checks where tasks run.
func loopTID(t *testing.T, r *threadrunner.Runner) int {
	t.Helper()
	tid, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (int, error) {
		return threadID(), nil
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	return tid
}

// recoverPanic calls fn and returns what it panicked with, or nil.
func recoverPanic(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// panicError returns p as a *aio.PanicError, failing t if it is not one.
func panicError(t *testing.T, p any) *aio.PanicError {
	t.Helper()
	pe, ok := p.(*aio.PanicError)
	if !ok {
		t.Fatalf("recovered %T %v; want a *aio.PanicError", p, p)
	}
	return pe
}

// waitFor polls cond until it holds, failing t after testTimeout. It is for
// states that only counters reveal; the time it takes is never asserted.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
