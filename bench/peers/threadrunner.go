package peers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// A Threadrunner is a threadrunner.Runner: its loop is pinned to an OS thread
// (the default) or not (aio.Unpinned).
type Threadrunner struct {
	r        *threadrunner.Runner
	ctx      context.Context
	incr     func(*aio.Task) (int, error) // made once: Call must not allocate a closure
	bump     func()                       // counts on the loop: the posted function, made once
	bumpSend func()                       // bump, then a send on postDone
	postDone chan struct{}                // PostChan's reply, reused

	count int // owned by the loop
}

// NewThreadrunner returns a runner whose loop has started, pinned if pinned.
func NewThreadrunner(pinned bool, opts ...aio.Option) *Threadrunner {
	if !pinned {
		opts = append(opts, aio.Unpinned())
	}
	s := &Threadrunner{r: threadrunner.New(opts...), ctx: context.Background(), postDone: make(chan struct{}, 1)}
	s.incr = func(*aio.Task) (int, error) {
		s.count++
		return s.count, nil
	}
	s.bump = func() { s.count++ }
	s.bumpSend = func() {
		s.count++
		s.postDone <- struct{}{}
	}
	s.r.Loop() // start the loop now, not in the first measured call
	return s
}

// Runner returns the runner under test.
func (s *Threadrunner) Runner() *threadrunner.Runner { return s.r }

// Call implements [System] with threadrunner.Run.
func (s *Threadrunner) Call() (int, error) {
	return threadrunner.Run(s.ctx, s.r, s.incr)
}

// SubmitWait implements [Submitter] with threadrunner.Submit and
// aio.Future.Wait.
func (s *Threadrunner) SubmitWait() (int, error) {
	return threadrunner.Submit(s.ctx, s.r, s.incr).Wait(s.ctx)
}

// Stream implements [Streamer] with threadrunner.Iter over a generator that
// yields 0, 1, 2, ... until the consumer breaks out.
func (s *Threadrunner) Stream(more func() bool) (n, sum int, err error) {
	count := func(t *aio.Task, yield func(int) bool) error {
		for i := 0; yield(i); i++ {
		}
		return nil
	}
	for v, err := range threadrunner.Iter(s.ctx, s.r, count) {
		if err != nil {
			return n, sum, err
		}
		if !more() {
			break
		}
		n++
		sum += v
	}
	return n, sum, nil
}

// SpawnAwait implements [Spawner]: one task starts a child with aio.Go and
// awaits it with aio.Await while more reports true.
func (s *Threadrunner) SpawnAwait(more func() bool) (int, error) {
	child := func(*aio.Task) (int, error) { return 1, nil }
	return threadrunner.Run(s.ctx, s.r, func(t *aio.Task) (int, error) {
		n := 0
		for more() {
			v, err := aio.Await(t, aio.Go(t, child))
			if err != nil {
				return n, err
			}
			n += v
		}
		return n, nil
	})
}

// Sleeps implements [Sleeper]: a task starts k children in a group, each
// calling aio.Sleep with random durations.
func (s *Threadrunner) Sleeps(n, k int, max time.Duration) error {
	_, err := threadrunner.Run(s.ctx, s.r, func(t *aio.Task) (struct{}, error) {
		g := aio.NewGroup(t)
		for i := range k {
			m := share(n, k, i)
			g.Go(func(t *aio.Task) error {
				for range m {
					if err := aio.Sleep(t, rand.N(max)); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return struct{}{}, g.Wait()
	})
	return err
}

// Suspend implements [Suspender]: a task starts n children that wait for one
// aio.Event, and lets them all run up to that wait before measure is called.
func (s *Threadrunner) Suspend(n int, measure func()) error {
	var gate, allDone aio.Event
	ready := make(chan struct{})
	left := n
	waiter := func(t *aio.Task) (struct{}, error) {
		err := gate.Wait(t)
		if left--; left == 0 {
			allDone.Set()
		}
		return struct{}{}, err
	}
	parent := threadrunner.Submit(s.ctx, s.r, func(t *aio.Task) (struct{}, error) {
		for range n {
			aio.Go(t, waiter)
		}
		if err := aio.Sleep(t, 0); err != nil { // every child runs up to its wait
			return struct{}{}, err
		}
		close(ready)
		if n == 0 {
			return struct{}{}, nil
		}
		return struct{}{}, allDone.Wait(t)
	})
	select {
	case <-ready:
	case <-parent.Done():
		_, err := parent.Wait(s.ctx)
		return fmt.Errorf("peers: suspending tasks: %v", err)
	}
	measure()
	if _, err := threadrunner.Run(s.ctx, s.r, func(*aio.Task) (struct{}, error) {
		gate.Set()
		return struct{}{}, nil
	}); err != nil {
		return err
	}
	_, err := parent.Wait(s.ctx)
	return err
}

// Close closes the runner.
func (s *Threadrunner) Close() error { return s.r.Close() }
