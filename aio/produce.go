package aio

// The producing side of a Stream, on the loop: the generator's task, its
// yield, and the hand-off of batches to the consumer.

// produce runs the generator in t.
func (s *Stream[T]) produce(t *Task, seq Seq[T]) error {
	s.t = t
	s.cur = s.newBatch()
	t.interruptible = true
	t.onSuspend = s.flushPartial
	defer func() {
		t.onSuspend = nil
		s.t = nil // t is reused once it ends
		s.flushLast()
	}()
	return seq(t, s.yield)
}

// newBatch returns an empty batch; its room grows as values come.
func (s *Stream[T]) newBatch() []T { return make([]T, 0, min(s.batch, 64)) }

func (s *Stream[T]) yield(v T) bool {
	if s.refused {
		panic("aio: Seq called yield again after yield returned false")
	}
	if s.t.cancelErr != nil || s.stopped.Load() {
		// Cancelled (Close, its context's end) or stopped by the consumer
		// (a break): stop the generator, whatever its awaits returned
		// meanwhile.
		s.refused = true
		return false
	}
	s.cur = append(s.cur, v)
	if len(s.cur) < s.batch {
		return true
	}
	for {
		switch s.handOff(false) {
		case handedOff:
			return true
		case streamStopped:
			s.refused = true
			return false
		}
		// The buffer is full: wait for the consumer to take a batch, or to
		// stop the stream.
		t := s.t
		t.onSuspend = nil
		s.inYield = true
		t.suspend("Seq yield")
		s.inYield = false
		t.onSuspend = s.flushPartial
		if t.cancelErr != nil {
			s.refused = true
			return false
		}
	}
}

type handOffResult int

const (
	handedOff handOffResult = iota
	bufferFull
	streamStopped
)

// handOff moves the current batch to the consumer's side. Unless force, it
// respects the buffer's bound, and marks the producer as waiting when full.
func (s *Stream[T]) handOff(force bool) handOffResult {
	s.mu.Lock()
	if s.stopped.Load() {
		s.mu.Unlock()
		s.cur = s.cur[:0]
		return streamStopped
	}
	if !force && len(s.full) >= s.buffer {
		s.waiting = true
		s.mu.Unlock()
		return bufferFull
	}
	s.full = append(s.full, s.cur)
	if n := len(s.free); n > 0 {
		s.cur = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		s.cur = s.newBatch()
	}
	parked := s.parked
	s.parked = false
	s.mu.Unlock()
	s.handoffs.Add(1)
	if parked {
		s.bell.ring()
	}
	return handedOff
}

// flushPartial hands over a partial batch when the generator suspends, if
// there is room; it never suspends. If the consumer has stopped the stream,
// the await the generator suspends in is interrupted instead.
func (s *Stream[T]) flushPartial() {
	if s.stopped.Load() {
		s.interruptProducer()
		return
	}
	if len(s.cur) > 0 {
		s.mu.Lock()
		room := len(s.full) < s.buffer
		s.mu.Unlock()
		if room {
			s.handOff(true)
		}
	}
}

// flushLast hands over what is left when the generator ends.
func (s *Stream[T]) flushLast() {
	if len(s.cur) > 0 {
		s.handOff(true)
	}
}

// postWake asks the loop to look at the producer (runOnLoop), unless it has
// been asked already: a look sees the stream as it is then.
func (s *Stream[T]) postWake() {
	if s.queued.CompareAndSwap(false, true) && !s.l.inbox.post(s) {
		s.queued.Store(false)
	}
}

// runOnLoop wakes the producer if it waits in yield: the consumer made
// room, or stopped the stream; if the stream stopped while the producer
// waits in another await, that await is interrupted.
func (s *Stream[T]) runOnLoop(l *Loop) {
	s.queued.Store(false)
	switch t := s.t; {
	case t == nil:
	case s.inYield:
		l.wake(t)
	case s.stopped.Load() && t.state == taskSuspended:
		s.interruptProducer()
	}
}

// interruptProducer makes the generator's await in progress return
// ErrStopped, once, unless the generator is past its last yield: stopping
// is not a cancellation, and the generator's cleanup awaits as usual.
func (s *Stream[T]) interruptProducer() {
	if s.interrupted || s.refused {
		return
	}
	s.interrupted = true
	s.t.interruptNow(ErrStopped)
}
