package aio

import "errors"

// ErrQueueClosed is returned by [Queue.Put] on a closed queue, and by
// [Queue.Get] once a closed queue is empty. It may be wrapped; test with
// errors.Is.
var ErrQueueClosed = errors.New("aio: queue closed")

// A Queue is a FIFO queue for tasks of one loop (asyncio.Queue): Put suspends
// while the queue is full and Get while it is empty. Only tasks of the loop
// that first uses it may use it; it needs no lock. It is made by [NewQueue].
type Queue[T any] struct {
	b       loopBinding
	items   ring[T]
	size    int // capacity; 0 means unbounded
	closed  bool
	getters waitList
	putters waitList
}

// NewQueue returns a queue that holds at most size items; size < 1 means no
// bound, so that Put never suspends.
func NewQueue[T any](size int) *Queue[T] {
	return &Queue[T]{size: max(0, size)}
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int { return q.items.len() }

// Put adds v at the back of the queue, suspending t while the queue is full.
// It returns the context's error if t is cancelled first (v is then not
// added), or [ErrQueueClosed] if the queue is closed.
func (q *Queue[T]) Put(t *Task, v T) error {
	q.b.bind(t, "Queue.Put")
	for {
		if err := t.awaitErr(); err != nil {
			q.passOn(&q.putters, q.size == 0 || q.items.len() < q.size)
			return err
		}
		switch {
		case q.closed:
			return ErrQueueClosed
		case q.TryPut(v):
			return nil
		}
		q.putters.wait(t, "Queue.Put")
	}
}

// Get removes and returns the item at the front of the queue, suspending t
// while the queue is empty. It returns the context's error if t is cancelled
// first, or [ErrQueueClosed] once the queue is closed and empty.
func (q *Queue[T]) Get(t *Task) (T, error) {
	q.b.bind(t, "Queue.Get")
	for {
		if err := t.awaitErr(); err != nil {
			q.passOn(&q.getters, q.items.len() > 0)
			var zero T
			return zero, err
		}
		if v, ok := q.TryGet(); ok {
			return v, nil
		}
		if q.closed {
			var zero T
			return zero, ErrQueueClosed
		}
		q.getters.wait(t, "Queue.Get")
	}
}

// passOn hands a wake-up on to the next waiter when a woken task gives up
// while its condition holds, so that no waiter sleeps on a ready queue.
func (q *Queue[T]) passOn(w *waitList, ready bool) {
	if ready {
		w.wakeOne()
	}
}

// TryPut adds v if there is room and reports whether it did; it never
// suspends. It must be called from a task of the queue's loop.
func (q *Queue[T]) TryPut(v T) bool {
	q.b.mustOnLoop("Queue.TryPut")
	if q.closed || (q.size > 0 && q.items.len() == q.size) {
		return false
	}
	q.items.push(v)
	q.getters.wakeOne()
	return true
}

// TryGet removes and returns the front item if there is one; it never
// suspends. It must be called from a task of the queue's loop.
func (q *Queue[T]) TryGet() (T, bool) {
	q.b.mustOnLoop("Queue.TryGet")
	if q.items.len() == 0 {
		var zero T
		return zero, false
	}
	v := q.items.pop()
	q.putters.wakeOne()
	return v, true
}

// Close closes the queue: Put fails with [ErrQueueClosed] from now on, and Get
// returns the items left, then ErrQueueClosed. Every waiting task is woken.
// Close must be called from a task of the queue's loop; closing twice does
// nothing.
func (q *Queue[T]) Close() {
	q.b.mustOnLoop("Queue.Close")
	q.closed = true
	q.getters.wakeAll()
	q.putters.wakeAll()
}
