package aio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
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
	leaktest.Check(t)
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
	waitFor(t, "both tasks to suspend", func() bool {
		infos, _ := l.Tasks(testContext(t))
		return len(infos) == 2 && infos[0].State == "suspended" && infos[1].ToThreadStack != ""
	})
	infos, err := l.Tasks(testContext(t))
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
	leaktest.Check(t)
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
	watchdog(t, "Tasks of a blocked loop", func() { infos, err = l.Tasks(ctx) })
	close(release)
	f.Wait(testContext(t))
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
	leaktest.Check(t)
	logger, logs := newLogger()
	l := aio.Start(aio.Logger(logger))
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
