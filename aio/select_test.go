package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestSelect checks that Select returns the first case to hold, for each
// kind of case, and the lowest index when several hold at once; that a
// Receive that wins stores the value and one that loses leaves it in the
// channel; and that cancellation ends it with the context's error.
func TestSelect(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	type result struct {
		i   int
		err error
		v   int
		ok  bool
	}
	run := func(fn func(t *aio.Task) (result, error)) result {
		t.Helper()
		var r result
		var err error
		testkit.Do(t, "Select", func() { r, err = aio.Call(testkit.Context(t), l, fn) })
		if err != nil {
			t.Fatalf("Call() = %v; want nil", err)
		}
		return r
	}
	ch := make(chan int, 1)
	// A future settling, with a timer and a channel waiting.
	r := run(func(t *aio.Task) (result, error) {
		f := aio.Go(t, func(t *aio.Task) (int, error) { return 1, aio.Sleep(t, time.Millisecond) })
		var v int
		i, err := aio.Select(t, aio.After(time.Hour), aio.Receive(ch, &v, nil), aio.Settles(f))
		return result{i: i, err: err, v: v}, nil
	})
	if r.i != 2 || r.err != nil {
		t.Errorf("Select(After(1h), Receive, Settles(f)) = %d, %v; want 2, nil", r.i, r.err)
	}
	// An event set by another task.
	r = run(func(t *aio.Task) (result, error) {
		var e aio.Event
		aio.Go(t, func(t *aio.Task) (int, error) { e.Set(); return 0, nil })
		i, err := aio.Select(t, aio.After(time.Hour), aio.IsSet(&e))
		return result{i: i, err: err}, nil
	})
	if r.i != 1 || r.err != nil {
		t.Errorf("Select(After, IsSet) = %d, %v; want 1, nil", r.i, r.err)
	}
	// A channel send from another goroutine; then a closed channel.
	go func() { ch <- 42 }()
	r = run(func(t *aio.Task) (result, error) {
		var v int
		var ok bool
		i, err := aio.Select(t, aio.After(time.Hour), aio.Receive(ch, &v, &ok))
		return result{i: i, err: err, v: v, ok: ok}, nil
	})
	if r.i != 1 || r.err != nil || r.v != 42 || !r.ok {
		t.Errorf("Select(After, Receive) = %d, %v, v=%d ok=%v; want 1, nil, 42, true", r.i, r.err, r.v, r.ok)
	}
	closed := make(chan int)
	close(closed)
	r = run(func(t *aio.Task) (result, error) {
		ok := true
		i, err := aio.Select(t, aio.Receive(closed, nil, &ok))
		return result{i: i, err: err, ok: ok}, nil
	})
	if r.i != 0 || r.ok {
		t.Errorf("Select(Receive(closed)) = %d, ok=%v; want 0, false", r.i, r.ok)
	}
	// Time passing.
	r = run(func(t *aio.Task) (result, error) {
		i, err := aio.Select(t, aio.Receive(make(chan int), nil, nil), aio.After(time.Millisecond))
		return result{i: i, err: err}, nil
	})
	if r.i != 1 || r.err != nil {
		t.Errorf("Select(Receive, After(1ms)) = %d, %v; want 1, nil", r.i, r.err)
	}
	// Several hold at once: the lowest index wins, and the value of a
	// Receive that loses stays in the channel.
	ch <- 7
	r = run(func(t *aio.Task) (result, error) {
		i, err := aio.Select(t, aio.After(0), aio.Receive(ch, nil, nil))
		return result{i: i, err: err}, nil
	})
	if r.i != 0 || len(ch) != 1 {
		t.Errorf("Select(After(0), Receive(ready)) = %d, channel holds %d; want 0, the value left", r.i, len(ch))
	}
	<-ch
	// Cancellation.
	ctx, cancel := context.WithCancel(testkit.Context(t))
	go func() {
		time.Sleep(time.Millisecond)
		cancel()
	}()
	var err error
	testkit.Do(t, "a cancelled Select", func() {
		_, err = aio.Call(ctx, l, func(t *aio.Task) (int, error) {
			return aio.Select(t, aio.After(time.Hour), aio.Receive(make(chan int), nil, nil))
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled Select = %v; want context.Canceled", err)
	}
	// Bad input.
	_, err = aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) { return aio.Select(t, nil) })
	if !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Select(nil) = %v; want ErrInvalid", err)
	}
	other := startLoop(t)
	pending, _ := aio.NewFuture[int](other)
	_, err = aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) { return aio.Select(t, aio.Settles(pending)) })
	if !errors.Is(err, aio.ErrInvalid) {
		t.Errorf("Select on another loop's pending future = %v; want ErrInvalid", err)
	}
}

// TestSelectLosesNoValue checks, under many senders and random timers, that
// every value sent is taken by exactly one Select: a Receive that took a
// value wins even when another case held at the same moment.
func TestSelectLosesNoValue(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	const n = 500
	ch := make(chan int)
	go func() {
		for i := range n {
			ch <- i
		}
	}()
	got := call(t, l, func(t *aio.Task) ([]int, error) {
		var got []int
		for i := 0; len(got) < n; i++ {
			var v int
			k, err := aio.Select(t, aio.After(time.Duration(i%3)*time.Microsecond), aio.Receive(ch, &v, nil))
			if err != nil {
				return got, err
			}
			if k == 1 {
				got = append(got, v)
			}
		}
		return got, nil
	})
	for i, v := range got {
		if v != i {
			t.Fatalf("values taken: %v...; want 0..%d in order", got[:min(i+5, len(got))], n-1)
		}
	}
}
