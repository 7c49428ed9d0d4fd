package testkit

import (
	"context"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// Timeout bounds each wait of a test that would hang if the code under test
// were broken, so that the test fails with a message instead. It is never
// what a test asserts: a healthy run ends long before it.
const Timeout = 30 * time.Second

// Context returns a context that ends after [Timeout], or when t ends.
func Context(t TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Await receives one value from ch (the zero value once ch is closed) and
// returns it, failing t with every goroutine's stack if [Timeout] passes
// first. what names the awaited event in the message. Like t.Fatalf, it must
// be called from the test's goroutine.
func Await[T any](t TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s; goroutines:\n%s", Timeout, what, goid.Stacks())
		var zero T
		return zero
	}
}

// WaitFor polls cond until it holds, failing t after [Timeout]. It is for
// states that only counters reveal; the time it takes is never asserted. It
// must be called from the test's goroutine.
func WaitFor(t TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}
