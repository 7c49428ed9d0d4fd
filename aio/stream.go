package aio

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// A Stream runs a [Seq] as a task on a loop and hands its values to one
// goroutine off the loop in batches: one hand-off per batch rather than per
// value, through a bounded buffer, so a fast generator waits for a slow
// consumer (back-pressure). A batch is handed over when it is full, when the
// generator suspends in an await (Sleep(t, 0) included, so values never wait
// for a slow source to fill a batch), and when the generator ends.
// threadrunner.Iter is built on it.
//
// A Stream is made by [OpenStream] and read by one goroutine at a time.
type Stream[T any] struct {
	// Set by OpenStream, then only read.
	l      *Loop
	f      *Future[struct{}] // the generator's task
	batch  int
	buffer int
	bell   *bell // rung for the consumer when it is parked

	mu       sync.Mutex // guards full, free, parked, waiting
	full     [][]T      // batches for the consumer, oldest first
	free     [][]T      // emptied batches, for reuse
	parked   bool       // the consumer waits on the bell
	waiting  bool       // the producer waits for room
	stopped  atomic.Bool
	handoffs atomic.Uint64
	queued   atomic.Bool // the stream is in the loop's inbox (postWake)
	itemLink

	// Loop-owned.
	t           *Task
	cur         []T
	inYield     bool // the producer is suspended in yield, waiting for room
	refused     bool // yield has returned false
	interrupted bool // the producer's await was interrupted because the stream stopped

	// Consumer-owned.
	last  []T  // the batch Next returned last
	ended bool // Next has returned the generator's outcome
}

// A StreamOption tunes [OpenStream] (and threadrunner.Iter).
type StreamOption interface{ apply(*streamConfig) }

type streamConfig struct{ batch, buffer int }

type streamOption func(*streamConfig)

func (o streamOption) apply(c *streamConfig) { o(c) }

// BatchSize sets how many values at most cross from the loop in one
// hand-off (default 256; n < 1 means the default). Values never wait for a
// batch to fill: a partial batch is handed over whenever the generator
// awaits, and when it ends. Memory for a batch grows with the values in it,
// so a large size costs nothing until it is used.
func BatchSize(n int) StreamOption { return streamOption(func(c *streamConfig) { c.batch = n }) }

// Buffer sets how many full batches may wait for the consumer before the
// generator is made to wait (default 4; n < 1 means the default): the bound
// of back-pressure.
func Buffer(n int) StreamOption { return streamOption(func(c *streamConfig) { c.buffer = n }) }

// OpenStream starts seq as a task on l and returns the stream of its values,
// handed over as opts say ([BatchSize], [Buffer]). ctx is the generator
// task's context: when it ends, the generator is cancelled, and so is the
// stream. If seq is nil, or the stream cannot start (ctx done, l closed), the
// stream's first Next returns why. OpenStream is safe to call from any
// goroutine.
//
// Close every stream (defer s.Close()), as you would sql.Rows: the
// generator's outcome, its panic included, is the stream's to hand over, in
// Next or Close, so the loop's Close does not report it; a stream dropped
// unread and unclosed leaves its generator suspended in yield until the loop
// closes, and a panic it raised then is lost.
func OpenStream[T any](ctx context.Context, l *Loop, seq Seq[T], opts ...StreamOption) *Stream[T] {
	c := streamConfig{batch: 256, buffer: 4}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	s := &Stream[T]{l: l, batch: c.batch, buffer: c.buffer, bell: newBell()}
	if s.batch < 1 {
		s.batch = 256
	}
	if s.buffer < 1 {
		s.buffer = 4
	}
	switch {
	case l == nil:
		s.f = Completed(struct{}{}, invalid("OpenStream: nil *Loop"))
		return s
	case seq == nil:
		s.f = Completed(struct{}{}, invalid("OpenStream: nil Seq"))
		return s
	}
	s.f = spawn(ctx, l, func(t *Task) (struct{}, error) {
		t.SetName("generator " + funcName(seq))
		return struct{}{}, s.produce(t, seq)
	}, s.bell.ring)
	// The stream hands the generator's outcome over itself, in Next or
	// Close, even while its reader is still on the way to it.
	s.f.claim()
	return s
}

// Next returns the next batch of values, blocking until there is one. At the
// end it returns io.EOF, or the generator's error; if the generator panicked,
// Next panics with its *[PanicError]. If ctx ends first, Next returns ctx's
// error. The batch is valid until the next call to Next or Close. Next must
// not be called on the loop's own thread: there it returns [ErrLoopThread]
// rather than wait.
func (s *Stream[T]) Next(ctx context.Context) ([]T, error) {
	if s.last != nil {
		clear(s.last)
		s.mu.Lock()
		s.free = append(s.free, s.last[:0])
		s.mu.Unlock()
		s.last = nil
	}
	if ctx == nil {
		return nil, invalid("Stream.Next: nil context")
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Read the bell before looking, so that a ring after the look (the
		// generator's end, a hand-off) is one wait will not sleep through.
		rung := s.bell.rung()
		s.mu.Lock()
		if len(s.full) > 0 {
			b := s.full[0]
			s.full[0] = nil
			s.full = s.full[1:]
			waiting := s.waiting
			s.waiting = false
			s.mu.Unlock()
			if waiting {
				s.postWake()
			}
			s.last = b
			return b, nil
		}
		if s.f.Settled() {
			s.mu.Unlock()
			return nil, s.end()
		}
		s.parked = true
		seen := s.handoffs.Load()
		s.mu.Unlock()
		if err := s.await(ctx, seen, rung); err != nil {
			return nil, err
		}
	}
}

// await waits for a hand-off after seen, a ring of the bell after rung (the
// generator's end), or ctx's end. With a slot (holdSlot) it spins first, then
// sleeps in a futex; on the loop's own thread it refuses to wait.
func (s *Stream[T]) await(ctx context.Context, seen uint64, rung uint32) error {
	slot := s.l.holdSlot()
	if slot {
		defer s.l.releaseSlot()
		if s.l.spinFor(func() bool { return s.handoffs.Load() != seen || s.f.Settled() }) {
			return nil
		}
	}
	if s.l.onLoopThread() {
		return ErrLoopThread
	}
	s.bell.wait(rung, ctx.Done(), slot)
	return nil
}

// end returns the stream's final error: io.EOF after a clean end.
func (s *Stream[T]) end() error {
	s.ended = true // Close must not re-panic what Next delivers now
	_, err := s.f.result()
	if err == nil {
		return io.EOF
	}
	return err
}

// Close stops the generator, if it still runs, and waits for its task to
// end: the generator's yield returns false from then on (at once, if it
// waits in yield for room); if it is busy in another await instead, that
// await returns [ErrStopped] (a ToThread function's context ends, child
// tasks are cancelled). Its deferred cleanup then runs on the loop.
// Stopping is not a cancellation: the generator's context stays live, so
// its cleanup may await. The stream's ctx ending, or the loop's Close,
// cancels the generator as usual. Values not yet read are dropped. If the generator panicked, Close
// panics with its *[PanicError]. Close returns [ErrLoopThread] on the loop's
// own thread, and nil otherwise; closing twice does nothing more.
func (s *Stream[T]) Close() error {
	s.stopped.Store(true)
	s.mu.Lock()
	s.full = nil
	s.waiting = false
	s.mu.Unlock()
	if !s.f.Settled() {
		if s.l.onLoopThread() {
			return ErrLoopThread
		}
		s.postWake() // wakes the producer if it waits for room
		<-s.f.Done()
	}
	s.f.claim()
	if s.f.pe != nil && !s.ended {
		panic(s.f.pe)
	}
	return nil
}
