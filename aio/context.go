package aio

import (
	"context"
	"errors"
)

// context makes the task's context on first use, on the loop: a child of the
// context the task was started with (so it carries its values, and ends when
// it ends), with the task's own deadline if it has one. The loop cancels it
// with a cause when it cancels the task (context.Cause then tells ErrClosed
// from a plain cancellation) and when the task ends.
func (t *Task) context() context.Context {
	if t.ctx == nil {
		t.ctx, t.cancelCtx = context.WithCancelCause(t.pctx)
		if !t.deadline.IsZero() {
			var stop context.CancelFunc
			withCause := t.cancelCtx
			t.ctx, stop = context.WithDeadline(t.ctx, t.deadline)
			t.cancelCtx = func(cause error) {
				withCause(cause) // reaches the deadline context with its cause
				stop()
			}
		}
		if t.cancelErr != nil {
			t.endContext(t.cancelErr, t.cancelCause())
		}
	}
	return t.ctx
}

// endContext cancels the task's context, if it was made, with cause. A
// deadline is left to the context itself, so that its Err is
// context.DeadlineExceeded rather than context.Canceled: every deadline the
// loop enforces (the caller's, Timeout's) is also the context's own or its
// parent's.
func (t *Task) endContext(err, cause error) {
	if t.cancelCtx == nil || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	t.cancelCtx(cause)
}

// cancelCause is what context.Cause reports for a cancelled task.
func (t *Task) cancelCause() error {
	if t.closed {
		return ErrClosed
	}
	return t.cancelErr
}
