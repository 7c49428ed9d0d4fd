package aio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestBadInputOffLoop checks that the functions called off the loop refuse
// nil arguments with ErrInvalid and a message that says which, and never
// run anything.
func TestBadInputOffLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)
	fn := func(*aio.Task) (int, error) { return 1, nil }
	var nilCtx context.Context

	tests := []struct {
		name string
		give func() error
		want string // in the message
	}{
		{"Call nil loop", func() error { _, err := aio.Call(ctx, nil, fn); return err }, "nil *Loop"},
		{"Call nil function", func() error { _, err := aio.Call[int](ctx, l, nil); return err }, "nil function"},
		{"Call nil context", func() error { _, err := aio.Call(nilCtx, l, fn); return err }, "nil context"},
		{"Spawn nil loop", func() error { _, err := aio.Spawn(ctx, nil, fn).Wait(ctx); return err }, "nil *Loop"},
		{"Spawn nil function", func() error { _, err := aio.Spawn[int](ctx, l, nil).Wait(ctx); return err }, "nil function"},
		{"Spawn nil context", func() error { _, err := aio.Spawn(nilCtx, l, fn).Wait(ctx); return err }, "nil context"},
		{"Run nil function", func() error { _, err := aio.Run[int](ctx, nil); return err }, "nil function"},
		{"Wait nil future", func() error { _, err := (*aio.Future[int])(nil).Wait(ctx); return err }, "nil *Future"},
		{"OpenStream nil loop", func() error {
			_, err := aio.OpenStream(ctx, nil, aio.SliceSeq([]int{1})).Next(ctx)
			return err
		}, "nil *Loop"},
		{"OpenStream nil Seq", func() error {
			_, err := aio.OpenStream[int](ctx, l, nil).Next(ctx)
			return err
		}, "nil Seq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give()
			if !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v; want ErrInvalid saying %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestBadInputNoPanic(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Nothing to do, nothing to fail.
	(*aio.Future[int])(nil).Cancel()
	s := aio.OpenStream[int](testkit.Context(t), l, nil)
	if err := s.Close(); err != nil {
		t.Errorf("Close() of a stream of a nil Seq = %v; want nil", err)
	}
	if p := testkit.RecoverPanic(func() { aio.NewFuture[int](nil) }); p != "aio: NewFuture called with a nil *Loop" {
		t.Errorf("NewFuture(nil) panicked with %v; want a message naming the nil *Loop", p)
	}
}

// TestBadInputOnLoop checks the task-side functions' refusals of bad input:
// ErrInvalid, with a message that says which.
func TestBadInputOnLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	other := startLoop(t)
	pendingElsewhere, settleElsewhere := aio.NewFuture[int](other)
	defer settleElsewhere(0, nil)

	tests := []struct {
		name string
		give func(t *aio.Task) error
		want string
	}{
		{"Go nil function", func(t *aio.Task) error {
			_, err := aio.Await(t, aio.Go[int](t, nil))
			return err
		}, "nil function"},
		{"ToThread nil function", func(t *aio.Task) error {
			_, err := aio.ToThread[int](t, nil)
			return err
		}, "nil function"},
		{"Timeout nil function", func(t *aio.Task) error {
			_, err := aio.Timeout[int](t, time.Second, nil)
			return err
		}, "nil function"},
		{"Await nil future", func(t *aio.Task) error {
			_, err := aio.Await[int](t, nil)
			return err
		}, "nil future"},
		{"Await future of another loop", func(t *aio.Task) error {
			_, err := aio.Await(t, pendingElsewhere)
			return err
		}, "future of"},
		{"Await own future", func(t *aio.Task) error {
			var self *aio.Future[int]
			self = aio.Go(t, func(t *aio.Task) (int, error) {
				_, err := aio.Await(t, self)
				return 0, err
			})
			_, err := aio.Await(t, self)
			return err
		}, "awaits its own future"},
		{"Collect nil Seq", func(t *aio.Task) error {
			_, err := aio.Collect[int](t, nil)
			return err
		}, "nil Seq"},
		{"With nil resource", func(t *aio.Task) error {
			return aio.With[int](t, nil, func(int) error { return nil })
		}, "nil Resource"},
		{"With nil body", func(t *aio.Task) error {
			return aio.With(t, aio.ResourceFunc(func(*aio.Task) (int, error) { return 0, nil }, nil), nil)
		}, "nil body"},
		{"ResourceFunc nil enter", func(t *aio.Task) error {
			return aio.With(t, aio.ResourceFunc[int](nil, nil), func(int) error { return nil })
		}, "nil enter"},
		{"Group.Go nil function", func(t *aio.Task) error {
			g := aio.NewGroup(t)
			g.Go(nil)
			return g.Wait()
		}, "nil function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := call(t, l, func(t *aio.Task) (error, error) { return tt.give(t), nil })
			if !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v; want ErrInvalid saying %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestAwaitSettledFutureOfAnotherLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	other := startLoop(t)

	// Settled, it is just a value: any task may await it.
	f := aio.Spawn(testkit.Context(t), other, func(*aio.Task) (int, error) { return 4, nil })
	if _, err := f.Wait(testkit.Context(t)); err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if got := call(t, l, func(t *aio.Task) (int, error) { return aio.Await(t, f) }); got != 4 {
		t.Errorf("Await() of a settled future of another loop = %d; want 4", got)
	}
}

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

func TestPrimitiveUsedByTwoLoops(t *testing.T) {
	testkit.Check(t)
	a := startLoop(t, aio.Name("loop-a"))
	b := startLoop(t, aio.Name("loop-b"))

	q := aio.NewQueue[int](0)
	var ev aio.Event
	sem := aio.NewSemaphore(1)
	// The first loop to use each binds it; Call's return orders that
	// before the second loop's use.
	call(t, a, func(t *aio.Task) (int, error) {
		q.TryPut(1)
		ev.Set()
		return 0, errors.Join(q.Put(t, 2), ev.Wait(t), sem.Acquire(t))
	})
	tests := []struct {
		op  string
		use func(t *aio.Task)
	}{
		{"Queue.Put", func(t *aio.Task) { q.Put(t, 3) }},
		{"Queue.Get", func(t *aio.Task) { q.Get(t) }},
		{"Event.Wait", func(t *aio.Task) { ev.Wait(t) }},
		{"Semaphore.Acquire", func(t *aio.Task) { sem.Acquire(t) }},
	}
	for _, tt := range tests {
		got := call(t, b, func(t *aio.Task) (any, error) { return testkit.RecoverPanic(func() { tt.use(t) }), nil })
		want := fmt.Sprintf("aio: %s used from loop-b, but it belongs to loop-a", tt.op)
		if got != want {
			t.Errorf("%s from a second loop panicked with %v; want %q", tt.op, got, want)
		}
	}
}

func TestGroupWaitByAnotherTask(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Group.Wait belongs to the task that made the group.
	got := call(t, l, func(t *aio.Task) (any, error) {
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error { return aio.Sleep(t, 0) })
		other := aio.Go(t, func(*aio.Task) (any, error) { return testkit.RecoverPanic(func() { g.Wait() }), nil })
		p, err := aio.Await(t, other)
		return p, errors.Join(err, g.Wait())
	})
	checkMisusePanic(t, "Group.Wait", got)
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
	if os.Getenv("AIO_TEST_MISUSE_CHILD") == "1" {
		misuseWhileRunning()
		return
	}
	testkit.Check(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTaskMisuseFromGoroutineWhileTaskRuns$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AIO_TEST_MISUSE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "recovered: aio: Sleep called outside the running task") {
		t.Errorf("misuse from a goroutine while the task runs: %v, output:\n%s\nwant the misuse panic, recovered, and no crash", err, firstLines(string(out), 12))
	}
}

// misuseWhileRunning is the subprocess of
// TestTaskMisuseFromGoroutineWhileTaskRuns: it prints what the misuse
// panicked with.
func misuseWhileRunning() {
	l := aio.Start()
	defer l.Close()
	p, _ := aio.Call(context.Background(), l, func(t *aio.Task) (any, error) {
		got := make(chan any)
		go func() { got <- testkit.RecoverPanic(func() { aio.Sleep(t, 0) }) }()
		return <-got, nil // holds the loop: t's step runs meanwhile
	})
	fmt.Printf("recovered: %v\n", p)
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
