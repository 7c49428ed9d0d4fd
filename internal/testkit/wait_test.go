package testkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestContextEndsWithTheTest(t *testing.T) {
	ft := &fakeT{name: "ctx"}
	ctx := testkit.Context(ft)
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > testkit.Timeout {
		t.Errorf("Context() deadline = %v, %v; want one within %v", deadline, ok, testkit.Timeout)
	}
	if ctx.Err() != nil {
		t.Fatalf("Context().Err() = %v before the test ended; want nil", ctx.Err())
	}
	ft.cleanup()
	if ctx.Err() != context.Canceled {
		t.Errorf("Context().Err() after the test ended = %v; want %v", ctx.Err(), context.Canceled)
	}
}

func TestAwait(t *testing.T) {
	values := make(chan int, 1)
	values <- 7
	if got := testkit.Await(t, values, "a value"); got != 7 {
		t.Errorf("Await() = %d; want 7", got)
	}
	closed := make(chan struct{})
	close(closed)
	testkit.Await(t, closed, "a closed channel")
	errs := make(chan error, 1)
	errs <- context.Canceled
	if err := testkit.Await(t, errs, "an error"); err != context.Canceled {
		t.Errorf("Await() = %v; want %v", err, context.Canceled)
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	testkit.WaitFor(t, "three polls", func() bool {
		n++
		return n == 3
	})
	if n != 3 {
		t.Errorf("WaitFor polled %d times; want 3, until the condition held", n)
	}
}
