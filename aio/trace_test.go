package aio_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// burn keeps the CPU busy for about d, without awaiting.
func burn(d time.Duration) int {
	n := 0
	for start := time.Now(); time.Since(start) < d; n++ {
	}
	return n
}

// goTool runs the go command's tool with args, skipping the test where no
// go command is at hand.
func goTool(t *testing.T, args ...string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to read the profile with: %v", err)
	}
	out, err := exec.Command(gobin, append([]string{"tool"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestTraceTasks checks that, while runtime/trace traces, a task is a trace
// task under its name (as SetName gives it), its steps regions "aio.step",
// and its ToThread call a region "aio.ToThread", as go tool trace's own
// parser reads the trace.
func TestTraceTasks(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("the test binary is being traced already (go test -trace)")
	}
	leaktest.Check(t)
	l := startLoop(t)
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatalf("trace.Start() = %v", err)
	}
	call(t, l, func(t *aio.Task) (int, error) {
		t.SetName("x")
		burn(time.Millisecond)
		if err := aio.Sleep(t, time.Millisecond); err != nil {
			return 0, err
		}
		return aio.ToThread(t, func(context.Context) (int, error) { return burn(time.Millisecond), nil })
	})
	trace.Stop()
	file := filepath.Join(t.TempDir(), "trace.out")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed := goTool(t, "trace", "-d=parsed", file)
	var id string
	for line := range strings.Lines(parsed) {
		if strings.Contains(line, "TaskBegin") && strings.Contains(line, `Type="x"`) {
			for f := range strings.FieldsSeq(line) {
				if v, ok := strings.CutPrefix(f, "ID="); ok {
					id = v
				}
			}
		}
	}
	if id == "" {
		t.Fatalf("no trace task named x in the trace:\n%s", grepLines(parsed, "Task"))
	}
	for _, region := range []string{"aio.step", "aio.ToThread"} {
		found := false
		for line := range strings.Lines(parsed) {
			if strings.Contains(line, "RegionBegin") && strings.Contains(line, "Task="+id+" ") && strings.Contains(line, `Type="`+region+`"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no region %q in task x (ID %s):\n%s", region, id, grepLines(parsed, "Region"))
		}
	}
}

func grepLines(s, sub string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestProfileLabels checks that under ProfileLabels a task named x that
// burns CPU shows up under its name in a CPU profile's labels, as go tool
// pprof reads them.
func TestProfileLabels(t *testing.T) {
	leaktest.Check(t)
	l := startLoop(t, aio.ProfileLabels(), aio.Name("labelled"))
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiling is not available: %v", err)
	}
	call(t, l, func(t *aio.Task) (int, error) {
		t.SetName("x")
		return burn(300 * time.Millisecond), nil
	})
	pprof.StopCPUProfile()
	file := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tags := goTool(t, "pprof", "-tags", "-symbolize=none", file)
	if !strings.Contains(tags, "aio.task") || !strings.Contains(tags, " x") || !strings.Contains(tags, "labelled") {
		t.Errorf("the profile's tags do not name task x of loop labelled:\n%s", tags)
	}
}
