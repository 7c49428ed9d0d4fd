package js_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
	"github.com/threadrunner/threadrunner/js"
)

// testTimeout bounds what would hang if the package were broken, so that the
// test fails with the goroutines' stacks instead. A healthy run never gets
// near it; it is not what any test asserts.
const testTimeout = 20 * time.Second

// testContext returns a context that ends after testTimeout or with the test.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// env is a runner with a kept VM, closed when the test ends, after which no
// goroutine may be left.
type env struct {
	r   *threadrunner.Runner
	vm  *js.VM
	ctx context.Context
	log *records
}

// newEnv checks for leaks, starts a runner and keeps a VM made with opts,
// whose log goes to env.log. It defines tid(), which returns the OS thread
// JavaScript runs on.
func newEnv(t *testing.T, opts ...js.Option) *env {
	t.Helper()
	leaktest.Check(t)
	e := &env{r: threadrunner.New(), ctx: testContext(t), log: &records{}}
	t.Cleanup(func() {
		if err := closeWithin(e.r, testTimeout); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	base := []js.Option{js.Logger(slog.New(e.log)), js.Setup(func(vm *js.VM, rt *goja.Runtime) error {
		return rt.Set("tid", threadID)
	})}
	vm, err := threadrunner.Keep(e.ctx, e.r, js.New(append(base, opts...)...))
	if err != nil {
		t.Fatalf("Keep(js.New()) = %v; want nil", err)
	}
	e.vm = vm
	return e
}

// closeWithin closes r, or fails with every goroutine's stack if that takes
// longer than d: the watchdog of the tests whose failure mode is a hang.
func closeWithin(r *threadrunner.Runner, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		panic("Close hangs; goroutines:\n" + stacks())
	}
}

// within runs fn, or panics with every goroutine's stack if it takes longer
// than testTimeout.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("%s hangs; goroutines:\n%s", what, stacks())
	}
}

// recv receives from ch, or fails the test with every goroutine's stack if
// nothing comes within testTimeout.
func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("waiting for %s: timed out; goroutines:\n%s", what, stacks())
		panic("unreachable")
	}
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// loopTID returns the OS thread of the runner's loop.
func (e *env) loopTID(t *testing.T) int {
	t.Helper()
	tid, err := threadrunner.Run(e.ctx, e.r, func(*aio.Task) (int, error) { return threadID(), nil })
	if err != nil {
		t.Fatal(err)
	}
	return tid
}

// eval evaluates src and fails the test on error.
func eval[T any](t *testing.T, e *env, src string) T {
	t.Helper()
	v, err := js.Eval[T](e.ctx, e.vm, t.Name()+".js", src)
	if err != nil {
		t.Fatalf("Eval(%q) = %v; want nil", src, err)
	}
	return v
}

// records is an slog.Handler that keeps what it is given.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }

func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = append(h.list, r.Clone())
	return nil
}

// lines returns the records as "LEVEL message key=value ...".
func (h *records) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.list {
		var b bytes.Buffer
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// find returns the records that contain every one of subs.
func (h *records) find(subs ...string) []string {
	var out []string
	for _, l := range h.lines() {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}
