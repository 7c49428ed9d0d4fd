package testkit

import (
	"strings"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// LeakTimeout is how long [LeakCheck] waits for goroutines to exit before it
// reports them.
var LeakTimeout = 5 * time.Second

// LeakCheck records the goroutines running now and registers a cleanup that
// fails t if goroutines started since are still running when the test ends,
// after waiting up to [LeakTimeout] for them to exit. Call it before the test
// starts anything, so that its cleanup runs after the test's own.
func LeakCheck(t TB) {
	t.Helper()
	before := Snapshot()
	t.Cleanup(func() {
		t.Helper()
		deadline := time.Now().Add(LeakTimeout)
		for {
			leaked := Leaked(before)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("testkit: %d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// Snapshot returns the ids of the goroutines running now, for [Leaked].
func Snapshot() map[uint64]bool {
	gs := goid.All()
	ids := make(map[uint64]bool, len(gs))
	for _, g := range gs {
		ids[g.ID] = true
	}
	return ids
}

// Leaked returns the stacks of the goroutines running now that are not in
// before, leaving out those of the test framework and the runtime, and the
// calling goroutine.
func Leaked(before map[uint64]bool) []string {
	var leaked []string
	for _, g := range goid.All() {
		if !before[g.ID] && !ignored(g) {
			leaked = append(leaked, g.Stack)
		}
	}
	return leaked
}

// frameworkFrames mark the goroutines of the test framework and the runtime.
var frameworkFrames = []string{
	"testing.(*T).Run(",
	"testing.(*B).run1(",
	"testing.(*F).Fuzz(",
	"testing.tRunner.func1",
	"testing.runTests(",
	"testing.(*M).startAlarm",
	"testing.(*M).Run(",
	"os/signal.signal_recv",
	"runtime.ensureSigM",
	"created by runtime.gc",
	"runtime.ReadTrace",
	"runtime.runCleanups", // the runtime's own, started at the first runtime.AddCleanup
	"runtime.runfinq",
}

// ignored reports goroutines that belong to the test framework, to the
// runtime, or that are the caller itself (the one running goroutine).
func ignored(g goid.Goroutine) bool {
	if g.State == "running" {
		return true
	}
	for _, s := range frameworkFrames {
		if strings.Contains(g.Stack, s) && !strings.Contains(g.Stack, "threadrunner") {
			return true
		}
	}
	return false
}
