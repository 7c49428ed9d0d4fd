package aio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestSlowTaskReported(t *testing.T) {
	testkit.Check(t)
	var logs testkit.LogSink
	l := startLoop(t, aio.SlowTask(1), aio.Logger(logs.Logger()))

	// Any step takes longer than a nanosecond: the report of the step
	// after SetName names the task. It is written after the step, so
	// possibly after Call has returned.
	call(t, l, func(t *aio.Task) (int, error) {
		t.SetName("sluggish")
		return 0, aio.Sleep(t, 0)
	})
	testkit.WaitFor(t, "a slow-step report naming the task", func() bool {
		got := logs.String()
		return strings.Contains(got, "sluggish") && strings.Contains(got, "aio: task")
	})
}

// TestSlowTaskLoggerCallsRun checks that a SlowTask report whose handler
// calls back into the loop (Run from the logger) is refused with
// ErrLoopThread where it would deadlock, pinned or not, and that the loop
// serves on.
func TestSlowTaskLoggerCallsRun(t *testing.T) {
	for _, opts := range [][]aio.Option{nil, {aio.Unpinned()}} {
		t.Run(fmt.Sprintf("%d options", len(opts)), func(t *testing.T) {
			testkit.Check(t)
			var l *aio.Loop
			var mu sync.Mutex
			var errs []error
			logger := slog.New(recordFunc(func(slog.Record) {
				_, err := aio.Call(context.Background(), l, func(*aio.Task) (int, error) { return 1, nil })
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}))
			l = startLoop(t, append(opts, aio.SlowTask(time.Millisecond), aio.Logger(logger))...)
			var err error
			testkit.Do(t, "a slow step whose report calls Run", func() {
				_, err = aio.Call(testkit.Context(t), l, func(*aio.Task) (int, error) { time.Sleep(10 * time.Millisecond); return 0, nil })
			})
			if err != nil {
				t.Fatalf("Call() = %v; want nil", err)
			}
			testkit.WaitFor(t, "the report", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(errs) > 0
			})
			checkLoopServes(t, l)
			mu.Lock()
			defer mu.Unlock()
			for _, err := range errs {
				// The watchdog's goroutine may call Run; the loop's own
				// thread must be refused.
				if err != nil && !errors.Is(err, aio.ErrLoopThread) {
					t.Errorf("Run from the slow-task logger = %v; want nil or ErrLoopThread", err)
				}
			}
		})
	}
}
