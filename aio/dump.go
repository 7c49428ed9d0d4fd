package aio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A TaskInfo describes a live task of a loop, as [Loop.Tasks] found it.
type TaskInfo struct {
	ID       uint64
	Name     string        // as Task.Name says
	State    string        // "running", "ready" or "suspended"
	Age      time.Duration // since the task started
	Parent   uint64        // the task that started it with Go, or 0
	Awaiting string        // what a suspended task waits for: "Sleep", "Await task 3 (main.fetch)", "ToThread main.read", ...
	Until    time.Time     // when a Sleep it is suspended in ends; zero otherwise
	Stack    string        // its goroutine's stack: where it is suspended, or runs

	// ToThreadStack is the stack of the goroutine running the ToThread
	// function the task awaits, if it awaits one that has started.
	ToThreadStack string
}

// ErrUnresponsive is returned by [Loop.Tasks] when the loop did not answer
// in time: a step is holding it (a task that blocks without awaiting). What
// Tasks returns then is the goroutine running that step. It may be wrapped;
// test with errors.Is.
var ErrUnresponsive = errors.New("aio: the loop did not answer: a step is blocking it")

// Tasks returns the loop's live tasks, oldest first, with what each awaits
// and the stack where each is suspended: asyncio's all_tasks() with
// print_stack(). It is safe to call from any goroutine, the loop's own
// included; it asks the loop for the list and waits for it until ctx ends.
// A loop that does not answer is blocked by a step: Tasks then returns what
// it can see of that step (its stack, and its task if [SlowTask] watches
// the loop) and an error that is [ErrUnresponsive] and ctx's error. A loop
// that has stopped has no tasks. Taking the stacks stops the world briefly.
func (l *Loop) Tasks(ctx context.Context) ([]TaskInfo, error) {
	if ctx == nil {
		return nil, invalid("Tasks: nil context")
	}
	var snap []taskSnap
	if l.onLoopThread() {
		snap = l.snapshot()
	} else {
		got := make(chan []taskSnap, 1)
		if !l.inbox.post(&postItem{fn: func() { got <- l.snapshot() }}) {
			return nil, nil // stopped: no tasks
		}
		select {
		case snap = <-got:
		case <-l.done:
			return nil, nil
		case <-ctx.Done():
			return l.blockedStep(), fmt.Errorf("%w (%v): %w", ErrUnresponsive, l, ctx.Err())
		}
	}
	stacks := stacksByID()
	infos := make([]TaskInfo, len(snap))
	for i, s := range snap {
		infos[i] = s.info
		infos[i].Stack = stackOf(stacks, s.goid)
		if s.threadGoid != 0 {
			infos[i].ToThreadStack = stackOf(stacks, s.threadGoid)
		}
	}
	return infos, nil
}

// WriteTasks writes the loop's live tasks to w as text, as [Loop.Tasks]
// finds them within a second: one paragraph per task, its stack indented.
// It is safe to call from any goroutine; serve it on a debug endpoint to see
// what a loop is doing, or log it when it seems stuck.
func (l *Loop) WriteTasks(w io.Writer) error { return l.writeTasks(w, time.Second) }

func (l *Loop) writeTasks(w io.Writer, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	infos, err := l.Tasks(ctx)
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d live tasks", l, len(infos))
	if err != nil {
		fmt.Fprintf(&b, " (%v)", err)
	}
	b.WriteString("\n")
	for _, ti := range infos {
		fmt.Fprintf(&b, "\ntask %d (%s), %s for %v", ti.ID, ti.Name, ti.State, ti.Age.Round(time.Microsecond))
		if ti.Awaiting != "" {
			fmt.Fprintf(&b, ", in %s", ti.Awaiting)
		}
		if !ti.Until.IsZero() {
			fmt.Fprintf(&b, " until %s", ti.Until.Format(time.RFC3339Nano))
		}
		if ti.Parent != 0 {
			fmt.Fprintf(&b, ", child of task %d", ti.Parent)
		}
		b.WriteString("\n")
		indent(&b, ti.Stack)
		if ti.ToThreadStack != "" {
			b.WriteString("    its ToThread function:\n")
			indent(&b, ti.ToThreadStack)
		}
	}
	_, werr := io.WriteString(w, b.String())
	return errors.Join(err, werr)
}

func indent(b *strings.Builder, s string) {
	for line := range strings.Lines(s) {
		b.WriteString("    ")
		b.WriteString(line)
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
}

// taskSnap is a task as the loop saw it, before the stacks are read.
type taskSnap struct {
	info       TaskInfo
	goid       uint64 // its coroutine's goroutine
	threadGoid uint64 // the goroutine running its ToThread function, if any
}

// snapshot lists the live tasks, oldest first. It runs on the loop.
func (l *Loop) snapshot() []taskSnap {
	var snap []taskSnap
	now := l.now()
	for t := l.tasks.head; t != nil; t = t.live.next {
		s := taskSnap{info: TaskInfo{
			ID:    t.id,
			Name:  t.Name(),
			State: t.stateName(),
			Age:   time.Duration(now - t.started),
		}}
		if t.parent != nil {
			s.info.Parent = t.parent.id
		}
		if t.c != nil {
			s.goid = t.c.goid
		}
		if t.state == taskSuspended {
			s.info.Awaiting = t.waitOp
			switch on := t.waitOn.(type) {
			case *timer:
				s.info.Until = l.epoch.Add(time.Duration(on.when))
			case describer:
				s.info.Awaiting += " " + on.describe()
			}
			if j, ok := t.waitOn.(threadJob); ok {
				s.threadGoid = l.threads.goidRunning(j)
			}
		}
		snap = append(snap, s)
	}
	// The list is newest first.
	for i, j := 0, len(snap)-1; i < j; i, j = i+1, j-1 {
		snap[i], snap[j] = snap[j], snap[i]
	}
	return snap
}

// A describer says what an await waits for, for the task dump.
type describer interface{ describe() string }

func (f *Future[T]) describe() string {
	switch {
	case f.task != nil:
		return f.task.String()
	case f.Settled():
		return "a settled future"
	}
	return "a future"
}

func (r *recvOp[T]) describe() string { return fmt.Sprintf("on %T", r.ch) }

// reportStillRunning logs, when Shutdown's ctx has ended first, what still
// runs on the loop: every task with its stack (close hooks, generators and
// tasks awaiting ToThread functions among them), so that a shutdown that
// hangs explains itself.
func (l *Loop) reportStillRunning(why error) {
	var b strings.Builder
	l.writeTasks(&b, 250*time.Millisecond)
	l.report(slog.LevelWarn, "aio: Shutdown gave up with work still running", "loop", l.Name(), "err", why, "tasks", b.String())
}

func (t *Task) stateName() string {
	switch {
	case t.l.curr.Load() == t:
		return "running"
	case t.state == taskReady:
		return "ready"
	default:
		return "suspended"
	}
}

// blockedStep describes, from outside, the step that keeps the loop from
// answering: the coroutine that is not parked, and its task if the
// slow-task watchdog knows it.
func (l *Loop) blockedStep() []TaskInfo {
	stacks := stacksByID()
	ti := TaskInfo{Name: "(a step blocking the loop)", State: "running"}
	if info := l.watch.info.Load(); info != nil {
		ti.ID, ti.Name = info.id, info.task()
		ti.Age = time.Duration(l.now() - info.began)
		ti.Stack = stackOf(stacks, info.goid)
		return []TaskInfo{ti}
	}
	for _, g := range stacks {
		if strings.Contains(g.Stack, "aio.(*coro).serve") && !strings.HasPrefix(g.State, "coroutine") {
			ti.Stack = g.Stack
			break
		}
	}
	return []TaskInfo{ti}
}

// stacksByID takes a dump of every goroutine's stack, by goroutine id.
func stacksByID() map[uint64]goid.Goroutine {
	m := make(map[uint64]goid.Goroutine)
	for _, g := range goid.All() {
		m[g.ID] = g
	}
	return m
}

func stackOf(stacks map[uint64]goid.Goroutine, id uint64) string {
	if g, ok := stacks[id]; ok {
		return g.Stack
	}
	return fmt.Sprintf("(goroutine %d not found)", id)
}
