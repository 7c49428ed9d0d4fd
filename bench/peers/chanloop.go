package peers

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A ChanLoop is the naive way to own a thread in Go: a goroutine, locked to
// its OS thread with runtime.LockOSThread if locked is set, that serves a
// request channel; each caller sends a request and waits for the reply on a
// channel of its own (pooled, so that the baseline does not pay for an
// allocation a careful user would avoid). Unlocked, it is the cheapest hop Go
// has: the reference for unpinned threadrunner.
//
// The task cases on a ChanLoop use goroutines: SpawnAwait starts one per
// child from the serving goroutine; an [Unlocked] loop adds plain goroutines
// for the cases that have no serving goroutine in them (time.Sleep,
// goroutines blocked on a channel).
type ChanLoop struct {
	locked bool
	reqs   chan request
	done   chan struct{}
	closed atomic.Bool
	count  int // owned by the serving goroutine
	replys sync.Pool
}

// A request is one piece of work for the serving goroutine: a round trip if
// stream is nil, else the start of a stream.
type request struct {
	reply  chan int
	stream *chanStream
	spawn  *chanSpawn
}

// NewChanLoop starts the serving goroutine, locked to its thread if locked.
func NewChanLoop(locked bool) *ChanLoop {
	c := &ChanLoop{locked: locked, reqs: make(chan request), done: make(chan struct{})}
	c.replys.New = func() any { return make(chan int, 1) }
	started := make(chan struct{})
	go c.serve(started)
	<-started
	return c
}

func (c *ChanLoop) serve(started chan<- struct{}) {
	defer close(c.done)
	if c.locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	close(started)
	for r := range c.reqs {
		switch {
		case r.stream != nil:
			r.stream.produce()
		case r.spawn != nil:
			r.spawn.run()
		default:
			c.count++
			r.reply <- c.count
		}
	}
}

// Call implements [System]. It must not be called concurrently with Close.
func (c *ChanLoop) Call() (int, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	reply := c.replys.Get().(chan int)
	c.reqs <- request{reply: reply}
	v := <-reply
	c.replys.Put(reply)
	return v, nil
}

// Close stops the serving goroutine and waits for it to exit.
func (c *ChanLoop) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		close(c.reqs)
	}
	<-c.done
	return nil
}

// streamBuffer is the capacity of the buffered channel a ChanLoop streams
// through: the Iter reference.
const streamBuffer = 256

// A chanStream hands values from the serving goroutine to a consumer through
// a buffered channel, with plain sends; the producer looks at stop only once
// per buffer's worth of values.
type chanStream struct {
	out  chan int
	stop chan struct{}
}

func (s *chanStream) produce() {
	defer close(s.out)
	for i := 0; ; i++ {
		if i%streamBuffer == 0 {
			select {
			case <-s.stop:
				return
			default:
			}
		}
		s.out <- i
	}
}

// Stream implements [Streamer]: the serving goroutine sends 0, 1, 2, ... on a
// buffered channel until the consumer stops.
func (c *ChanLoop) Stream(more func() bool) (n, sum int, err error) {
	if c.closed.Load() {
		return 0, 0, ErrClosed
	}
	s := &chanStream{out: make(chan int, streamBuffer), stop: make(chan struct{})}
	c.reqs <- request{stream: s}
	for v := range s.out {
		if !more() {
			break
		}
		n++
		sum += v
	}
	close(s.stop)
	for range s.out {
		// Drain so the producer reaches its next look at stop.
	}
	return n, sum, nil
}

// A chanSpawn is a spawn-and-await loop run by the serving goroutine.
type chanSpawn struct {
	more func() bool
	n    int
	done chan struct{}
}

func (s *chanSpawn) run() {
	defer close(s.done)
	for s.more() {
		ch := make(chan int, 1)
		go func() { ch <- 1 }()
		s.n += <-ch
	}
}

// SpawnAwait implements [Spawner]: the serving goroutine starts a goroutine
// and receives its result from a channel, while more reports true.
func (c *ChanLoop) SpawnAwait(more func() bool) (int, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	s := &chanSpawn{more: more, done: make(chan struct{})}
	c.reqs <- request{spawn: s}
	<-s.done
	return s.n, nil
}

// An Unlocked is a [ChanLoop] without the thread lock, which also stands for
// plain goroutines in the cases where a loop has nothing to do.
type Unlocked struct {
	*ChanLoop
}

// NewUnlocked starts an unlocked [ChanLoop].
func NewUnlocked() Unlocked { return Unlocked{NewChanLoop(false)} }

// Sleeps implements [Sleeper] with k goroutines calling time.Sleep.
func (c Unlocked) Sleeps(n, k int, max time.Duration) error {
	if c.closed.Load() {
		return ErrClosed
	}
	var wg sync.WaitGroup
	for i := range k {
		m := share(n, k, i)
		wg.Go(func() {
			for range m {
				time.Sleep(rand.N(max))
			}
		})
	}
	wg.Wait()
	return nil
}

// Suspend implements [Suspender] with n goroutines blocked on a channel.
func (c Unlocked) Suspend(n int, measure func()) error {
	if c.closed.Load() {
		return ErrClosed
	}
	gate := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	for range n {
		go func() {
			ready.Done()
			<-gate
			done.Done()
		}()
	}
	ready.Wait()
	measure()
	close(gate)
	done.Wait()
	return nil
}

// share returns how many of n units the i-th of k workers does.
func share(n, k, i int) int {
	m := n / k
	if i < n%k {
		m++
	}
	return m
}
