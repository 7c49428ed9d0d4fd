package threadrunner_test

// Regression tests of issue 9 (lifetimes and faults) through the runner.
// They move into the test files of the code they exercise once the root
// package's tests are reorganized.

import (
	"bufio"
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

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
	leaktest.Check(t)
	const n = 50
	srv := linesServer(t, n)
	r := newRunner(t)
	ctx := testContext(t)
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

// TestIterBreakCleanupAwaits checks that breaking out of Iter is not a
// cancellation: the generator's deferred cleanup awaits (Sleep, ToThread)
// with its context live, and has finished when the range loop ends.
func TestIterBreakCleanupAwaits(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	var cleanup []error // written on the loop, read after the range loop
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer func() {
			cleanup = append(cleanup, t.Context().Err(), aio.Sleep(t, time.Millisecond))
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
			cleanup = append(cleanup, err)
		}()
		for i := 0; ; i++ {
			if err := aio.Sleep(t, 0); err != nil {
				return err
			}
			if !yield(i) {
				return nil
			}
		}
	}
	for v, err := range threadrunner.Iter(testContext(t), r, gen) {
		if err != nil || v == 5 {
			break
		}
	}
	if len(cleanup) != 3 {
		t.Fatalf("cleanup had run %d of its 3 steps when the range loop ended; want all", len(cleanup))
	}
	for i, err := range cleanup {
		if err != nil {
			t.Errorf("cleanup step %d = %v; want nil: breaking is not a cancellation", i, err)
		}
	}
}

// exitRecorder is a kept resource whose Exit records that it ran and then
// does what fault says.
type exitRecorder struct {
	name  string
	log   *eventLog
	fault func()
}

func (e *exitRecorder) Enter(*aio.Task) (string, error) { return e.name, nil }

func (e *exitRecorder) Exit(_ *aio.Task, how error) error {
	e.log.add("exit %s %v", e.name, how)
	if e.fault != nil {
		e.fault()
	}
	return nil
}

// TestCloseFaultInKeptExit checks that a kept resource's Exit that panics
// or calls runtime.Goexit at Close skips no other Exit, and that Close
// reports it.
func TestCloseFaultInKeptExit(t *testing.T) {
	for name, fault := range map[string]func(){
		"panic":  func() { panic("exit boom") },
		"Goexit": runtime.Goexit,
	} {
		t.Run(name, func(t *testing.T) {
			leaktest.Check(t)
			r := threadrunner.New()
			log := new(eventLog)
			for i, f := range []func(){nil, fault, nil} {
				if _, err := threadrunner.Keep(testContext(t), r, &exitRecorder{name: fmt.Sprint(i), log: log, fault: f}); err != nil {
					t.Fatalf("Keep() = %v", err)
				}
			}
			err := r.Close()
			if got, want := log.list(), []string{"exit 2 <nil>", "exit 1 <nil>", "exit 0 <nil>"}; !equal(got, want) {
				t.Errorf("Exits at Close: %q; want %q", got, want)
			}
			if err == nil || !strings.Contains(err.Error(), map[string]string{"panic": "exit boom", "Goexit": "Goexit"}[name]) {
				t.Errorf("Close() = %v; want it to report the Exit's %s", err, name)
			}
		})
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestLoopClosedUnderneath checks that closing a runner's loop directly
// (r.Loop().Close(), or the owner of a loop given to FromLoop) exits every
// kept and open resource once, as Runner.Close would; release then returns
// ErrClosed, and Runner.Close returns what the loop's Close did.
func TestLoopClosedUnderneath(t *testing.T) {
	for _, fromLoop := range []bool{false, true} {
		t.Run(fmt.Sprint("FromLoop=", fromLoop), func(t *testing.T) {
			leaktest.Check(t)
			var r *threadrunner.Runner
			var l *aio.Loop
			if fromLoop {
				l = aio.NewLoop()
				go l.Serve()
				r = threadrunner.FromLoop(l)
			} else {
				r = threadrunner.New()
				l = r.Loop()
			}
			log := new(eventLog)
			ctx := testContext(t)
			if _, err := threadrunner.Keep(ctx, r, &exitRecorder{name: "kept", log: log}); err != nil {
				t.Fatalf("Keep() = %v", err)
			}
			_, release, err := threadrunner.Open(ctx, r, &exitRecorder{name: "open", log: log})
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("the loop's Close() = %v", err)
			}
			want := []string{"exit open " + aio.ErrClosed.Error(), "exit kept <nil>"}
			if got := log.list(); !equal(got, want) {
				t.Errorf("Exits when the loop closed: %q; want %q", got, want)
			}
			if err := release(nil); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("release() after = %v; want ErrClosed", err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Runner.Close() after = %v; want nil, what the loop's Close returned", err)
			}
			if got := log.list(); len(got) != 2 {
				t.Errorf("Exits in all: %q; want each once", got)
			}
		})
	}
}

// TestWithQuietWhenCloseExited checks that a With whose body panics after
// Close has exited the resource does not log a failed Exit: Close exited it.
func TestWithQuietWhenCloseExited(t *testing.T) {
	leaktest.Check(t)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	r := threadrunner.New(aio.Logger(logger))
	log := new(eventLog)
	inBody, proceed, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var p any
	go func() {
		defer close(done)
		p = recoverPanic(func() {
			threadrunner.With(testContext(t), r, &exitRecorder{name: "res", log: log}, func(string) error {
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
	leaktest.Check(t)
	r := newRunner(t)
	var how error
	res := aio.ResourceFunc(func(*aio.Task) (int, error) { return 1, nil },
		func(_ *aio.Task, _ int, h error) error { how = h; return nil })
	panicked := true
	func() {
		defer func() { recover() }()
		threadrunner.With(testContext(t), r, res, func(int) error { panic(nil) })
		panicked = false
	}()
	var pe *aio.PanicError
	if !panicked || !errors.As(how, &pe) || pe.Value != nil {
		t.Errorf("With's body panic(nil): With panicked %v, Exit saw %v; want a panic, and a *aio.PanicError with a nil Value", panicked, how)
	}
}
