package threadrunner_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// retentionLiveHeap returns the live heap after a full collection.
func retentionLiveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestRetrievedPanicsAreNotRetained checks what the soak (bench/cmd/soak) found: a long-lived
// runner whose tasks panic, each panic retrieved by the Run that waited for
// it, must not keep those panics (their futures and stacks) until Close.
func TestRetrievedPanicsAreNotRetained(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	defer r.Close()
	ctx := context.Background()
	panics := func(n int) int {
		got := 0
		for range n {
			func() {
				defer func() {
					if _, ok := recover().(*aio.PanicError); ok {
						got++
					}
				}()
				threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { panic("boom") })
			}()
		}
		return got
	}
	const warm, n = 1000, 10_000
	panics(warm)
	before := retentionLiveHeap()
	if got := panics(n); got != n {
		t.Fatalf("recovered %d *aio.PanicError from %d panicking Runs; want %d", got, n, n)
	}
	after := retentionLiveHeap()
	if grew := int64(after) - int64(before); grew > 4<<20 {
		t.Errorf("live heap grew by %d bytes (%d per retrieved panic) over %d panicking Runs; want < 4 MiB in all",
			grew, grew/n, n)
	}
}

// TestCloseDoesNotClaimAWaitedPanic checks what the soak found: when a task
// panics while the runner closes, and the Run that waits for it re-panics
// with that panic in its caller, Close must not also report the panic as
// one that nobody retrieved (nor log it so).
func TestCloseDoesNotClaimAWaitedPanic(t *testing.T) {
	leaktest.Check(t)
	quiet := aio.Logger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	const tries = 300
	claimed := 0
	for range tries {
		r := threadrunner.New(quiet)
		started := make(chan struct{})
		recovered := make(chan any, 1)
		go func() {
			defer func() { recovered <- recover() }()
			threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) {
				close(started)
				aio.Sleep(t, time.Millisecond) // cut short by Close
				panic("boom")
			})
		}()
		<-started
		closeErr := r.Close()
		if _, ok := (<-recovered).(*aio.PanicError); !ok {
			t.Fatalf("Run's caller did not recover a *aio.PanicError")
		}
		if closeErr != nil {
			claimed++
		}
	}
	if claimed > 0 {
		t.Errorf("Close() returned the panic as unretrieved in %d of %d tries, though Run's caller retrieved it each time; want 0", claimed, tries)
	}
}
