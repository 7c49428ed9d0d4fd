//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The example is package main, so its tests are in package main too.

func TestViaRunner(t *testing.T) {
	testkit.Check(t)
	const g, n = 6, 200
	res, err := viaRunner(context.Background(), io.Discard, g, n)
	if err != nil {
		t.Fatalf("viaRunner() = %v; want nil", err)
	}
	if len(res.Threads) != 1 {
		t.Errorf("viaRunner() calls landed on threads %v; want one", res.Threads)
	}
	if got := res.Threads[res.Loop]; got != g*n {
		t.Errorf("viaRunner() counter on the loop's thread %d = %d; want %d (all counters: %v)", res.Loop, got, g*n, res.Threads)
	}
}

func TestDirect(t *testing.T) {
	testkit.Check(t)
	const g, n = 6, 200
	res := direct(g, n)
	if len(res.Threads) != g {
		t.Errorf("direct() calls landed on %d threads (%v); want %d, one per locked goroutine", len(res.Threads), res.Threads, g)
	}
	for tid, count := range res.Threads {
		if count != n {
			t.Errorf("direct() counter of thread %d = %d; want %d", tid, count, n)
		}
	}
}

func TestRun(t *testing.T) {
	testkit.Check(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, 4, 250); err != nil {
		t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
	}
	got := out.String()
	for _, want := range []string{
		"its counter is exact: 1000",
		"where its counter reads 1000",
		"the calls split over 4 threads; the counters add up to 1000, but the largest is 250",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("run() output does not mention %q; output:\n%s", want, got)
		}
	}
	if n := strings.Count(got, ": counter 250\n"); n != 4 {
		t.Errorf("run() output shows %d threads with counter 250; want 4\noutput:\n%s", n, got)
	}
}
