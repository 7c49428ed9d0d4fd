package threadrunner_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// Tests of With, Open and Keep (resources.go): Enter and Exit on the loop,
// how a block ends, release, Close exiting what is kept, bad input; and the
// seed's walkthrough, whose loop-bound session is a resource.

// probe is a test aio.Resource that records what the loop did with it: how
// often Enter and Exit ran, on which OS thread, how the block ended as Exit
// was told, and when, in a ledger. Enter returns the probe itself. It is
// loop-bound, like the seed's session: it has no lock, so reading its fields
// is race-free only once a call that synchronizes with the loop (Run, With,
// release, Close...) has returned, and the race detector checks that the
// library provides that ordering.
type probe struct {
	name   string
	id     int
	log    *testkit.Events // if not nil, Enter and Exit add "enter NAME", "exit NAME"
	ledger *ledger         // if not nil, Enter and Exit append their ledgerEvent

	enterErr   error // Enter returns it
	enterPanic any   // if not nil, Enter panics with it
	exitErr    error // Exit returns it
	exitPanic  any   // if not nil, Exit panics with it
	// enter and exit, if set, run inside Enter and Exit after the
	// bookkeeping and before the outcome, for tests that await there. An
	// error from exit is Exit's, in place of exitErr.
	enter func(t *aio.Task)
	exit  func(t *aio.Task, how error) error

	enters    int     // Enter calls
	entered   int     // Enter calls that succeeded
	exits     int     // Exit calls
	enterTID  int     // the thread of the last Enter
	exitTID   int     // the thread of the last Exit
	hows      []error // the err Exit was given, one per call
	exitValue any     // testkit.CtxKey's value in Exit's task context
}

func (p *probe) Enter(t *aio.Task) (*probe, error) {
	p.enters++
	p.enterTID = testkit.ThreadID()
	p.log.Add("enter %s", p.name)
	if p.enter != nil {
		p.enter(t)
	}
	if p.enterPanic != nil || p.enterErr != nil {
		p.ledger.add(ledgerEvent{kind: "enter-fail", id: p.id})
		if p.enterPanic != nil {
			panic(p.enterPanic)
		}
		return nil, p.enterErr
	}
	p.entered++
	p.ledger.add(ledgerEvent{kind: "enter", id: p.id})
	return p, nil
}

func (p *probe) Exit(t *aio.Task, how error) error {
	p.exits++
	p.exitTID = testkit.ThreadID()
	p.hows = append(p.hows, how)
	p.exitValue = t.Context().Value(testkit.CtxKey{})
	p.ledger.add(ledgerEvent{kind: "exit", id: p.id, how: howName(how)})
	p.log.Add("exit %s", p.name)
	err := p.exitErr
	if p.exit != nil {
		if exitErr := p.exit(t, how); exitErr != nil {
			err = exitErr
		}
	}
	if p.exitPanic != nil {
		panic(p.exitPanic)
	}
	return err
}

// check returns an error unless the probe was entered at most once and
// exited exactly as often as it was entered.
func (p *probe) check() error {
	if p.entered > 1 || p.exits != p.entered {
		return fmt.Errorf("resource %s%d: entered %d times, exited %d times; want 0 and 0 or 1 and 1", p.name, p.id, p.entered, p.exits)
	}
	return nil
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

// ledgerEvent is one thing a probe saw, as the loop saw it.
type ledgerEvent struct {
	kind string // "enter", "enter-fail" or "exit"
	id   int
	how  string // for "exit": how the block ended, see howName
}

func (e ledgerEvent) String() string {
	if e.kind == "exit" {
		return fmt.Sprintf("exit %d (%s)", e.id, e.how)
	}
	return fmt.Sprintf("%s %d", e.kind, e.id)
}

// ledger records, in order, what the probes of one runner saw. It is
// loop-owned: only Enter and Exit, on the loop, write it, and a test reads it
// only after a call that synchronizes with the loop has returned, so the race
// detector checks that the library orders them. A nil *ledger records
// nothing.
type ledger struct {
	events []ledgerEvent
}

func (l *ledger) add(e ledgerEvent) {
	if l != nil {
		l.events = append(l.events, e)
	}
}

// howName names how a block ended, as Exit was told: "nil", "closed"
// (aio.ErrClosed), "panic" (a *aio.PanicError), "canceled"
// (context.Canceled) or "error: MESSAGE".
func howName(how error) string {
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

// A block is one way to enter a resource for a body: With, or Open followed
// by release. It returns the block's error.
type block struct {
	name string
	use  func(ctx context.Context, r *threadrunner.Runner, p *probe, body func(*probe) error) error
}

var blocks = []block{
	{"With", func(ctx context.Context, r *threadrunner.Runner, p *probe, body func(*probe) error) error {
		return threadrunner.With(ctx, r, p, body)
	}},
	{"Open", func(ctx context.Context, r *threadrunner.Runner, p *probe, body func(*probe) error) error {
		v, release, err := threadrunner.Open(ctx, r, p)
		if err != nil {
			if release != nil {
				return errors.New("Open failed but returned a release func")
			}
			return err
		}
		bodyErr := body(v)
		return errors.Join(bodyErr, release(bodyErr))
	}},
}

// enterers are the three ways to enter a resource, reduced to entering it.
var enterers = []struct {
	name  string
	enter func(ctx context.Context, r *threadrunner.Runner, p *probe) error
}{
	{"With", func(ctx context.Context, r *threadrunner.Runner, p *probe) error {
		return threadrunner.With(ctx, r, p, func(*probe) error { return errors.New("body ran") })
	}},
	{"Open", func(ctx context.Context, r *threadrunner.Runner, p *probe) error {
		_, release, err := threadrunner.Open(ctx, r, p)
		if err == nil || release != nil {
			return fmt.Errorf("Open returned release %v and %w", release != nil, err)
		}
		return err
	}},
	{"Keep", func(ctx context.Context, r *threadrunner.Runner, p *probe) error {
		_, err := threadrunner.Keep(ctx, r, p)
		return err
	}},
}

// resourceCalls are With, Open and Keep, each made with the ctx it is given,
// for the bad-input harness (see runBadCases).
func resourceCalls(want error) []badCase {
	tests := []badCase{
		{name: "With", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			return threadrunner.With(ctx, r, markRes(ran), func(int) error {
				ran.Store(true)
				return nil
			})
		}},
		{name: "Open", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, release, err := threadrunner.Open(ctx, r, markRes(ran))
			if release != nil {
				ran.Store(true)
			}
			return err
		}},
		{name: "Keep", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
			_, err := threadrunner.Keep(ctx, r, markRes(ran))
			return err
		}},
	}
	for i := range tests {
		tests[i].want = want
	}
	return tests
}

// markRes returns a resource whose Enter and Exit set ran.
func markRes(ran *atomic.Bool) aio.Resource[int] {
	return aio.ResourceFunc(func(*aio.Task) (int, error) {
		ran.Store(true)
		return 1, nil
	}, func(*aio.Task, int, error) error {
		ran.Store(true)
		return nil
	})
}

// # Enter and Exit

func TestResourceEnterAndExitRunOnTheLoop(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	tid := loopTID(t, r)
	ctx := context.Background()
	for _, b := range blocks {
		t.Run(b.name, func(t *testing.T) {
			p := &probe{name: b.name}
			var bodyRunErr error
			err := b.use(ctx, r, p, func(got *probe) error {
				if got != p {
					return fmt.Errorf("body got %v; want the entered value", got)
				}
				// The body runs in the calling goroutine, off the loop,
				// so it may make blocking calls.
				_, bodyRunErr = threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return 1, nil })
				return nil
			})
			if err != nil {
				t.Fatalf("%s() = %v; want nil", b.name, err)
			}
			if bodyRunErr != nil {
				t.Errorf("Run() in the body = %v; want nil", bodyRunErr)
			}
			p.checkOnce(t, tid, nil)
		})
	}
	kept := &probe{name: "Keep"}
	if v, err := threadrunner.Keep(ctx, r, kept); v != kept || err != nil {
		t.Fatalf("Keep() = %v, %v; want the entered value, nil", v, err)
	}
	if kept.exits != 0 {
		t.Fatal("Keep() exited its resource; want it kept until Close")
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	kept.checkOnce(t, tid, nil)
}

func TestResourceEnterFails(t *testing.T) {
	for _, tt := range enterers {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			r := threadrunner.New()
			p := &probe{name: tt.name, enterErr: testkit.ErrEnter}
			if err := tt.enter(context.Background(), r, p); err != testkit.ErrEnter {
				t.Errorf("%s() = %v; want %v", tt.name, err, testkit.ErrEnter)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
			if p.enters != 1 || p.exits != 0 {
				t.Errorf("Enter ran %d times, Exit %d times; want 1 and 0", p.enters, p.exits)
			}
		})
	}
}

func TestResourceEnterPanics(t *testing.T) {
	for _, tt := range enterers {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			r := threadrunner.New()
			p := &probe{name: tt.name, enterPanic: "enter boom"}
			got := testkit.RecoverPanic(func() { tt.enter(context.Background(), r, p) })
			if pe := panicError(t, got); pe.Value != "enter boom" {
				t.Errorf("PanicError.Value = %v; want %q", pe.Value, "enter boom")
			}
			loopTID(t, r) // the loop serves on
			if err := r.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
			if p.enters != 1 || p.exits != 0 {
				t.Errorf("Enter ran %d times, Exit %d times; want 1 and 0", p.enters, p.exits)
			}
		})
	}
}

func TestResourceExitSeesHowTheBodyEnded(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	tests := []struct {
		name     string
		bodyErr  error
		exitErr  error
		wantHow  error
		wantErrs []error // all in the block's error; none means nil
	}{
		{"ok", nil, nil, nil, nil},
		{"body fails", testkit.ErrBody, nil, testkit.ErrBody, []error{testkit.ErrBody}},
		{"exit fails", nil, testkit.ErrExit, nil, []error{testkit.ErrExit}},
		{"both fail", testkit.ErrBody, testkit.ErrExit, testkit.ErrBody, []error{testkit.ErrBody, testkit.ErrExit}},
	}
	for _, b := range blocks {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				p := &probe{name: b.name, exitErr: tt.exitErr}
				err := b.use(context.Background(), r, p, func(*probe) error { return tt.bodyErr })
				if len(tt.wantErrs) == 0 && err != nil {
					t.Errorf("%s() = %v; want nil", b.name, err)
				}
				for _, want := range tt.wantErrs {
					if !errors.Is(err, want) {
						t.Errorf("%s() = %v; want it to include %v", b.name, err, want)
					}
				}
				p.checkOnce(t, tid, tt.wantHow)
			})
		}
	}
}

func TestWithBodyPanicGoesOnAfterExit(t *testing.T) {
	testkit.Check(t)
	var logged testkit.LogSink
	r := newRunner(t, aio.Logger(logged.Logger()))
	tid := loopTID(t, r)
	for _, exitErr := range []error{nil, testkit.ErrExit} {
		t.Run(fmt.Sprint("exitErr=", exitErr), func(t *testing.T) {
			p := &probe{name: "with", exitErr: exitErr}
			exitsAtPanic := -1
			got := testkit.RecoverPanic(func() {
				defer func() { exitsAtPanic = p.exits }()
				threadrunner.With(context.Background(), r, p, func(*probe) error { panic("boom") })
			})
			if got != "boom" {
				t.Errorf("With() panicked with %v; want the body's own value %q", got, "boom")
			}
			if exitsAtPanic != 1 {
				t.Errorf("Exit had run %d times when the panic left With; want 1", exitsAtPanic)
			}
			p.checkRanOnce(t, tid)
			var pe *aio.PanicError
			if !errors.As(p.hows[0], &pe) || pe.Value != "boom" {
				t.Errorf("Exit was told %v; want a *aio.PanicError with value %q", p.hows[0], "boom")
			}
			if exitErr != nil && !strings.Contains(logged.String(), exitErr.Error()) {
				t.Errorf("Exit's error %v, which nobody can receive, was not logged; log:\n%s", exitErr, logged.String())
			}
		})
	}
}

func TestWithBodyGoexit(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	p := &probe{name: "with"}
	goexited, panicked := testkit.Goexits(func() {
		threadrunner.With(context.Background(), r, p, func(*probe) error {
			runtime.Goexit()
			return nil
		})
	})
	if !goexited {
		t.Errorf("With() of a body that called runtime.Goexit returned or panicked (with %v); want the Goexit to go on", panicked)
	}
	p.checkRanOnce(t, tid)
	if p.hows[0] == nil {
		t.Error("Exit was told nil after the body called runtime.Goexit; want an error")
	}
}

func TestResourceExitAfterContextEnd(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	for _, b := range blocks {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), testkit.CtxKey{}, "v"))
			defer cancel()
			var exitSleep error
			p := &probe{name: b.name, exit: func(t *aio.Task, _ error) error {
				exitSleep = aio.Sleep(t, time.Millisecond)
				return nil
			}}
			err := b.use(ctx, r, p, func(*probe) error {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s() = %v; want %v", b.name, err, context.Canceled)
			}
			p.checkOnce(t, tid, context.Canceled)
			if exitSleep != nil {
				t.Errorf("Sleep in Exit after the caller's ctx ended = %v; want nil (Exit gets ctx's values, not its cancellation)", exitSleep)
			}
			if p.exitValue != "v" {
				t.Errorf("ctx value in Exit = %v; want %q", p.exitValue, "v")
			}
		})
	}
}

func TestResourceContextEndsDuringEnter(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	for _, tt := range enterers {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Enter succeeds although the caller gave up while it awaited:
			// the resource is entered, so it must be exited.
			p := &probe{name: tt.name, enter: func(t *aio.Task) {
				cancel()
				aio.Sleep(t, time.Hour)
			}}
			if err := tt.enter(ctx, r, p); !errors.Is(err, context.Canceled) {
				t.Errorf("%s() = %v; want %v", tt.name, err, context.Canceled)
			}
			p.checkOnce(t, tid, context.Canceled)
		})
	}
}

// # Open's release

func TestReleaseRunsExitOnce(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	p := &probe{name: "open", exitErr: testkit.ErrExit}
	_, release, err := threadrunner.Open(context.Background(), r, p)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() { errs <- release(testkit.ErrBody) })
	}
	wg.Wait()
	close(errs)
	exitErrs := 0
	for err := range errs {
		switch err {
		case nil:
		case testkit.ErrExit:
			exitErrs++
		default:
			t.Errorf("release() = %v; want %v once and nil for the other calls", err, testkit.ErrExit)
		}
	}
	if exitErrs != 1 {
		t.Errorf("%d release calls returned Exit's error; want 1", exitErrs)
	}
	if err := release(nil); err != nil {
		t.Errorf("release() again = %v; want nil", err)
	}
	p.checkOnce(t, tid, testkit.ErrBody)
}

func TestReleaseFromTask(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	p := &probe{name: "open"}
	_, release, err := threadrunner.Open(context.Background(), r, p)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	inTask, err := threadrunner.Run(context.Background(), r, func(*aio.Task) (error, error) { return release(nil), nil })
	if err != nil || !errors.Is(inTask, aio.ErrLoopThread) {
		t.Errorf("release() from a task = %v (Run: %v); want %v", inTask, err, aio.ErrLoopThread)
	}
	if p.exits != 0 {
		t.Fatal("release() from a task exited the resource; want it refused")
	}
	if err := release(nil); err != nil {
		t.Errorf("release() = %v; want nil", err)
	}
	p.checkOnce(t, tid, nil)
}

// # Close

// TestCloseExitsResourcesLastEnteredFirst keeps resources, and opens one,
// whose Exits succeed, fail and panic, and checks that Close exits them all,
// once each, in reverse order of entry (one Exit's failure skips none of the
// rest), and returns all their failures, the same on a second Close.
func TestCloseExitsResourcesLastEnteredFirst(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	var log testkit.Events
	ctx := context.Background()
	inPanic := &faultValue{"Exit during Close"}
	first := &probe{name: "first", log: &log}
	opened := &probe{name: "opened", log: &log, exitPanic: "exit boom"}
	failing := &probe{name: "failing", log: &log, exitErr: testkit.ErrExit}
	panicking := &probe{name: "panicking", log: &log, exitPanic: inPanic}
	last := &probe{name: "last", log: &log}
	if _, err := threadrunner.Keep(ctx, r, first); err != nil {
		t.Fatalf("Keep(first) = %v; want nil", err)
	}
	_, release, err := threadrunner.Open(ctx, r, opened)
	if err != nil {
		t.Fatalf("Open(opened) = %v; want nil", err)
	}
	for _, p := range []*probe{failing, panicking, last} {
		if _, err := threadrunner.Keep(ctx, r, p); err != nil {
			t.Fatalf("Keep(%s) = %v; want nil", p.name, err)
		}
	}
	tid := r.Loop().ThreadID()
	err = r.Close()
	if !errors.Is(err, testkit.ErrExit) {
		t.Errorf("Close() = %v; want it to include %v", err, testkit.ErrExit)
	}
	var panics []any
	for _, leaf := range testkit.Leaves(err) {
		if pe, ok := leaf.(*aio.PanicError); ok {
			panics = append(panics, pe.Value)
		}
	}
	if !slices.Contains(panics, any("exit boom")) || !slices.Contains(panics, any(inPanic)) {
		t.Errorf("Close() = %v; want it to include the *aio.PanicError of both Exits that panicked", err)
	}
	if err2 := r.Close(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second Close() = %v; want the same as the first, %v", err2, err)
	}
	want := []string{
		"enter first", "enter opened", "enter failing", "enter panicking", "enter last",
		"exit last", "exit panicking", "exit failing", "exit opened", "exit first",
	}
	if got := log.List(); !slices.Equal(got, want) {
		t.Errorf("events = %q; want %q", got, want)
	}
	for _, p := range []*probe{first, failing, panicking, last} {
		p.checkOnce(t, tid, nil)
	}
	opened.checkOnce(t, tid, aio.ErrClosed)
	if err := release(nil); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("release() after Close = %v; want %v", err, aio.ErrClosed)
	}
	if opened.exits != 1 {
		t.Errorf("Exit ran %d times after release following Close; want 1", opened.exits)
	}
	select {
	case <-r.Loop().Done():
	default:
		t.Error("the loop still runs after Close")
	}
}

// TestReleaseWhileCloseExits releases a resource that Close has exited
// already while Close, still running, waits in the Exit of one kept before
// it: the release returns ErrClosed and does not exit it again.
func TestReleaseWhileCloseExits(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	tid := loopTID(t, r)
	inExit := make(chan struct{})
	gate := make(chan struct{})
	kept := &probe{name: "kept", exit: func(t *aio.Task, _ error) error {
		close(inExit)
		_, _, err := aio.Recv(t, gate) // holds Close here until the release is done
		return err
	}}
	opened := &probe{name: "opened"}
	if _, err := threadrunner.Keep(context.Background(), r, kept); err != nil {
		t.Fatalf("Keep() = %v; want nil", err)
	}
	_, release, err := threadrunner.Open(context.Background(), r, opened)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	testkit.Await(t, inExit, "Close to reach the kept resource's Exit")
	released := make(chan error, 1)
	go func() { released <- release(nil) }()
	relErr := testkit.Await(t, released, "release to return while Close waits in an Exit")
	close(gate)
	if err := testkit.Await(t, closed, "Close to return"); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if !errors.Is(relErr, aio.ErrClosed) {
		t.Errorf("release() while Close exits = %v; want %v", relErr, aio.ErrClosed)
	}
	opened.checkOnce(t, tid, aio.ErrClosed)
	kept.checkOnce(t, tid, nil)
}

func TestWithWhileRunnerCloses(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	tid := loopTID(t, r)
	p := &probe{name: "with"}
	inBody := make(chan struct{})
	closed := make(chan struct{})
	result := make(chan error)
	go func() {
		result <- threadrunner.With(context.Background(), r, p, func(*probe) error {
			close(inBody)
			<-closed
			return nil
		})
	}()
	<-inBody
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if p.exits != 1 {
		t.Errorf("Close() ran Exit %d times; want 1, for the block still open", p.exits)
	}
	close(closed)
	if err := <-result; !errors.Is(err, aio.ErrClosed) {
		t.Errorf("With() = %v; want %v", err, aio.ErrClosed)
	}
	p.checkOnce(t, tid, aio.ErrClosed)
}

func TestKeepRacingClose(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	loopTID(t, r)
	probes := make([]*probe, 16)
	errs := make([]error, len(probes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range probes {
		probes[i] = &probe{name: fmt.Sprint("p", i)}
		wg.Go(func() {
			<-start
			_, errs[i] = threadrunner.Keep(context.Background(), r, probes[i])
		})
	}
	close(start)
	if err := r.Close(); err != nil && !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Close() = %v; want nil", err)
	}
	wg.Wait()
	for i, p := range probes {
		if p.exits != p.enters || p.exits > 1 {
			t.Errorf("%s: Enter ran %d times, Exit %d times; want equal, at most once", p.name, p.enters, p.exits)
		}
		if errs[i] != nil && !errors.Is(errs[i], aio.ErrClosed) {
			t.Errorf("Keep(%s) = %v; want nil or %v", p.name, errs[i], aio.ErrClosed)
		}
		if errs[i] == nil && p.exits != 1 {
			t.Errorf("Keep(%s) succeeded but Close did not exit it", p.name)
		}
	}
}

// # Bad input

func TestResourceBadInput(t *testing.T) {
	body := func(ran *atomic.Bool) func(int) error {
		return func(int) error {
			ran.Store(true)
			return nil
		}
	}
	t.Run("nil", func(t *testing.T) {
		tests := []badCase{
			{name: "With nil resource", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return threadrunner.With[int](ctx, r, nil, body(ran))
			}},
			{name: "With nil body", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return threadrunner.With(ctx, r, markRes(ran), nil) // refused before Enter
			}},
			{name: "Open nil resource", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				_, release, err := threadrunner.Open[int](ctx, r, nil)
				if release != nil {
					ran.Store(true)
				}
				return err
			}},
			{name: "Keep nil resource", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				_, err := threadrunner.Keep[int](ctx, r, nil)
				return err
			}},
			{name: "aio.With nil resource", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return inTask(ctx, r, func(t *aio.Task) error { return aio.With[int](t, nil, body(ran)) })
			}},
		}
		runInvalidCases(t, tests)
	})
	runEndedContextCases(t, resourceCalls)
}

func TestBadInputTypedNilResource(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	// A nil *probe is a non-nil aio.Resource: its Enter dereferences nil on
	// the loop. That panic must come back to the caller, not crash the loop.
	var res *probe
	ran := false
	p := testkit.RecoverPanic(func() {
		_ = threadrunner.With(testkit.Context(t), r, res, func(*probe) error {
			ran = true
			return nil
		})
	})
	pe := panicError(t, p)
	if _, ok := pe.Value.(runtime.Error); !ok {
		t.Errorf("With(nil *probe) panicked with %T %v; want the runtime error of Enter", pe.Value, pe.Value)
	}
	if ran {
		t.Error("With ran its body after Enter panicked")
	}
	servesOn(t, r)
}

// # The seed's walkthrough
//
// The seed's walkthrough ("Running async code from sync in Python asyncio"),
// step by step, against a local HTTP server: a loop-bound session whose
// requests run on the loop, used from sync code.

// seedLines is how many lines the seed's page has.
const seedLines = 624

// newSeedServer starts a server on 127.0.0.1 that serves seedLines lines at
// "/" and closes when the test ends. Call testkit.Check first.
func newSeedServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for i := range seedLines {
			fmt.Fprintf(w, "line %d\n", i)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A session is the seed's aiohttp.ClientSession: a loop-bound object. It is
// made and used on one loop only, so it needs no lock; its requests run in
// aio.ToThread, off the loop, and their results come back to it.
type session struct {
	base      string
	transport *http.Transport
	loop      *aio.Loop // the loop it was entered on

	requests int  // loop-owned
	closed   bool // loop-owned
}

// newSession returns a session that is not entered yet (the seed's
// aiohttp.ClientSession()).
func newSession(base string) *session {
	return &session{base: base, transport: &http.Transport{}}
}

// Enter binds the session to t's loop.
func (s *session) Enter(t *aio.Task) (*session, error) {
	s.loop = t.Loop()
	return s, nil
}

// Exit closes the session's connections.
func (s *session) Exit(t *aio.Task, how error) error {
	if err := s.check(t); err != nil {
		return err
	}
	s.closed = true
	s.transport.CloseIdleConnections()
	return nil
}

// check refuses use from another loop or after Exit.
func (s *session) check(t *aio.Task) error {
	switch {
	case s.loop != t.Loop():
		return fmt.Errorf("session bound to %v used on %v", s.loop, t.Loop())
	case s.closed:
		return errors.New("session closed")
	}
	return nil
}

// get sends a GET for path from t and returns the response; its body must be
// closed. If outlive, the response may be read after t ends: its request is
// not bound to t's context, which ends with t.
func (s *session) get(t *aio.Task, path string, outlive bool) (*http.Response, error) {
	if err := s.check(t); err != nil {
		return nil, err
	}
	s.requests++
	return aio.ToThread(t, func(ctx context.Context) (*http.Response, error) {
		if outlive {
			ctx = context.WithoutCancel(ctx)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if err != nil {
			return nil, err
		}
		return s.transport.RoundTrip(req)
	})
}

// Get fetches path and returns the response's status (the seed's do_stuff).
func (s *session) Get(t *aio.Task, path string) (int, error) {
	resp, err := s.get(t, path, false)
	if err != nil {
		return 0, err
	}
	_, err = aio.ToThread(t, func(context.Context) (struct{}, error) {
		defer resp.Body.Close()
		_, err := io.Copy(io.Discard, resp.Body)
		return struct{}{}, err
	})
	return resp.StatusCode, err
}

// Open returns the response to a GET for path as a resource (the seed's
// `async with session.get(url) as response`).
func (s *session) Open(path string) aio.Resource[*response] {
	return aio.ResourceFunc(func(t *aio.Task) (*response, error) {
		resp, err := s.get(t, path, true)
		if err != nil {
			return nil, err
		}
		return &response{status: resp.StatusCode, body: resp.Body}, nil
	}, func(t *aio.Task, r *response, how error) error {
		_, err := aio.ToThread(t, func(context.Context) (struct{}, error) {
			return struct{}{}, r.body.Close()
		})
		return err
	})
}

// A response is an open HTTP response whose body is read on the loop.
type response struct {
	status int
	body   io.ReadCloser
}

// Lines returns the body's lines as an async generator (the seed's
// response.content): each read happens in aio.ToThread, and the lines it
// completes are yielded on the loop.
func (r *response) Lines() aio.Seq[string] {
	return func(t *aio.Task, yield func(string) bool) error {
		var pending []byte
		for {
			chunk, err := aio.ToThread(t, func(context.Context) ([]byte, error) {
				buf := make([]byte, 4096)
				n, err := r.body.Read(buf)
				return buf[:n], err
			})
			pending = append(pending, chunk...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				if !yield(string(pending[:i])) {
					return nil
				}
				pending = pending[i+1:]
			}
			if err == io.EOF {
				if len(pending) > 0 && !yield(string(pending)) {
					return nil
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// runInGoroutines calls fn from n goroutines at once and waits for them (the
// seed's do_stuff_in_threads).
func runInGoroutines(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// "But I want a long-lived event loop": running twice on one runner uses the
// same loop, on the same thread.
func TestSeedRunTwiceOnOneLoop(t *testing.T) {
	testkit.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testkit.Context(t)
	type result struct {
		status int
		loop   uint64
		tid    int
	}
	// main: `async with ClientSession() as session: await do_stuff(session)`
	main := func(t *aio.Task) (result, error) {
		var res result
		err := aio.With(t, newSession(base), func(s *session) error {
			status, err := s.Get(t, "/")
			res = result{status, t.Loop().ID(), testkit.ThreadID()}
			return err
		})
		return res, err
	}
	first, err := threadrunner.Run(ctx, r, main)
	if err != nil {
		t.Fatalf("Run(main) = %v; want nil", err)
	}
	second, err := threadrunner.Run(ctx, r, main)
	if err != nil {
		t.Fatalf("Run(main) again = %v; want nil", err)
	}
	if first.status != http.StatusOK || first != second {
		t.Errorf("Run(main) twice = %+v, %+v; want status 200 on one loop and thread both times", first, second)
	}
	if first.loop != r.Loop().ID() || first.tid != r.Loop().ThreadID() {
		t.Errorf("main ran on loop %d thread %d; want the runner's, %d thread %d", first.loop, first.tid, r.Loop().ID(), r.Loop().ThreadID())
	}
}

// "But I want a long-lived session" and "... from multiple threads": a
// session made and entered through Run, by hand, is used by many goroutines
// at once; its unlocked counter sees every request.
func TestSeedLongLivedSessionFromManyGoroutines(t *testing.T) {
	testkit.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testkit.Context(t)
	// session = runner.run(call_async(aiohttp.ClientSession))
	s, err := threadrunner.Run(ctx, r, func(*aio.Task) (*session, error) { return newSession(base), nil })
	if err != nil {
		t.Fatalf("Run(newSession) = %v; want nil", err)
	}
	// runner.run(session.__aenter__())
	if _, err := threadrunner.Run(ctx, r, s.Enter); err != nil {
		t.Fatalf("Run(s.Enter) = %v; want nil", err)
	}
	const goroutines, each = 8, 4
	runInGoroutines(goroutines, func(i int) {
		for range each {
			status, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return s.Get(t, "/") })
			if status != http.StatusOK || err != nil {
				t.Errorf("goroutine %d: Run(s.Get) = %d, %v; want 200, nil", i, status, err)
			}
		}
	})
	// runner.run(session.__aexit__(None, None, None))
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (struct{}, error) { return struct{}{}, s.Exit(t, nil) }); err != nil {
		t.Fatalf("Run(s.Exit) = %v; want nil", err)
	}
	if s.requests != goroutines*each || !s.closed {
		t.Errorf("session made %d requests, closed %v; want %d, true", s.requests, s.closed, goroutines*each)
	}
}

// "But I don't want to manage async context managers by hand": the session
// kept for the runner's life (enter_context) is exited by Close.
func TestSeedKeptSession(t *testing.T) {
	testkit.Check(t)
	base := newSeedServer(t)
	r := threadrunner.New()
	ctx := testkit.Context(t)
	s, err := threadrunner.Keep(ctx, r, newSession(base))
	if err != nil {
		t.Fatalf("Keep(session) = %v; want nil", err)
	}
	const goroutines = 2
	runInGoroutines(goroutines, func(i int) {
		status, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return s.Get(t, "/") })
		if status != http.StatusOK || err != nil {
			t.Errorf("goroutine %d: Run(s.Get) = %d, %v; want 200, nil", i, status, err)
		}
	})
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if s.requests != goroutines || !s.closed {
		t.Errorf("session made %d requests, closed %v; want %d, true", s.requests, s.closed, goroutines)
	}
}

// "But I want to use async iterables": a response opened as a block
// (wrap_context), its lines read from sync code (wrap_iter).
func TestSeedResponseLines(t *testing.T) {
	testkit.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testkit.Context(t)
	s, err := threadrunner.Keep(ctx, r, newSession(base))
	if err != nil {
		t.Fatalf("Keep(session) = %v; want nil", err)
	}
	// The same page, read in sync code, is what the lines must match.
	var want []string
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if len(want) != seedLines {
		t.Fatalf("the page has %d lines; want %d", len(want), seedLines)
	}

	readLines := func(resp *response) ([]string, error) {
		var lines []string
		for line, err := range threadrunner.Iter(ctx, r, resp.Lines()) {
			if err != nil {
				return lines, err
			}
			lines = append(lines, line)
		}
		return lines, nil
	}
	check := func(how string, lines []string) {
		t.Helper()
		if len(lines) != seedLines {
			t.Fatalf("%s: got %d lines; want %d", how, len(lines), seedLines)
		}
		for i := range lines {
			if lines[i] != want[i] {
				t.Fatalf("%s: line %d = %q; want %q", how, i, lines[i], want[i])
			}
		}
	}

	// with runner.wrap_context(session.get(url)) as response:
	//     lines = [line for line in runner.wrap_iter(response.content)]
	var lines []string
	err = threadrunner.With(ctx, r, s.Open("/"), func(resp *response) error {
		if resp.status != http.StatusOK {
			return fmt.Errorf("status %d", resp.status)
		}
		var err error
		lines, err = readLines(resp)
		return err
	})
	if err != nil {
		t.Fatalf("With(s.Open) = %v; want nil", err)
	}
	check("With", lines)

	// The same with Open, for code that cannot wrap the use in a function.
	resp2, release, err := threadrunner.Open(ctx, r, s.Open("/"))
	if err != nil {
		t.Fatalf("Open(s.Open) = %v; want nil", err)
	}
	lines, readErr := readLines(resp2)
	if err := release(readErr); err != nil {
		t.Fatalf("release() = %v; want nil", err)
	}
	if readErr != nil {
		t.Fatalf("reading lines: %v", readErr)
	}
	check("Open", lines)
}

// # Lifetimes and faults (issue 9)

// linesServer serves n lines, flushed one at a time, so that a client
// reads the body long after the request was made.
func linesServer(t *testing.T, n int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range n {
			fmt.Fprintf(w, "line %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Microsecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// httpResponse is the seed's "async with session.get(url) as response": a
// resource whose Enter opens a request with t.Context(), the plain way, and
// whose body is read after Enter has returned.
type httpResponse struct {
	url  string
	resp *http.Response
}

func (h *httpResponse) Enter(t *aio.Task) (*bufio.Reader, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := aio.ToThread(t, func(context.Context) (*http.Response, error) { return http.DefaultClient.Do(req) })
	if err != nil {
		return nil, err
	}
	h.resp = resp
	return bufio.NewReader(resp.Body), nil
}

func (h *httpResponse) Exit(t *aio.Task, how error) error { return h.resp.Body.Close() }

// lines is an async generator of br's lines, read off the loop.
func lines(br *bufio.Reader) aio.Seq[string] {
	return func(t *aio.Task, yield func(string) bool) error {
		for {
			line, err := aio.ToThread(t, func(context.Context) (string, error) { return br.ReadString('\n') })
			if line != "" && !yield(line) {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// TestResourceContextLivesUntilExit checks that what Enter opens with its
// task's context stays usable until the resource's Exit: the seed's final
// program (With a response, Iter over its lines) reads the whole body,
// every time; so does a response kept by Keep and read by later Runs, and
// one opened by Open until its release.
func TestResourceContextLivesUntilExit(t *testing.T) {
	testkit.Check(t)
	const n = 50
	srv := linesServer(t, n)
	r := newRunner(t)
	ctx := testkit.Context(t)
	for round := range 6 {
		got := 0
		err := threadrunner.With(ctx, r, &httpResponse{url: srv.URL}, func(br *bufio.Reader) error {
			for _, err := range threadrunner.Iter(ctx, r, lines(br)) {
				if err != nil {
					return err
				}
				got++
			}
			return nil
		})
		if err != nil || got != n {
			t.Fatalf("round %d: With + Iter read %d lines, %v; want %d, nil", round, got, err, n)
		}
	}

	br, release, err := threadrunner.Open(ctx, r, &httpResponse{url: srv.URL})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	time.Sleep(time.Millisecond) // the entering task is long gone
	got := 0
	for _, err := range threadrunner.Iter(ctx, r, lines(br)) {
		if err != nil {
			t.Fatalf("reading an Open response: %v", err)
		}
		got++
	}
	if err := release(nil); err != nil || got != n {
		t.Errorf("Open: read %d lines, release() = %v; want %d, nil", got, err, n)
	}

	kr := newRunner(t)
	kept, err := threadrunner.Keep(ctx, kr, &httpResponse{url: srv.URL})
	if err != nil {
		t.Fatalf("Keep() = %v", err)
	}
	got = 0
	for range n {
		_, err := threadrunner.Run(ctx, kr, func(t *aio.Task) (string, error) {
			return aio.ToThread(t, func(context.Context) (string, error) { return kept.ReadString('\n') })
		})
		if err != nil {
			t.Fatalf("a later Run reading the kept response: %v", err)
		}
		got++
	}
	if got != n {
		t.Errorf("read %d lines of the kept response; want %d", got, n)
	}
}

// TestWithQuietWhenCloseExited checks that a With whose body panics after
// Close has exited the resource does not log a failed Exit: Close exited it.
func TestWithQuietWhenCloseExited(t *testing.T) {
	testkit.Check(t)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	r := threadrunner.New(aio.Logger(logger))
	log := new(testkit.Events)
	inBody, proceed, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var p any
	go func() {
		defer close(done)
		p = testkit.RecoverPanic(func() {
			threadrunner.With(testkit.Context(t), r, &exitRecorder{name: "res", log: log}, func(string) error {
				close(inBody)
				<-proceed
				panic("body boom")
			})
		})
	}()
	<-inBody
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	close(proceed)
	<-done
	if p != "body boom" {
		t.Errorf("With() panicked with %v; want the body's panic", p)
	}
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() != 0 {
		t.Errorf("log = %q; want nothing: Close had exited the resource", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestWithBodyPanicNil checks that a With body's panic(nil) under
// GODEBUG=panicnil=1, where recover returns nil, is neither swallowed nor
// taken for a Goexit: Exit sees a *aio.PanicError and the panic goes on.
func TestWithBodyPanicNil(t *testing.T) {
	if os.Getenv("THREADRUNNER_TEST_CHILD") != t.Name() {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
		cmd.Env = append(os.Environ(), "THREADRUNNER_TEST_CHILD="+t.Name(), "GODEBUG=panicnil=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("the test failed under GODEBUG=panicnil=1: %v\n%s", err, out)
		}
		return
	}
	testkit.Check(t)
	r := newRunner(t)
	var how error
	res := aio.ResourceFunc(func(*aio.Task) (int, error) { return 1, nil },
		func(_ *aio.Task, _ int, h error) error { how = h; return nil })
	panicked := true
	func() {
		defer func() { recover() }()
		threadrunner.With(testkit.Context(t), r, res, func(int) error { panic(nil) })
		panicked = false
	}()
	var pe *aio.PanicError
	if !panicked || !errors.As(how, &pe) || pe.Value != nil {
		t.Errorf("With's body panic(nil): With panicked %v, Exit saw %v; want a panic, and a *aio.PanicError with a nil Value", panicked, how)
	}
}
