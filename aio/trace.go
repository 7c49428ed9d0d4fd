package aio

import (
	"context"
	"runtime/pprof"
	"runtime/trace"
)

// A loop runs many tasks on one goroutine, which Go's tools would show as
// one long run of one goroutine. So each task is made visible to them:
//
//   - While runtime/trace is tracing, each task is a trace task named as the
//     task is (Task.SetName, or its function's name), a child of the trace
//     task of its parent or of the context it was started with, and each of
//     its steps is a region "aio.step" (ToThread calls a region
//     "aio.ToThread" on their own goroutines; batches of callbacks a region
//     "aio.callbacks"). go tool trace then shows the loop's work per task.
//   - Under the ProfileLabels option, a task's steps carry the pprof labels
//     aio.task (its name) and aio.loop (the loop's), so that a CPU profile of
//     a busy loop attributes its time to tasks: go tool pprof -tags.
//
// A task that is neither traced nor labelled pays one atomic load per step.

// taskObs is what a traced or labelled task keeps for Go's tools, in the
// Task itself, so that it costs no allocation. It is loop-owned.
type taskObs struct {
	on       bool            // the task is traced or labelled
	traceCtx context.Context // carries the trace task, if tracing began before the task
	task     *trace.Task
	region   *trace.Region // the running step's
	labels   context.Context
}

// stepBegins runs on the task's coroutine as each of its steps begins.
func (t *Task) stepBegins() {
	o := &t.obs
	if !o.on {
		if !t.l.cfg.labels && !trace.IsEnabled() {
			return
		}
		t.observe()
	}
	if o.task != nil {
		o.region = trace.StartRegion(o.traceCtx, "aio.step")
	}
	if o.labels != nil {
		pprof.SetGoroutineLabels(o.labels)
	}
}

// stepEnds runs on the task's coroutine as each of its steps ends, by
// suspending or by the task's end.
func (t *Task) stepEnds() {
	if o := &t.obs; o.region != nil {
		o.region.End()
		o.region = nil
	}
}

// taskEnds runs on the task's coroutine once the task's function has
// returned.
func (t *Task) taskEnds() {
	if o := &t.obs; o.on {
		t.stepEnds()
		if o.task != nil {
			o.task.End()
		}
		if o.labels != nil {
			pprof.SetGoroutineLabels(context.Background())
		}
		*o = taskObs{}
	}
}

// observe begins what Go's tools see of t: its trace task, its labels.
func (t *Task) observe() {
	o := &t.obs
	o.on = true
	if trace.IsEnabled() {
		o.traceCtx, o.task = trace.NewTask(t.traceParent(), t.Name())
	}
	if t.l.cfg.labels {
		o.labels = t.l.labelsFor(t.Name())
	}
}

// labelsFor returns the labels of tasks named name. Tasks mostly share the
// names of their functions, so a few hundred label sets are kept, each made
// once, rather than one made per task. It runs on the loop.
func (l *Loop) labelsFor(name string) context.Context {
	if ctx, ok := l.labels[name]; ok {
		return ctx
	}
	if len(l.labels) >= maxLabelSets {
		clear(l.labels)
	}
	if l.labels == nil {
		l.labels = make(map[string]context.Context)
	}
	ctx := pprof.WithLabels(context.Background(), pprof.Labels("aio.task", name, "aio.loop", l.Name()))
	l.labels[name] = ctx
	return ctx
}

const maxLabelSets = 256

// renamed updates what Go's tools see of a task that SetName renamed: its
// labels, and its trace task. A trace task's name is set for good when it
// begins, so a rename in the task's first step (the usual place) ends the
// task begun under the function's name and begins one under the new name;
// a later rename is a log event "aio.name" in the trace task.
func (t *Task) renamed(name string) {
	o := &t.obs
	if !o.on {
		return
	}
	if o.task != nil {
		if t.firstStep {
			t.stepEnds()
			o.task.End()
			o.traceCtx, o.task = trace.NewTask(t.traceParent(), name)
			o.region = trace.StartRegion(o.traceCtx, "aio.step")
		} else {
			trace.Log(o.traceCtx, "aio.name", name)
		}
	}
	if o.labels != nil {
		o.labels = t.l.labelsFor(name)
		pprof.SetGoroutineLabels(o.labels)
	}
}

// traceParent is the context a task's trace task is a child of: its parent
// task's, or the one it was started with.
func (t *Task) traceParent() context.Context {
	if p := t.parent; p != nil && p.obs.task != nil {
		return p.obs.traceCtx
	}
	return t.pctx
}

// traceContext is the context a ToThread function's region goes in.
func (t *Task) traceContext() context.Context {
	if o := &t.obs; o.task != nil {
		return o.traceCtx
	}
	return t.pctx
}

// ProfileLabels makes the loop label each task's steps for pprof: aio.task
// is the task's name, aio.loop the loop's. A CPU profile then tells the
// tasks of a busy loop apart (go tool pprof -tags, or -tagfocus=aio.task=x).
// It costs a context per task; without it, a CPU profile shows the loop as
// one goroutine.
func ProfileLabels() Option { return optionFunc(func(c *config) { c.labels = true }) }
