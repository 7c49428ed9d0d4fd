package bench_test

import (
	"errors"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/tclbench"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// BenchmarkTclEval is one evaluation of a short Tcl script (incr ::n):
// through threadrunner.Run, through a naive locked-thread channel loop,
// and directly by the interpreter's own locked goroutine. It is skipped
// where libtcl8.6 cannot be loaded.
func BenchmarkTclEval(b *testing.B) {
	for _, name := range tclbench.Systems() {
		b.Run(name, func(b *testing.B) {
			sys, err := tclbench.New(name)
			if errors.Is(err, tcl.ErrUnavailable) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer sys.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sys.Eval(tclbench.Script); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTclIdle is the CPU time of the whole process, in ms per second,
// over 250ms in which an interpreter on a runner has nothing to do but a
// pending after 60000 (cmd/tcl measures a second).
func BenchmarkTclIdle(b *testing.B) {
	if err := tcl.Load(); err != nil {
		b.Skip(err)
	}
	var sum float64
	for b.Loop() {
		v, err := tclbench.IdleCPU(250*time.Millisecond, 0)
		if err != nil {
			b.Fatal(err)
		}
		sum += v
	}
	b.ReportMetric(sum/float64(b.N), "cpu-ms/s")
	b.ReportMetric(0, "ns/op")
}

// TestTclSystems checks that every system evaluates the script and counts
// exactly.
func TestTclSystems(t *testing.T) {
	for _, name := range tclbench.Systems() {
		sys, err := tclbench.New(name)
		if errors.Is(err, tcl.ErrUnavailable) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if v, err := sys.Eval(tclbench.Script); err != nil || v != string(rune('0'+i)) {
				t.Errorf("%s: Eval(%q) = %q, %v; want %d", name, tclbench.Script, v, err, i)
			}
		}
		if err := sys.Close(); err != nil {
			t.Errorf("%s: Close() = %v", name, err)
		}
	}
}
