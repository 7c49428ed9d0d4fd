package aio

import (
	"context"
	"errors"
	"time"
)

// context makes the task's context on first use, on the loop: a child of
// its parent task's context, or of the context the task was started with (so
// it carries its values and ends when they end), with the task's own deadline
// if it has one. The loop cancels it with a cause when it cancels the task
// (context.Cause then tells ErrClosed from a plain cancellation) and when the
// task ends.
//
// While a resource's Enter runs, the task's context is that resource's
// lifetime context instead (see Task.withLifetime).
func (t *Task) context() context.Context {
	if t.ctx == nil {
		base := t.pctx
		if t.parent != nil {
			base = t.parent.context()
		}
		t.ctx, t.cancelCtx = context.WithCancelCause(base)
		if d, ok := base.Deadline(); !t.deadline.IsZero() && (!ok || t.deadline.Before(d)) {
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
// context.DeadlineExceeded rather than context.Canceled: the loop hears of a
// deadline only from a context that is already done (the caller's, watched by
// Call and Spawn; Timeout's, watched with context.AfterFunc), and the task's
// context derives from it; a resource's lifetime context derives from no
// deadline, and ends at once.
func (t *Task) endContext(err, cause error) {
	if t.cancelCtx == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) && t.life == nil {
		// The context it derives from is done, and the goroutine that ended
		// it is cancelling its children right now: wait for that, briefly,
		// so that no await returns the error before the context is done.
		if !spin(deadlineGrace, func() bool { return t.ctx.Err() != nil }, nil) {
			t.cancelCtx(cause) // Err is then context.Canceled, Cause the deadline
		}
		return
	}
	t.cancelCtx(cause)
}

// deadlineGrace bounds endContext's wait for a deadline to reach a task's
// context: microseconds unless the cancelling goroutine is descheduled.
const deadlineGrace = time.Millisecond

// cancelCause is what context.Cause reports for a cancelled task.
func (t *Task) cancelCause() error {
	if t.closed {
		return ErrClosed
	}
	return t.cancelErr
}
