package aio

import "context"

// How a task came to be cancelled; it decides what the cancellation reaches.
type cancelKind uint8

const (
	cancelRequested cancelKind = iota // Future.Cancel, the caller's ctx, a parent, a deadline
	cancelClosing                     // Close cancels every task but the immune ones
	cancelHard                        // Shutdown's ctx ended: every task, immune ones too
)

// cancelKindOf is the kind a cancelled parent hands on to a child started
// after the parent's cancellation.
func cancelKindOf(p *Task) cancelKind {
	if p.closed {
		return cancelClosing
	}
	return cancelRequested
}

// cancelTask cancels t and its children with err, on the loop. The
// cancellation Close makes does not reach immune tasks (shields, close
// hooks) or their descendants.
func (l *Loop) cancelTask(t *Task, err error, kind cancelKind) {
	if t.state == taskDone || (kind == cancelClosing && t.immune()) {
		return
	}
	if t.cancelErr != nil {
		// Already cancelled: wake it anyway, in case it went back to sleep
		// (awaits re-check their condition, so a spare wake-up is harmless).
		l.wake(t)
		return
	}
	t.cancelErr, t.closed = err, kind != cancelRequested
	t.endContext(err, t.cancelCause())
	for c := t.children.head; c != nil; c = c.sib.next {
		l.cancelTask(c, err, kind)
	}
	l.wake(t)
}

// immune reports whether t, or a task it descends from, is out of Close's
// reach.
func (t *Task) immune() bool {
	for a := t; a != nil; a = a.parent {
		if a.opts.immune {
			return true
		}
	}
	return false
}

// A canceller is a future whose task can be cancelled from outside the loop.
type canceller interface {
	taskOf() *Task
}

type cancelItem struct {
	itemLink
	f   canceller
	err error
}

func (c *cancelItem) runOnLoop(l *Loop) {
	if t := c.f.taskOf(); t != nil {
		l.cancelTask(t, c.err, cancelRequested)
	}
}

// postCancel asks the loop to cancel f's task, if it still runs, with err.
func (l *Loop) postCancel(f canceller, err error) {
	l.inbox.post(&cancelItem{f: f, err: err})
}

// Err returns nil while the task may go on, or the error its awaits now
// return (or will, once the loop gets to it): the context's error once the
// task's cancellation has been asked for. It must be called by the task
// itself. Long computations that do not await can poll it: while a step
// runs, it sees at once the end of the context the task was started with (a
// caller's cancellation or deadline), its deadline, [Future.Cancel] on it or
// on a task it descends from, and the loop's Close.
func (t *Task) Err() error {
	t.mustRun("Err")
	if t.cancelErr != nil {
		return t.cancelErr
	}
	if t.ctx != nil {
		if err := t.ctx.Err(); err != nil {
			return err
		}
	} else if err := t.pctx.Err(); err != nil {
		return err
	}
	if t.cancelAsked() {
		return context.Canceled
	}
	return nil
}

// cancelAsked reports whether a cancellation of t has been asked for that
// the loop has not applied yet (the step that asks keeps it from doing so).
func (t *Task) cancelAsked() bool {
	if loopState(t.l.state.Load()) >= loopClosing && !t.immune() {
		return true
	}
	for a := t; a != nil; a = a.parent {
		if a.body.cancelWanted() {
			return true
		}
	}
	return false
}
