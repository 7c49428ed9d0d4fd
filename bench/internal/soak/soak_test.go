package soak_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/soak"
	"github.com/threadrunner/threadrunner/internal/stress"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestSoakShort(t *testing.T) {
	testkit.Check(t)
	res, err := soak.Run(soak.Config{Duration: 2 * time.Second, Seed: 1})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	var out bytes.Buffer
	res.Print(&out)
	if !res.OK() {
		t.Errorf("soak failed:\n%s", out.String())
	}
	for _, k := range []stress.Kind{stress.Value, stress.OwnError, stress.Panic, stress.CtxError} {
		if res.Count(k) == 0 {
			t.Errorf("Count(%v) = 0; want > 0: the mix should produce every kind\n%s", k, out.String())
		}
	}
	for _, want := range []string{"calls served:", "Run latency: p50", "after Close", "kept resources: 3 exited once each", "memory did not grow", "verdict: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print() output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSoakRejectsZeroDuration(t *testing.T) {
	if _, err := soak.Run(soak.Config{}); err == nil {
		t.Errorf("Run(zero Config) = nil error; want one")
	}
}

// TestSoakWritesAHeapProfile runs a short unpinned soak that writes a heap
// profile, and checks the report names the loop and the profile is there.
func TestSoakWritesAHeapProfile(t *testing.T) {
	testkit.Check(t)
	path := filepath.Join(t.TempDir(), "heap.pprof")
	res, err := soak.Run(soak.Config{Duration: 200 * time.Millisecond, Goroutines: soak.DefaultGoroutines(), Unpinned: true, Seed: 2, HeapProfile: path})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	var out bytes.Buffer
	res.Print(&out)
	if !strings.Contains(out.String(), "unpinned runner") {
		t.Errorf("Print() of an unpinned soak does not say so:\n%s", out.String())
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("heap profile: %v, %v; want a non-empty file", fi, err)
	}
}

// TestPrintReportsFailures prints results that went wrong in every way the
// soak checks, and checks the report says each, and the verdict is FAIL.
func TestPrintReportsFailures(t *testing.T) {
	failed := &soak.Result{
		Config: soak.Config{Duration: time.Second, Goroutines: 48},
		Result: &stress.Result{
			Elapsed:      time.Second,
			CloseErrs:    []error{errors.New("exit failed")},
			Disallowed:   []string{"Run, value (call 7): wrong value"},
			KeptProblems: []string{"kept resources exited in order [-1 -2 -3]; want [-3 -2 -1]"},
			Problems:     []string{"the loop still runs after Close returned"},
		},
		Snaps: []soak.Snap{
			{Label: "start", Goroutines: 1, HeapAlloc: 100},
			{Label: "warm-up", Goroutines: 50, HeapAlloc: 2 << 10},
			{Label: "end of load", Goroutines: 50, HeapAlloc: 64 << 20},
			{Label: "after Close", Goroutines: 3, HeapAlloc: 1 << 20},
		},
	}
	failed.Outcomes[stress.Value] = 10
	failed.Outcomes[stress.Disallowed] = 1
	var out bytes.Buffer
	failed.Print(&out)
	for _, want := range []string{
		"disallowed: Run, value (call 7): wrong value",
		"problem: the loop still runs after Close returned",
		"KEPT RESOURCES: kept resources exited in order",
		"CLOSE FAILED: exit failed",
		"GOROUTINES LEAKED: 2 more after Close than at the start",
		"MEMORY GREW: heap 2 KiB after warm-up, 64.0 MiB at the end of the load",
		"verdict: FAIL",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print() output lacks %q:\n%s", want, out.String())
		}
	}
	if failed.OK() || !failed.MemoryGrew() || failed.LeakedGoroutines() != 2 {
		t.Errorf("OK() = %v, MemoryGrew() = %v, LeakedGoroutines() = %d; want false, true, 2", failed.OK(), failed.MemoryGrew(), failed.LeakedGoroutines())
	}

	stuck := &soak.Result{Config: soak.Config{Duration: time.Second, Goroutines: 48}, Result: &stress.Result{Stuck: "worker 0: Run, value (call 1) for 31s"}}
	out.Reset()
	stuck.Print(&out)
	if !strings.Contains(out.String(), "STUCK: callers did not return") || !strings.Contains(out.String(), "verdict: FAIL") || stuck.OK() {
		t.Errorf("Print() of a stuck soak:\n%s\nwant STUCK and verdict: FAIL, and OK() false", out.String())
	}
}
