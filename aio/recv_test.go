package aio_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestRecv(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		v   int
		ok  bool
		err error
	}
	recv := func(ch <-chan int) result {
		return call(t, l, func(t *aio.Task) (result, error) {
			v, ok, err := aio.Recv(t, ch)
			return result{v, ok, err}, nil
		})
	}

	buffered := make(chan int, 1)
	buffered <- 1
	if got := recv(buffered); got != (result{1, true, nil}) {
		t.Errorf("Recv(ready channel) = %v; want {1 true <nil>}", got)
	}

	later := make(chan int)
	go func() { later <- 2 }()
	if got := recv(later); got != (result{2, true, nil}) {
		t.Errorf("Recv(channel sent to later) = %v; want {2 true <nil>}", got)
	}

	closed := make(chan int)
	close(closed)
	if got := recv(closed); got != (result{0, false, nil}) {
		t.Errorf("Recv(closed channel) = %v; want {0 false <nil>}", got)
	}

	closedLater := make(chan int)
	go close(closedLater)
	if got := recv(closedLater); got != (result{0, false, nil}) {
		t.Errorf("Recv(channel closed later) = %v; want {0 false <nil>}", got)
	}
}

func TestRecvLeavesLoopFree(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Another task of the loop sends what Recv waits for.
	got := call(t, l, func(t *aio.Task) (string, error) {
		ch := make(chan string)
		aio.Go(t, func(t *aio.Task) (int, error) {
			_, err := aio.ToThread(t, func(context.Context) (int, error) {
				ch <- "sent"
				return 0, nil
			})
			return 0, err
		})
		v, _, err := aio.Recv(t, ch)
		return v, err
	})
	if got != "sent" {
		t.Errorf("Recv() = %q; want %q", got, "sent")
	}
}

func TestRecvCancelled(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Cancelled while it waits: the context's error, and the helper that
	// waited on the channel goes away (testkit.Check checks).
	ch := make(chan int)
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		v, _, err := aio.Recv(t, ch)
		return v, err
	})
	testkit.WaitFor(t, "Recv to wait", func() bool { return l.Stats().Tasks == 1 && l.Stats().Steps > 0 })
	f.Cancel()
	if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv() cancelled = %v; want context.Canceled", err)
	}
}

func TestRecvLosesNothing(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Producers send on an unbuffered channel; tasks receive with Recv
	// until it closes. Every value arrives exactly once.
	const perProducer = 200
	producers := stressProcs()
	ch := make(chan int)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				ch <- p*perProducer + i
			}
		})
	}
	go func() {
		wg.Wait()
		close(ch)
	}()
	got := call(t, l, func(t *aio.Task) ([]int, error) {
		var all []int
		g := aio.NewGroup(t)
		for range 4 {
			g.Go(func(t *aio.Task) error {
				for {
					v, ok, err := aio.Recv(t, ch)
					if err != nil || !ok {
						return err
					}
					all = append(all, v)
				}
			})
		}
		return all, g.Wait()
	})
	slices.Sort(got)
	want := make([]int, producers*perProducer)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Errorf("received %d values (%v...); want each of 0..%d once", len(got), got[:min(10, len(got))], len(want)-1)
	}
}

// TestRecvCancelledKeepsValue checks that a value Recv took from the channel
// as its task was cancelled is returned rather than lost: tasks that are
// cancelled soon after they start receive from a sender, and every value
// sent comes back from some Recv. The cancellation comes after a varying
// number of yields, so that it lands before, during and after the receive;
// and when several in a row took nothing (with GOMAXPROCS 1 the cancellation
// can win every time), one task receives uncancelled, so that the sender
// always gets through.
func TestRecvCancelledKeepsValue(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	const n = 300
	ch := make(chan int)
	allSent := make(chan struct{})
	go func() {
		defer close(allSent)
		for i := range n {
			ch <- i
		}
	}()
	type result struct {
		v   int
		got bool
	}
	var got []int
	misses := 0
	for i := 0; len(got) < n; i++ {
		f := aio.Spawn(context.Background(), l, func(t *aio.Task) (result, error) {
			v, ok, err := aio.Recv(t, ch)
			return result{v, ok && err == nil}, nil
		})
		if misses < 8 {
			for range i % 4 {
				runtime.Gosched()
			}
			f.Cancel()
		}
		r, err := f.Wait(testkit.Context(t))
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait() = %v after %d values; want nil or context.Canceled (a value lost leaves the last Recv waiting)", err, len(got))
		}
		if r.got {
			got = append(got, r.v)
			misses = 0
		} else {
			misses++
		}
	}
	<-allSent
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Errorf("Recv returned %d of %d values sent (%v...); want all, in order", len(got), n, got[:min(10, len(got))])
	}
}
