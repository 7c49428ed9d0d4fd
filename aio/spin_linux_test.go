package aio_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// idlePeriod is how long TestIdleLoopUsesNoCPU watches an idle loop.
const idlePeriod = 200 * time.Millisecond

// threadCPU returns the CPU time OS thread tid of this process has used so
// far: exact, from /proc/self/task/TID/schedstat, or else in clock ticks from
// its stat.
func threadCPU(t *testing.T, tid int) time.Duration {
	t.Helper()
	dir := fmt.Sprintf("/proc/self/task/%d/", tid)
	if b, err := os.ReadFile(dir + "schedstat"); err == nil {
		// "time on CPU (ns) time waiting (ns) timeslices"
		ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			t.Fatalf("parsing %sschedstat %q: %v", dir, b, err)
		}
		return time.Duration(ns)
	}
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		t.Fatalf("reading the loop thread's CPU time: %v", err)
	}
	// The command, field 2, is in parentheses and may hold spaces: count
	// from the closing one. utime and stime are fields 14 and 15.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("parsing %sstat %q: %v", dir, s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// TestIdleLoopUsesNoCPU checks semantics 10: a loop with no work parks. It
// watches the CPU time of the loop's own thread, which runs nothing else,
// over an idle period that begins right after a burst of work (so it
// includes any spinning), and wants it far below the period: a loop that
// polled would use all of it. This bounds behaviour, not speed, and a loaded
// machine only lowers what a parked thread uses.
func TestIdleLoopUsesNoCPU(t *testing.T) {
	tests := []struct {
		name string
		opts []aio.Option
		// setup leaves the loop something to wait for, or nothing.
		setup func(t *testing.T, l *aio.Loop)
	}{
		{name: "futex", opts: nil},
		{name: "futex/long spin", opts: []aio.Option{aio.Spin(5 * time.Millisecond)}},
		{name: "runtime", opts: []aio.Option{aio.ParkInRuntime()}},
		{name: "timer pending", setup: sleepingTask},
		{name: "runtime/timer pending", opts: []aio.Option{aio.ParkInRuntime()}, setup: sleepingTask},
		{name: "waiter pending", setup: waitingGoroutine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t, tt.opts...)
			tid := l.ThreadID()
			if tid == 0 {
				t.Fatalf("ThreadID() = 0; want the pinned loop's thread")
			}
			if tt.setup != nil {
				tt.setup(t, l)
			}
			for i := range 1000 {
				call(t, l, func(t *aio.Task) (int, error) { return i, aio.Sleep(t, 0) })
			}

			before := threadCPU(t, tid)
			time.Sleep(idlePeriod)
			used := threadCPU(t, tid) - before

			t.Logf("loop thread used %v in %v idle", used, idlePeriod)
			if used > idlePeriod/10 {
				t.Errorf("idle loop thread used %v of CPU in %v; want less than %v", used, idlePeriod, idlePeriod/10)
			}
		})
	}
}

// sleepingTask leaves a task asleep on l for longer than the test, so that
// the loop parks with a timer armed; the task is cancelled when l closes.
func sleepingTask(t *testing.T, l *aio.Loop) {
	asleep := make(chan struct{})
	aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
		close(asleep)
		return 0, aio.Sleep(t, time.Hour)
	})
	<-asleep
}

// waitingGoroutine leaves a goroutine waiting for a future of l that settles
// when the test ends.
func waitingGoroutine(t *testing.T, l *aio.Loop) {
	f, settle := aio.NewFuture[int](l)
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		f.Wait(context.Background())
	}()
	t.Cleanup(func() {
		settle(0, nil)
		<-waited
	})
}
