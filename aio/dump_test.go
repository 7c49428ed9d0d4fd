package aio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// napper sleeps until released, so that it shows in a dump in its Sleep.
func napper(t *aio.Task) (int, error) {
	t.SetName("napper")
	return 0, aio.Sleep(t, time.Hour)
}

// TestTasksDump checks that the dump lists a task suspended in Sleep with
// its deadline and the stack where it is suspended, one awaiting a
// ToThread function with that function's stack, and one awaiting a child;
// and that the text dump says the same.
func TestTasksDump(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	before := time.Now()
	nap := aio.Spawn(context.Background(), l, napper)
	defer nap.Cancel()
	release := make(chan struct{})
	defer close(release)
	blocked := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		return aio.ToThread(t, func(context.Context) (int, error) { <-release; return 0, nil })
	})
	defer blocked.Cancel()
	testkit.WaitFor(t, "both tasks to suspend", func() bool {
		infos, _ := l.Tasks(testkit.Context(t))
		return len(infos) == 2 && infos[0].State == "suspended" && infos[1].ToThreadStack != ""
	})
	infos, err := l.Tasks(testkit.Context(t))
	if err != nil || len(infos) != 2 {
		t.Fatalf("Tasks() = %d tasks, %v; want 2, nil", len(infos), err)
	}
	n := infos[0]
	if n.Name != "napper" || n.Awaiting != "Sleep" || n.Until.Before(before.Add(time.Hour-time.Minute)) || !strings.Contains(n.Stack, "aio_test.napper") {
		t.Errorf("the napper's entry = %+v; want it in Sleep until an hour from now, with its stack", n)
	}
	b := infos[1]
	if !strings.HasPrefix(b.Awaiting, "ToThread ") || !strings.Contains(b.ToThreadStack, "TestTasksDump") {
		t.Errorf("the blocked task's entry = %+v; want it awaiting ToThread, with the function's stack", b)
	}
	var text strings.Builder
	if err := l.WriteTasks(&text); err != nil {
		t.Fatalf("WriteTasks() = %v", err)
	}
	for _, want := range []string{"2 live tasks", "(napper), suspended", "in Sleep until", "aio_test.napper", "its ToThread function:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("WriteTasks() = %q; want it to say %q", text.String(), want)
		}
	}
	// From the loop's own thread, too.
	self := call(t, l, func(t *aio.Task) (int, error) {
		infos, err := t.Loop().Tasks(context.Background())
		return len(infos), err
	})
	if self != 3 {
		t.Errorf("Tasks() from a task saw %d tasks; want 3", self)
	}
}

// TestTasksOfBlockedLoop checks that a loop blocked by a step does not hang
// the dump: Tasks returns ErrUnresponsive and the blocking step's stack.
func TestTasksOfBlockedLoop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	started, release := make(chan struct{}), make(chan struct{})
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(started)
		<-release // blocks the loop: a bug the dump must show
		return 0, nil
	})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var infos []aio.TaskInfo
	var err error
	testkit.Do(t, "Tasks of a blocked loop", func() { infos, err = l.Tasks(ctx) })
	close(release)
	f.Wait(testkit.Context(t))
	if !errors.Is(err, aio.ErrUnresponsive) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Tasks() of a blocked loop = %v; want ErrUnresponsive and the deadline", err)
	}
	if len(infos) != 1 || !strings.Contains(infos[0].Stack, "TestTasksOfBlockedLoop") {
		t.Errorf("Tasks() of a blocked loop = %+v; want the blocking step's stack", infos)
	}
}

// TestShutdownDeadlineLogsStuckTask checks that a Shutdown whose ctx ends
// first logs what still runs, with the stuck task's stack.
func TestShutdownDeadlineLogsStuckTask(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := aio.Start(aio.Logger(logs.Logger()))
	release := make(chan struct{})
	aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		t.SetName("stuck")
		// Shielded cleanup that outlives Close's cancellation until
		// Shutdown's deadline, then blocks in ToThread.
		return 0, aio.Shield(t, time.Hour, func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(context.Context) (int, error) { <-release; return 0, nil })
			return err
		})
	})
	call(t, l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Millisecond) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown() = %v; want the deadline", err)
	}
	close(release)
	<-l.Done()
	got := logs.String()
	for _, want := range []string{"Shutdown gave up", "(stuck)", "ToThread", "TestShutdownDeadlineLogsStuckTask"} {
		if !strings.Contains(got, want) {
			t.Errorf("log = %q; want it to say %q", got, want)
		}
	}
}

func TestTasksBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	var nilCtx context.Context
	runInvalidCases(t, l, []invalidCase{
		{name: "Tasks nil context", call: func() error { _, err := l.Tasks(nilCtx); return err }, want: "nil context"},
	})
}

// TestTasksOfStoppedLoop checks that a loop that has stopped has no tasks,
// and that asking does not wait.
func TestTasksOfStoppedLoop(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	var infos []aio.TaskInfo
	var err error
	testkit.Do(t, "Tasks of a stopped loop", func() { infos, err = l.Tasks(context.Background()) })
	if len(infos) != 0 || err != nil {
		t.Errorf("Tasks() of a stopped loop = %v, %v; want none, nil", infos, err)
	}
	var text strings.Builder
	if err := l.WriteTasks(&text); err != nil || !strings.Contains(text.String(), "0 live tasks") {
		t.Errorf("WriteTasks() of a stopped loop = %q, %v; want it to say 0 live tasks", text.String(), err)
	}
}

// TestTasksDumpSaysWhatEachAwaits checks the dump's Awaiting for each kind
// of await a task can be suspended in.
func TestTasksDumpSaysWhatEachAwaits(t *testing.T) {
	cases := []struct {
		name  string
		await func(t *aio.Task) error // suspends until cancelled
		want  string
	}{
		{"Recv", func(t *aio.Task) error {
			_, _, err := aio.Recv(t, make(chan int))
			return err
		}, "Recv on <-chan int"},
		{"Await a task", func(t *aio.Task) error {
			_, err := aio.Await(t, aio.Go(t, func(c *aio.Task) (int, error) {
				c.SetName("child")
				return 0, aio.Sleep(c, time.Hour)
			}))
			return err
		}, "Await task "},
		{"Await a future", func(t *aio.Task) error {
			f, _ := aio.NewFuture[int](t.Loop())
			_, err := aio.Await(t, f)
			return err
		}, "Await a future"},
		{"Event", func(t *aio.Task) error { return new(aio.Event).Wait(t) }, "Event.Wait"},
		{"Queue", func(t *aio.Task) error {
			_, err := aio.NewQueue[int](1).Get(t)
			return err
		}, "Queue.Get"},
		{"Select", func(t *aio.Task) error {
			_, err := aio.Select(t, aio.Receive(make(chan int), nil, nil))
			return err
		}, "Select"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t)
			task := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
				t.SetName("awaiter")
				return 0, tc.await(t)
			})
			var got aio.TaskInfo
			testkit.WaitFor(t, "the task to suspend", func() bool {
				infos, _ := l.Tasks(testkit.Context(t))
				for _, info := range infos {
					if info.Name == "awaiter" && info.State == "suspended" {
						got = info
						return true
					}
				}
				return false
			})
			if !strings.HasPrefix(got.Awaiting, tc.want) || !strings.Contains(got.Stack, "TestTasksDumpSaysWhatEachAwaits") {
				t.Errorf("the entry = %+v; want Awaiting to start with %q, and its stack", got, tc.want)
			}
			task.Cancel()
			if _, err := task.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
				t.Errorf("the cancelled awaiter returned %v; want context.Canceled", err)
			}
		})
	}
}
