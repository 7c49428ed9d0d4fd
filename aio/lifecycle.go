package aio

import (
	"context"
	"errors"
	"fmt"
)

// A task's life on its loop: started by Go or admitted from Spawn and Call
// (newTask, startTask), made ready by wake, ended by endTask, its Task
// reused by freeTask; and the rule its outcome follows once cancelled.

// Go starts fn as a new task on t's loop and returns its future at once; fn
// first runs after t suspends or ends. The new task is t's child: its context
// derives from t's, so it is cancelled when t is cancelled or ends. To start a
// task that outlives t, use [Spawn] with a context of your choosing. A nil fn
// gives a future that fails with [ErrInvalid]. Go must be called by t itself.
func Go[T any](t *Task, fn func(*Task) (T, error)) *Future[T] {
	t.mustRun("Go")
	return goChild(t, fn, childOpts{})
}

// goChild starts fn as a task that t's code waits for or owns.
func goChild[T any](t *Task, fn func(*Task) (T, error), opts childOpts) *Future[T] {
	l := t.l
	f := &Future[T]{l: l, fn: fn, pctx: t.pctx}
	if fn == nil {
		f.settleNow(*new(T), invalid("Go: nil function"), nil)
		return f
	}
	pctx := t.pctx
	if opts.detached {
		pctx = context.WithoutCancel(t.context())
	}
	c := l.newTask(f, pctx)
	c.opts = opts
	if !opts.detached {
		c.parent = t
		c.deadline = t.deadline
	}
	if d := opts.deadline; !d.IsZero() && (c.deadline.IsZero() || d.Before(c.deadline)) {
		c.deadline = d
	}
	l.startTask(c)
	return f
}

// newTask returns a task for f, reusing an ended one when the loop has enough
// of them. Tasks are reused only by their loop, so their memory stays in the
// loop's cache; an ended task waits in quarantine behind taskQuarantine others
// before it is reused, so that a *Task kept past its end is caught by the
// task-side functions' check rather than aliasing a task that runs now.
func (l *Loop) newTask(f taskBody, pctx context.Context) *Task {
	var t *Task
	if l.freeTasks.len() > taskQuarantine {
		t = l.freeTasks.pop()
	} else {
		t = &Task{l: l}
	}
	t.body, t.pctx = f, pctx
	f.bind(t)
	return t
}

// freeTask returns an ended task to the pool.
func (l *Loop) freeTask(t *Task) {
	t.body.bind(nil)
	t.taskRun = taskRun{}
	t.name.Store(nil)
	if l.freeTasks.len() < maxFreeTasks {
		l.freeTasks.push(t)
	}
}

const (
	taskQuarantine = 64   // ended tasks kept unused before reuse
	maxFreeTasks   = 1024 // bounds the pool of ended tasks
)

// startTask registers t as live and makes it ready. It runs on the loop.
func (l *Loop) startTask(t *Task) {
	l.nextID++
	t.id = l.nextID
	t.started, t.firstStep = l.now(), true
	l.stats.started++
	l.tasks.push(t, liveLink)
	if p := t.parent; p != nil {
		p.children.push(t, sibLink)
		if p.cancelErr != nil {
			l.cancelTask(t, p.cancelErr, cancelKindOf(p))
		}
	}
	if t.cancelErr == nil && (l.shut.cancelled || l.shut.hard) {
		kind := cancelClosing
		if l.shut.hard {
			kind = cancelHard
		}
		l.cancelTask(t, context.Canceled, kind)
	}
	t.state = taskSuspended
	l.wake(t)
}

// endTask unregisters t when its function has returned, on the loop: its
// context ends (unless it lives on for a resource), and so do its
// children's.
func (l *Loop) endTask(t *Task) {
	if t.state == taskDone {
		return // a Goexit that went on after a panic was recovered
	}
	t.state = taskDone
	l.stats.ended++
	l.tasks.remove(t, liveLink)
	if p := t.parent; p != nil {
		p.children.remove(t, sibLink)
	}
	t.body.stopWatching()
	if t.timer != nil {
		l.timers.remove(t.timer)
	}
	if t.cancelCtx != nil {
		t.cancelCtx(errTaskEnded)
	}
	for c := t.children.head; c != nil; {
		next := c.sib.next
		l.cancelTask(c, context.Canceled, cancelRequested)
		c.parent, c.sib = nil, taskLink{}
		c = next
	}
	t.children = taskList{}
}

var errTaskEnded = errors.New("aio: task ended")

// wake makes a suspended task ready to run.
func (l *Loop) wake(t *Task) {
	if t.state != taskSuspended {
		return
	}
	t.state = taskReady
	l.runq.push(t)
}

// outcome applies the cancellation rule to what a task returned: once a task
// has been cancelled, its error always is (errors.Is) the context's error, and
// is ErrClosed too if the loop cancelled it by closing.
func (t *Task) outcome(err error) error {
	if t.cancelErr == nil {
		// The task may have seen its context end (its caller's context or
		// its deadline) before the loop got round to cancelling it.
		ctx := t.pctx
		if t.ctx != nil {
			ctx = t.ctx
		}
		if ctx == nil || ctx.Err() == nil {
			return err
		}
		t.cancelErr = ctx.Err()
	}
	if !errors.Is(err, t.cancelErr) {
		err = errors.Join(t.cancelErr, err)
	}
	if t.closed && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
