package threadrunner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

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

func TestResourceEnterAndExitRunOnTheLoop(t *testing.T) {
	leaktest.Check(t)
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
			leaktest.Check(t)
			r := threadrunner.New()
			p := &probe{name: tt.name, enterErr: errEnter}
			if err := tt.enter(context.Background(), r, p); err != errEnter {
				t.Errorf("%s() = %v; want %v", tt.name, err, errEnter)
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
			leaktest.Check(t)
			r := threadrunner.New()
			p := &probe{name: tt.name, enterPanic: "enter boom"}
			got := recoverPanic(func() { tt.enter(context.Background(), r, p) })
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
	leaktest.Check(t)
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
		{"body fails", errBody, nil, errBody, []error{errBody}},
		{"exit fails", nil, errExit, nil, []error{errExit}},
		{"both fail", errBody, errExit, errBody, []error{errBody, errExit}},
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

// lockedBuffer is a bytes.Buffer safe for concurrent use, for a logger.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWithBodyPanicGoesOnAfterExit(t *testing.T) {
	leaktest.Check(t)
	var logged lockedBuffer
	r := newRunner(t, aio.Logger(slog.New(slog.NewTextHandler(&logged, nil))))
	tid := loopTID(t, r)
	for _, exitErr := range []error{nil, errExit} {
		t.Run(fmt.Sprint("exitErr=", exitErr), func(t *testing.T) {
			p := &probe{name: "with", exitErr: exitErr}
			exitsAtPanic := -1
			got := recoverPanic(func() {
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
	leaktest.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	p := &probe{name: "with"}
	returned := make(chan bool)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		threadrunner.With(context.Background(), r, p, func(*probe) error {
			runtime.Goexit()
			return nil
		})
		ok = true
	}()
	if <-returned {
		t.Error("With() returned after its body called runtime.Goexit; want the Goexit to go on")
	}
	p.checkRanOnce(t, tid)
	if p.hows[0] == nil {
		t.Error("Exit was told nil after the body called runtime.Goexit; want an error")
	}
}

func TestResourceExitAfterContextEnd(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	for _, b := range blocks {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer cancel()
			var exitSleep error
			p := &probe{name: b.name, exit: func(t *aio.Task) { exitSleep = aio.Sleep(t, time.Millisecond) }}
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
	leaktest.Check(t)
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

func TestReleaseRunsExitOnce(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	p := &probe{name: "open", exitErr: errExit}
	_, release, err := threadrunner.Open(context.Background(), r, p)
	if err != nil {
		t.Fatalf("Open() = %v; want nil", err)
	}
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() { errs <- release(errBody) })
	}
	wg.Wait()
	close(errs)
	exitErrs := 0
	for err := range errs {
		switch err {
		case nil:
		case errExit:
			exitErrs++
		default:
			t.Errorf("release() = %v; want %v once and nil for the other calls", err, errExit)
		}
	}
	if exitErrs != 1 {
		t.Errorf("%d release calls returned Exit's error; want 1", exitErrs)
	}
	if err := release(nil); err != nil {
		t.Errorf("release() again = %v; want nil", err)
	}
	p.checkOnce(t, tid, errBody)
}

func TestReleaseFromTask(t *testing.T) {
	leaktest.Check(t)
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

func TestCloseExitsResourcesLastEnteredFirst(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	var log eventLog
	first := &probe{name: "first", log: &log}
	opened := &probe{name: "opened", log: &log, exitPanic: "exit boom"}
	last := &probe{name: "last", log: &log, exitErr: errExit}
	ctx := context.Background()
	if _, err := threadrunner.Keep(ctx, r, first); err != nil {
		t.Fatalf("Keep(first) = %v; want nil", err)
	}
	_, release, err := threadrunner.Open(ctx, r, opened)
	if err != nil {
		t.Fatalf("Open(opened) = %v; want nil", err)
	}
	if _, err := threadrunner.Keep(ctx, r, last); err != nil {
		t.Fatalf("Keep(last) = %v; want nil", err)
	}
	tid := r.Loop().ThreadID()
	err = r.Close()
	if !errors.Is(err, errExit) {
		t.Errorf("Close() = %v; want it to include %v", err, errExit)
	}
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "exit boom" {
		t.Errorf("Close() = %v; want it to include the *aio.PanicError of the Exit that panicked", err)
	}
	want := []string{"enter first", "enter opened", "enter last", "exit last", "exit opened", "exit first"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Errorf("events = %q; want %q", got, want)
	}
	first.checkOnce(t, tid, nil)
	last.checkOnce(t, tid, nil)
	opened.checkOnce(t, tid, aio.ErrClosed)
	if err := release(nil); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("release() after Close = %v; want %v", err, aio.ErrClosed)
	}
	if opened.exits != 1 {
		t.Errorf("Exit ran %d times after release following Close; want 1", opened.exits)
	}
}

func TestWithWhileRunnerCloses(t *testing.T) {
	leaktest.Check(t)
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
	leaktest.Check(t)
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

func TestResourceBadInput(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	ctx := context.Background()
	p := &probe{name: "p"}
	if err := threadrunner.With[*probe](ctx, r, nil, func(*probe) error { return nil }); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("With(nil resource) = %v; want %v", err, aio.ErrInvalid)
	}
	if err := threadrunner.With(ctx, r, p, nil); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("With(nil body) = %v; want %v", err, aio.ErrInvalid)
	}
	if _, release, err := threadrunner.Open[*probe](ctx, r, nil); !errors.Is(err, aio.ErrInvalid) || release != nil {
		t.Errorf("Open(nil resource) = %v (release %v); want %v and no release", err, release != nil, aio.ErrInvalid)
	}
	if _, err := threadrunner.Keep[*probe](ctx, r, nil); !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Keep(nil resource) = %v; want %v", err, aio.ErrInvalid)
	}
	loopTID(t, r)
	if p.enters != 0 {
		t.Error("With(nil body) entered its resource; want it refused first")
	}
}
