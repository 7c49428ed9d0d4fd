// Package leaktest checks that a test leaves no goroutine behind, without a
// dependency: it compares the goroutines running when the check ends with
// those that ran when it began, and waits a while for stragglers to exit.
package leaktest

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// Timeout is how long Check waits for goroutines to exit before it reports
// them.
var Timeout = 5 * time.Second

// Check records the goroutines running now and registers a cleanup that fails
// t if goroutines started since are still running when the test ends (after
// waiting up to Timeout for them to exit). Call it first in a test, before
// the test starts anything, so that its cleanup runs last.
func Check(t testing.TB) {
	t.Helper()
	before := ids(stacks())
	t.Cleanup(func() {
		t.Helper()
		deadline := time.Now().Add(Timeout)
		for {
			leaked := Leaked(before)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leaktest: %d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// Snapshot returns the ids of the goroutines running now, for Leaked.
func Snapshot() map[uint64]bool { return ids(stacks()) }

// Leaked returns the stacks of goroutines running now that are not in before
// and are not part of the test framework or the runtime.
func Leaked(before map[uint64]bool) []string {
	var leaked []string
	for _, g := range stacks() {
		id := idOf(g)
		if before[id] || ignored(g) {
			continue
		}
		leaked = append(leaked, g)
	}
	return leaked
}

func stacks() []string {
	var gs []string
	for _, g := range bytes.Split(goid.Stacks(), []byte("\n\n")) {
		if len(g) > 0 {
			gs = append(gs, string(g))
		}
	}
	return gs
}

func ids(gs []string) map[uint64]bool {
	m := make(map[uint64]bool, len(gs))
	for _, g := range gs {
		m[idOf(g)] = true
	}
	return m
}

func idOf(g string) uint64 {
	s := strings.TrimPrefix(g, "goroutine ")
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return 0
	}
	id, _ := strconv.ParseUint(s[:i], 10, 64)
	return id
}

// ignored reports goroutines that belong to the test framework, to the
// runtime or to the current goroutine itself.
func ignored(g string) bool {
	first, _, _ := strings.Cut(g, "\n")
	if strings.Contains(first, "[running]") {
		return true // the goroutine taking the snapshot
	}
	for _, s := range []string{
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
	} {
		if strings.Contains(g, s) && !strings.Contains(g, "threadrunner") {
			return true
		}
	}
	return false
}
