package threadrunner_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// relStepEndedMsg is the warning about a slow step that ended before the
// watchdog reported it.
const relStepEndedMsg = "aio: task step blocked the loop"

func TestSlowTaskWarning(t *testing.T) {
	const threshold = 10 * time.Millisecond
	tests := []struct {
		name string
		warm bool // a task ran before, so the hog reuses its coroutine
		// how the hog is named: "" by its function, else by SetName, in
		// the step that hogs or in an earlier one.
		setName     string
		earlierStep bool
		want        string // what the warning's task attribute must contain
	}{
		{name: "function name, first task of the loop", want: "(*relHogger).hog"},
		{name: "function name, reused coroutine", warm: true, want: "(*relHogger).hog"},
		{name: "SetName in an earlier step", warm: true, setName: "hog-a", earlierStep: true, want: "(hog-a)"},
		{name: "SetName in the slow step", warm: true, setName: "hog-b", want: "(hog-b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			rec := &relRecorder{}
			r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(slog.New(rec)), aio.Name("slow-loop"))
			ctx := testContext(t)
			if tt.warm {
				relServesOn(t, r)
			}
			h := relNewHogger(rec, "")
			task := h.hog
			if tt.earlierStep {
				task = func(t *aio.Task) (int, error) {
					t.SetName(tt.setName)
					if err := aio.Sleep(t, 0); err != nil {
						return 0, err
					}
					return h.hog(t)
				}
			} else {
				h.name = tt.setName
			}
			if v, err := threadrunner.Run(ctx, r, task); v != 1 || err != nil {
				t.Errorf("Run(hog) = %v, %v; want 1, nil", v, err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
			relCheckHogWarning(t, rec, tt.want, threshold)
			for _, w := range rec.find(relBlockingMsg, "task", tt.want) {
				if w.attrs["loop"] != "slow-loop" {
					t.Errorf("the warning names loop %q; want %q", w.attrs["loop"], "slow-loop")
				}
			}
			if ended := rec.find(relStepEndedMsg, "task", tt.want); len(ended) != 0 {
				t.Errorf("the step the watchdog reported was reported again when it ended: %v", ended)
			}
		})
	}
}

func TestSlowTaskFastTasksNotReported(t *testing.T) {
	leaktest.Check(t)
	// A threshold far above any step here, so that a busy machine cannot
	// make a fast step look slow; the tasks wait much longer than it in
	// total, suspended, which must not count.
	const threshold = 200 * time.Millisecond
	rec := &relRecorder{}
	r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(slog.New(rec)))
	ctx := testContext(t)
	for i := range 50 {
		if v, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return i, nil }); v != i || err != nil {
			t.Fatalf("Run() = %v, %v; want %d, nil", v, err, i)
		}
	}
	_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		g.Go(func(t *aio.Task) error { return aio.Sleep(t, 3*threshold/2) }) // awaits on the loop
		g.Go(func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(context.Context) (int, error) {
				time.Sleep(3 * threshold / 2) // blocks a worker, not the loop
				return 0, nil
			})
			return err
		})
		return 0, g.Wait()
	})
	if err != nil {
		t.Errorf("Run(waiting tasks) = %v; want nil", err)
	}
	for _, err := range threadrunner.Iter(ctx, r, aio.SliceSeq(make([]int, 1000))) {
		if err != nil {
			t.Errorf("Iter yielded %v; want nil", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	for _, rec := range rec.list() {
		t.Errorf("the loop logged %q %v; want nothing: no step was slow", rec.msg, rec.attrs)
	}
}

// relSpin busy-waits for d without awaiting.
//
//go:noinline
func relSpin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func TestSlowTaskReportedWhenStepEnds(t *testing.T) {
	leaktest.Check(t)
	// Steps just over the threshold often end before the watchdog, which
	// looks every quarter of it and then takes a stack dump, can report
	// them: the loop must report those when they end. Every slow step is
	// reported, at least once and at most once by each side.
	const threshold = time.Millisecond
	rec := &relRecorder{}
	r := threadrunner.New(aio.SlowTask(threshold), aio.Logger(slog.New(rec)))
	ctx := testContext(t)
	endReports := 0
	for i := 0; i < 500 && endReports == 0; i++ {
		name := fmt.Sprintf("step-%d", i)
		_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) {
			t.SetName(name)
			if err := aio.Sleep(t, 0); err != nil { // the slow step is the next one
				return 0, err
			}
			relSpin(threshold + threshold/5)
			return 0, nil
		})
		if err != nil {
			t.Fatalf("Run() = %v; want nil", err)
		}
		// Reading the records is safe once Run has returned for the
		// loop's own report; the watchdog's may come a little later, so
		// wait for at least one.
		tag := "(" + name + ")"
		var blocking, ended []relRecord
		deadline := time.Now().Add(testTimeout)
		for {
			blocking, ended = rec.find(relBlockingMsg, "task", tag), rec.find(relStepEndedMsg, "task", tag)
			if len(blocking)+len(ended) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if len(blocking)+len(ended) == 0 {
			t.Fatalf("%s held the loop over the threshold and was never reported", name)
		}
		if len(blocking) > 1 || len(ended) > 1 {
			t.Errorf("%s was reported %d times by the watchdog and %d times when it ended; want at most once each", name, len(blocking), len(ended))
		}
		for _, e := range ended {
			endReports++
			if held, err := time.ParseDuration(e.attrs["held"]); err != nil || held < threshold {
				t.Errorf("%s: the report says held=%q; want a duration of at least %v", name, e.attrs["held"], threshold)
			}
			if e.level != slog.LevelWarn || e.attrs["threshold"] != threshold.String() {
				t.Errorf("%s: the report is %v %v; want a warning with threshold=%v", name, e.level, e.attrs, threshold)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if endReports == 0 {
		t.Errorf("no slow step was reported when it ended (the watchdog caught all 500): want the loop's own report")
	}
	// The watchdog's reports carry the stack of the step's goroutine. (A
	// step barely over the threshold may be caught in its tail, after
	// relSpin returned: TestSlowTaskWarning checks the stack's frames.)
	for _, w := range rec.find(relBlockingMsg, "task", "(step-") {
		if !strings.HasPrefix(w.attrs["stack"], "goroutine ") {
			t.Errorf("a watchdog report's stack is %q; want a goroutine's stack", w.attrs["stack"])
		}
	}
}
