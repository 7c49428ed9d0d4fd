package aio_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestStats(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	const n = 20
	gate, open := aio.NewFuture[int](l)
	stepsBefore := l.Stats().Steps
	futures := make([]*aio.Future[int], n)
	for i := range futures {
		futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
			v, err := aio.Await(t, gate)
			return v + i, err
		})
	}
	testkit.WaitFor(t, fmt.Sprintf("Stats().Tasks = %d", n), func() bool { return l.Stats().Tasks == n })
	open(100, nil)
	for i, f := range futures {
		if v, err := f.Wait(testkit.Context(t)); v != 100+i || err != nil {
			t.Errorf("task %d: Wait() = %v, %v; want %d, nil", i, v, err, 100+i)
		}
	}
	testkit.WaitFor(t, "Stats().Tasks = 0", func() bool { return l.Stats().Tasks == 0 })
	// Each task ran at least twice: up to its Await, and after it.
	if got := l.Stats().Steps - stepsBefore; got < 2*n {
		t.Errorf("Stats().Steps grew by %d; want at least %d", got, 2*n)
	}
}

// TestStatsDashboard checks each counter a dashboard reads: the inbox's
// depth while a callback blocks the loop, ready tasks and pending timers
// (exact from the loop's own thread), tasks started and ended, callbacks
// run, and the ToThread pool's running, queued and idle threads.
func TestStatsDashboard(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t, aio.Workers(1))
	base := l.Stats()

	release := make(chan struct{})
	blocking := make(chan struct{})
	l.Post(func() { close(blocking); <-release })
	testkit.Await(t, blocking, "the blocking callback")
	for range 3 {
		l.Post(func() {})
	}
	if got := l.Stats().Inbox; got != 3 {
		t.Errorf("Stats().Inbox behind a blocked loop = %d; want 3", got)
	}
	close(release)
	testkit.WaitFor(t, "Stats().Inbox = 0", func() bool { return l.Stats().Inbox == 0 })
	testkit.WaitFor(t, "the callbacks to count", func() bool { return l.Stats().Callbacks-base.Callbacks == 4 })

	inTask := call(t, l, func(t *aio.Task) (aio.Stats, error) {
		for range 5 {
			aio.Go(t, func(t *aio.Task) (int, error) { return 0, nil })
		}
		t.Loop().AfterFunc(time.Hour, func() {})()
		stop := t.Loop().AfterFunc(time.Hour, func() {})
		defer stop()
		return t.Loop().Stats(), nil
	})
	if inTask.Ready != 5 || inTask.Timers != 1 || inTask.Tasks != 6 {
		t.Errorf("Stats() in a task that started 5 children and set a timer = %d ready, %d timers, %d tasks; want 5, 1, 6", inTask.Ready, inTask.Timers, inTask.Tasks)
	}

	gate := make(chan struct{})
	running := make(chan struct{})
	th := func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) { running <- struct{}{}; <-gate; return 0, nil })
	}
	first, second := aio.Spawn(context.Background(), l, th), aio.Spawn(context.Background(), l, th)
	testkit.Await(t, running, "the first ToThread function")
	testkit.WaitFor(t, "one ToThread running, one queued", func() bool {
		s := l.Stats()
		return s.ToThreadRunning == 1 && s.ToThreadQueued == 1 && s.ToThreadIdle == 0
	})
	close(gate)
	testkit.Await(t, running, "the second ToThread function")
	for _, f := range []*aio.Future[int]{first, second} {
		if _, err := f.Wait(testkit.Context(t)); err != nil {
			t.Fatalf("ToThread task: Wait() = %v", err)
		}
	}
	testkit.WaitFor(t, "the pool's thread idle", func() bool {
		s := l.Stats()
		return s.ToThreadRunning == 0 && s.ToThreadQueued == 0 && s.ToThreadIdle == 1
	})
	s := l.Stats()
	if started, ended := s.Started-base.Started, s.Ended-base.Ended; started != 8 || ended != 8 || s.Tasks != 0 {
		t.Errorf("Stats() after 8 tasks: %d started, %d ended, %d live; want 8, 8, 0", started, ended, s.Tasks)
	}
}
