package stress_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/stress"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestRunFullMix runs every operation briefly, and checks that the run saw
// nothing wrong and reported what it did. TestStress, in the root package,
// is the real stress test.
func TestRunFullMix(t *testing.T) {
	testkit.Check(t)
	marks := 0
	res, err := stress.Run(stress.Config{
		Workers:     8,
		Duration:    100 * time.Millisecond,
		Seed:        1,
		Kept:        3,
		Closers:     2,
		AfterClose:  3,
		Checkpoints: []stress.Checkpoint{{At: 0.5, Fn: func() { marks++ }}, {At: 0.1, Fn: func() { marks += 10 }}},
		StuckAfter:  testkit.Timeout,
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if res.Stuck != "" {
		t.Fatalf("Run() got stuck:\n%s", res.Stuck)
	}
	if !res.OK() {
		t.Errorf("Run() saw: disallowed %v, close %v, kept %v, problems %v\n%s", res.Disallowed, res.CloseErr(), res.KeptProblems, res.Problems, res.Summary())
	}
	if marks != 11 {
		t.Errorf("the checkpoints added up to %d; want 11, each called once", marks)
	}
	if len(res.CloseErrs) != 2 || len(res.ByOp) != len(stress.Full()) || res.Latency.N() == 0 {
		t.Errorf("Result has %d Close errors, %d ops, %d Runs timed; want 2, %d, some", len(res.CloseErrs), len(res.ByOp), res.Latency.N(), len(stress.Full()))
	}
	if res.Count(stress.Closed) < 8*3 {
		t.Errorf("Count(ErrClosed) = %d; want at least the %d calls made after Close", res.Count(stress.Closed), 8*3)
	}
	t.Log(res.Summary())
}

func TestRunRejectsBadConfig(t *testing.T) {
	if _, err := stress.Run(stress.Config{}); err == nil {
		t.Error("Run(zero Config) = nil error; want one: Duration is required")
	}
	if _, err := stress.Run(stress.Config{Duration: time.Millisecond, Mix: []stress.Op{}}); err == nil {
		t.Error("Run(empty mix) = nil error; want one")
	}
}
