package aio

import (
	"context"
	"sync"
	"time"
)

// taskContext is the context.Context of a task, made when the task first asks
// for it, so that tasks that never do cost no allocation for it. Values come
// from the context the task was started with; cancellation comes from the
// loop, which cancels a task when its caller's context ends, when it is
// cancelled, when its parent ends, when its loop closes, and when it ends.
type taskContext struct {
	parent   context.Context
	deadline time.Time // own deadline (Timeout), if earlier than the parent's

	mu     sync.Mutex // guards done, err, cause, afters
	done   chan struct{}
	err    error
	cause  error
	afters []*afterFunc
}

type afterFunc struct {
	f       func()
	stopped bool // guarded by taskContext.mu
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Deadline returns the earlier of the task's own deadline and its parent's.
func (c *taskContext) Deadline() (time.Time, bool) {
	d, ok := c.parent.Deadline()
	if !c.deadline.IsZero() && (!ok || c.deadline.Before(d)) {
		return c.deadline, true
	}
	return d, ok
}

// Done returns a channel that is closed when the task is cancelled or ends.
func (c *taskContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			c.done = closedChan
		} else {
			c.done = make(chan struct{})
		}
	}
	return c.done
}

// Err returns nil until Done is closed, then context.Canceled or
// context.DeadlineExceeded.
func (c *taskContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value returns the parent's value for key: a task sees the values of the
// context it was started with.
func (c *taskContext) Value(key any) any { return c.parent.Value(key) }

// AfterFunc arranges for f to run in its own goroutine once the context is
// done, like context.AfterFunc. Contexts derived with context.WithCancel use
// it, so deriving from a task's context starts no goroutine.
func (c *taskContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.afters = append(c.afters, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.stopped || c.err != nil {
			return false
		}
		a.stopped = true
		return true
	}
}

// String names the context for debugging.
func (c *taskContext) String() string { return "aio.Task.Context" }

// cancel ends the context with err (and cause, for context.Cause) unless it
// has ended already.
func (c *taskContext) cancel(err, cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err, c.cause = err, cause
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	for _, a := range afters {
		if !a.stopped {
			a.stopped = true
			go a.f()
		}
	}
	c.mu.Unlock()
}
