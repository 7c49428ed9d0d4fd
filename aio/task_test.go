package aio_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestTaskIdentity(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type ident struct {
		loop          *aio.Loop
		id, childID   uint64
		name, renamed string
		str           string
	}
	got := call(t, l, func(t *aio.Task) (ident, error) {
		var v ident
		v.loop, v.id, v.name = t.Loop(), t.ID(), t.Name()
		var err error
		v.childID, err = aio.Await(t, aio.Go(t, func(t *aio.Task) (uint64, error) { return t.ID(), nil }))
		t.SetName("fetch")
		v.renamed, v.str = t.Name(), t.String()
		return v, err
	})
	if got.loop != l {
		t.Errorf("Loop() = %v; want %v", got.loop, l)
	}
	if got.id == 0 || got.childID == 0 || got.id == got.childID {
		t.Errorf("ID() of a task and its child = %d, %d; want two different non-zero ids", got.id, got.childID)
	}
	if !strings.Contains(got.name, "TestTaskIdentity") {
		t.Errorf("Name() = %q; want the task function's name", got.name)
	}
	if got.renamed != "fetch" {
		t.Errorf("Name() after SetName(%q) = %q; want %q", "fetch", got.renamed, "fetch")
	}
	if !strings.Contains(got.str, "fetch") || !strings.Contains(got.str, "task ") {
		t.Errorf("String() = %q; want it to hold the id and %q", got.str, "fetch")
	}
}

// # Misuse: a *Task used where it does not run

// taskOps are the task-side functions, each called with a task it is given;
// none suspends for long if the call is (wrongly) allowed.
var taskOps = []struct {
	name string
	call func(t *aio.Task)
}{
	{"Context", func(t *aio.Task) { t.Context() }},
	{"SetName", func(t *aio.Task) { t.SetName("x") }},
	{"Err", func(t *aio.Task) { t.Err() }},
	{"Go", func(t *aio.Task) { aio.Go(t, func(*aio.Task) (int, error) { return 0, nil }) }},
	{"Await", func(t *aio.Task) { aio.Await(t, aio.Completed(0, nil)) }},
	{"Sleep", func(t *aio.Task) { aio.Sleep(t, 0) }},
	{"Timeout", func(t *aio.Task) {
		aio.Timeout(t, time.Second, func(*aio.Task) (int, error) { return 0, nil })
	}},
	{"ToThread", func(t *aio.Task) {
		aio.ToThread(t, func(context.Context) (int, error) { return 0, nil })
	}},
	{"Recv", func(t *aio.Task) {
		ch := make(chan int, 1)
		ch <- 1
		aio.Recv(t, ch)
	}},
	{"NewGroup", func(t *aio.Task) { aio.NewGroup(t) }},
	{"Collect", func(t *aio.Task) { aio.Collect(t, aio.SliceSeq([]int{1})) }},
	{"With", func(t *aio.Task) {
		aio.With(t, aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, nil), func(int) error { return nil })
	}},
	{"Queue.Put", func(t *aio.Task) { aio.NewQueue[int](0).Put(t, 1) }},
	{"Queue.Get", func(t *aio.Task) {
		q := aio.NewQueue[int](0)
		q.Close() // so that Get, if allowed, does not suspend
		q.Get(t)
	}},
	{"Event.Wait", func(t *aio.Task) {
		var ev aio.Event
		ev.Set() // so that Wait, if allowed, does not suspend
		ev.Wait(t)
	}},
	{"Semaphore.Acquire", func(t *aio.Task) { aio.NewSemaphore(1).Acquire(t) }},
}

// checkMisusePanic fails t unless p is the panic of op misused.
func checkMisusePanic(t *testing.T, op string, p any) {
	t.Helper()
	msg, _ := p.(string)
	if !strings.HasPrefix(msg, "aio: "+op+" called outside the running task") {
		t.Errorf("%s with a task that is not running panicked with %v; want %q...", op, p, "aio: "+op+" called outside the running task")
	}
}

// TestTaskMisuseFromAnotherTask checks that handing a task's *Task to code
// that runs as another task, while it waits or after it ended, panics with a
// message that names the function.
func TestTaskMisuseFromAnotherTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, op := range taskOps {
		t.Run(op.name, func(t *testing.T) {
			type result struct{ waiting, ended any }
			got := call(t, l, func(t *aio.Task) (result, error) {
				var r result
				// A child started now runs while t waits for it, and
				// again after its sibling (which it awaits) has ended.
				gate, open := aio.NewFuture[int](t.Loop())
				var sibling *aio.Task
				sib := aio.Go(t, func(s *aio.Task) (int, error) {
					sibling = s
					return aio.Await(s, gate)
				})
				child := aio.Go(t, func(c *aio.Task) (int, error) {
					r.waiting = testkit.RecoverPanic(func() { op.call(t) })
					open(0, nil)
					if _, err := aio.Await(c, sib); err != nil {
						return 0, err
					}
					r.ended = testkit.RecoverPanic(func() { op.call(sibling) })
					return 0, nil
				})
				_, err := aio.Await(t, child)
				return r, err
			})
			checkMisusePanic(t, op.name, got.waiting)
			checkMisusePanic(t, op.name, got.ended)
		})
	}
}

// TestTaskMisuseFromAnotherGoroutine checks that calling a task-side
// function with a task from a goroutine that is not the loop's panics with
// the same message, and the loop serves on.
func TestTaskMisuseFromAnotherGoroutine(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, op := range taskOps[:6] { // they share one check: a few will do
		t.Run(op.name, func(t *testing.T) {
			got := call(t, l, func(t *aio.Task) (any, error) {
				return aio.ToThread(t, func(context.Context) (any, error) {
					return testkit.RecoverPanic(func() { op.call(t) }), nil
				})
			})
			checkMisusePanic(t, op.name, got)
			checkLoopServes(t, l)
		})
	}
}

// TestTaskMisuseAfterEnd checks that a *Task kept past the end of its task
// and used by a later task panics, as the other misuses do, even when
// nothing else runs in between.
func TestTaskMisuseAfterEnd(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, op := range taskOps[:6] { // they share one check: a few will do
		t.Run(op.name, func(t *testing.T) {
			stale := call(t, l, func(t *aio.Task) (*aio.Task, error) { return t, nil })
			got := call(t, l, func(*aio.Task) (any, error) { return testkit.RecoverPanic(func() { op.call(stale) }), nil })
			checkMisusePanic(t, op.name, got)
		})
	}
}

// TestTaskMisuseFromGoroutineWhileTaskRuns checks the most likely misuse of
// all: a task hands its *Task to a goroutine, which calls a task-side
// function while the task's step still runs. It must panic with the usual
// message, not crash the process (resuming a coroutine from the wrong thread
// is a fatal runtime error), so the scenario runs in a subprocess.
func TestTaskMisuseFromGoroutineWhileTaskRuns(t *testing.T) {
	testkit.Check(t)
	if out, child := testkit.PassInSubprocess(t); !child {
		if !strings.Contains(out, "recovered: aio: Sleep called outside the running task") {
			t.Errorf("misuse from a goroutine while the task runs: output:\n%s\nwant the misuse panic, recovered", out)
		}
		return
	}
	l := startLoop(t)
	p := call(t, l, func(t *aio.Task) (any, error) {
		got := make(chan any)
		go func() { got <- testkit.RecoverPanic(func() { aio.Sleep(t, 0) }) }()
		return <-got, nil // holds the loop: t's step runs meanwhile
	})
	fmt.Printf("recovered: %v\n", p)
}

func TestNilTask(t *testing.T) {
	for _, op := range taskOps {
		if op.name == "Queue.Put" || op.name == "Queue.Get" || op.name == "Event.Wait" || op.name == "Semaphore.Acquire" {
			continue // methods of another receiver: their own message
		}
		p := testkit.RecoverPanic(func() { op.call(nil) })
		if want := "aio: " + op.name + " called with a nil *Task"; p != want {
			t.Errorf("%s(nil) panicked with %v; want %q", op.name, p, want)
		}
	}
}
