package aio

import (
	"context"
	"runtime"
)

// A Group runs tasks as children of one task and waits for them all
// (structured concurrency, like errgroup): the first error or panic cancels
// the others, and [Group.Wait] returns that error or re-panics that panic. A
// Group is made by [NewGroup] and used on its loop only.
type Group struct {
	t        *Task
	id       uint64 // t's id: t is reused once its task ends
	running  int
	tasks    map[*Task]struct{} // the running tasks, for fail to cancel
	err      error
	pe       *PanicError
	peFuture *Future[struct{}] // the child whose panic is pe
	goexit   bool
	failed   bool
	waiter   *Task
}

// NewGroup returns an empty group whose tasks are children of t: their
// contexts derive from t's, so cancelling t cancels them. It must be called by
// t itself.
func NewGroup(t *Task) *Group {
	t.mustRun("NewGroup")
	return &Group{t: t, id: t.id}
}

// Go starts fn as a new task of the group. If the group has already failed,
// the task starts cancelled. A nil fn fails the group with [ErrInvalid]. Go
// may be called by any task of the group's loop, including the group's tasks.
func (g *Group) Go(fn func(*Task) error) {
	if g.t.l.curr.Load() == nil {
		panic("aio: Group.Go called outside a task of " + g.t.l.Name())
	}
	if g.t.id != g.id || g.t.state == taskDone {
		panic("aio: Group.Go called after the task that made the group ended")
	}
	if fn == nil {
		g.fail(invalid("Group.Go: nil function"), nil, false)
		return
	}
	f := goChild(g.t, func(t *Task) (struct{}, error) { return struct{}{}, fn(t) }, childOpts{})
	if f.Settled() {
		g.childDone(f)
		return
	}
	g.running++
	if g.tasks == nil {
		g.tasks = make(map[*Task]struct{})
	}
	g.tasks[f.task] = struct{}{}
	if g.failed {
		g.t.l.cancelTask(f.task, context.Canceled, cancelRequested)
	}
	f.onDone = append(f.onDone, func() { g.childDone(f) })
}

func (g *Group) childDone(f *Future[struct{}]) {
	if _, ok := g.tasks[f.task]; f.task != nil && ok {
		delete(g.tasks, f.task)
		g.running--
	}
	switch {
	case f.pe != nil:
		if !g.failed {
			g.peFuture = f // Wait hands this panic over; a later one stays unretrieved
		}
		g.fail(nil, f.pe, false)
	case f.err == errGoexit:
		g.fail(nil, nil, true)
	case f.err != nil:
		g.fail(f.err, nil, false)
	}
	if g.running == 0 && g.waiter != nil {
		g.t.l.wake(g.waiter)
	}
}

// fail records the group's first failure and cancels its running tasks.
func (g *Group) fail(err error, pe *PanicError, goexit bool) {
	if g.failed {
		return
	}
	g.failed, g.err, g.pe, g.goexit = true, err, pe, goexit
	for t := range g.tasks {
		g.t.l.cancelTask(t, context.Canceled, cancelRequested)
	}
}

// Wait suspends the group's task until every task of the group has ended,
// then returns the first error, or nil. If a task panicked first, Wait panics
// with its *[PanicError]; if one called runtime.Goexit, so does Wait. Wait
// waits even if its own task is cancelled meanwhile (the group's tasks are
// cancelled too), so no task of the group outlives it. It must be called by
// the task that made the group.
func (g *Group) Wait() error {
	g.t.mustRun("Group.Wait")
	for g.running > 0 {
		g.waiter = g.t
		g.t.suspend("Group.Wait")
	}
	g.t.interruptCarried()
	g.waiter = nil
	if g.pe != nil {
		g.peFuture.claim()
		panic(g.pe)
	}
	if g.goexit {
		runtime.Goexit()
	}
	return g.err
}
