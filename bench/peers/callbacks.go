package peers

import (
	"context"
	"errors"
	"runtime/trace"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/threadrunner/threadrunner/aio"
)

// The optional interfaces of the callback, timer and tracing cases: a
// function run on the system's thread without a task, a call after a delay,
// a periodic timer and nothing else, many tasks at once, and Run with Go's
// execution tracer on.

// A Poster runs a trivial function on the system's thread without a task
// and waits for it: PostWait the system's own way (aio.Loop.Do; for
// goja_nodejs, which has none, RunOnLoop and a channel), PostChan with a
// channel the function sends on, as a RunOnLoop user writes it.
type Poster interface {
	PostWait() error
	PostChan() error
}

// An AfterFuncer runs a function on the system's thread after d and
// returns how late it ran: the time from the call to it running, less d.
type AfterFuncer interface {
	AfterFunc(d time.Duration) (late time.Duration, err error)
}

// A Ticker keeps a periodic timer of the given period running, and nothing
// else, until stop is called: the idle cost of a system whose only work is
// timers.
type Ticker interface {
	Tick(period time.Duration) (stop func(), err error)
}

// A MassSpawner starts n trivial tasks at once on the system and waits for
// them all.
type MassSpawner interface {
	SpawnMany(n int) error
}

// A Tracer runs [System.Call] while Go's execution tracer is on, and a step
// (a task awaiting a child) under it, so that their cost can be set against
// the same operations untraced.
type Tracer interface {
	Step() error // one spawn and await of a child task on the loop
}

// PostWait implements [Poster] with aio.Loop.Do.
func (s *Threadrunner) PostWait() error { return s.r.Loop().Do(s.ctx, s.bump) }

// PostChan implements [Poster] with aio.Loop.Post and a channel.
func (s *Threadrunner) PostChan() error {
	if err := s.r.Loop().Post(s.bumpSend); err != nil {
		return err
	}
	<-s.postDone
	return nil
}

// AfterFunc implements [AfterFuncer] with aio.Loop.AfterFunc.
func (s *Threadrunner) AfterFunc(d time.Duration) (time.Duration, error) {
	at := make(chan time.Time, 1)
	start := time.Now()
	s.r.Loop().AfterFunc(d, func() { at <- time.Now() })
	return (<-at).Sub(start) - d, nil
}

// Tick implements [Ticker] with a task that sleeps with aio.Sleep.
func (s *Threadrunner) Tick(period time.Duration) (func(), error) {
	ctx, cancel := context.WithCancel(s.ctx)
	f := aio.Spawn(ctx, s.r.Loop(), func(t *aio.Task) (int, error) {
		for {
			if err := aio.Sleep(t, period); err != nil {
				return 0, nil
			}
		}
	})
	return func() {
		cancel()
		f.Wait(context.Background())
	}, nil
}

// SpawnMany implements [MassSpawner] with aio.Go in one task, awaited by an
// aio.Group.
func (s *Threadrunner) SpawnMany(n int) error {
	_, err := aio.Call(s.ctx, s.r.Loop(), func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		for range n {
			g.Go(func(*aio.Task) error { return nil })
		}
		return 0, g.Wait()
	})
	return err
}

// Step implements [Tracer]: one aio.Go and aio.Await on the loop.
func (s *Threadrunner) Step() error {
	_, err := aio.Call(s.ctx, s.r.Loop(), func(t *aio.Task) (int, error) {
		return aio.Await(t, aio.Go(t, func(*aio.Task) (int, error) { return 1, nil }))
	})
	return err
}

// PostWait implements [Poster] with RunOnLoop: what its Call does.
func (g *Goja) PostWait() error {
	_, err := g.Call()
	return err
}

// PostChan implements [Poster] the same way: RunOnLoop has no other.
func (g *Goja) PostChan() error { return g.PostWait() }

// AfterFunc implements [AfterFuncer] with goja_nodejs's SetTimeout.
func (g *Goja) AfterFunc(d time.Duration) (time.Duration, error) {
	if g.closed.Load() {
		return 0, ErrClosed
	}
	at := make(chan time.Time, 1)
	start := time.Now()
	g.loop.SetTimeout(func(*goja.Runtime) { at <- time.Now() }, d)
	return (<-at).Sub(start) - d, nil
}

// Tick implements [Ticker] with goja_nodejs's SetInterval.
func (g *Goja) Tick(period time.Duration) (func(), error) {
	if g.closed.Load() {
		return nil, ErrClosed
	}
	iv := g.loop.SetInterval(func(*goja.Runtime) {}, period)
	return func() { g.loop.ClearInterval(iv) }, nil
}

// AfterFunc implements [AfterFuncer] with time.AfterFunc.
func (c Unlocked) AfterFunc(d time.Duration) (time.Duration, error) {
	at := make(chan time.Time, 1)
	start := time.Now()
	time.AfterFunc(d, func() { at <- time.Now() })
	return (<-at).Sub(start) - d, nil
}

// Tick implements [Ticker] with a goroutine calling time.Sleep.
func (c Unlocked) Tick(period time.Duration) (func(), error) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			time.Sleep(period)
		}
	}()
	return func() {
		close(quit)
		<-done
	}, nil
}

// SpawnMany implements [MassSpawner] with n goroutines and a WaitGroup.
func (c Unlocked) SpawnMany(n int) error {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {})
	}
	wg.Wait()
	return nil
}

// WithTrace runs fn with Go's execution tracer writing to nowhere, for the
// traced cases. It fails if the tracer is on already.
func WithTrace(fn func() error) error {
	if trace.IsEnabled() {
		return errors.New("peers: the execution tracer is on already")
	}
	if err := trace.Start(discard{}); err != nil {
		return err
	}
	defer trace.Stop()
	return fn()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
