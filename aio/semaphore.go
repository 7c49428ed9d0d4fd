package aio

// A Semaphore bounds how many tasks of one loop hold something at once
// (asyncio.Semaphore). It is made by [NewSemaphore].
type Semaphore struct {
	b       loopBinding
	free    int
	size    int
	waiters waitList
}

// NewSemaphore returns a semaphore with n permits; n < 1 means 1.
func NewSemaphore(n int) *Semaphore {
	n = max(1, n)
	return &Semaphore{free: n, size: n}
}

// Acquire takes a permit, suspending t until one is free. It returns the
// context's error, without a permit, if t is cancelled first.
func (s *Semaphore) Acquire(t *Task) error {
	s.b.bind(t, "Semaphore.Acquire")
	for s.free == 0 {
		if err := t.awaitErr(); err != nil {
			return err
		}
		s.waiters.wait(t, "Semaphore.Acquire")
	}
	if err := t.awaitErr(); err != nil {
		// Woken for a free permit but cancelled: pass the wake-up on.
		s.waiters.wakeOne()
		return err
	}
	s.free--
	return nil
}

// TryAcquire takes a permit if one is free and reports whether it did.
func (s *Semaphore) TryAcquire() bool {
	s.b.mustOnLoop("Semaphore.TryAcquire")
	if s.free == 0 {
		return false
	}
	s.free--
	return true
}

// Release returns a permit and wakes a waiting task. Releasing more permits
// than were acquired panics.
func (s *Semaphore) Release() {
	s.b.mustOnLoop("Semaphore.Release")
	if s.free == s.size {
		panic("aio: Semaphore released more than acquired")
	}
	s.free++
	s.waiters.wakeOne()
}
