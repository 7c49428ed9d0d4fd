package testkit_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestLogSinkKeepsRecords(t *testing.T) {
	var sink testkit.LogSink
	logger := slog.New(&sink)
	logger.Debug("quiet", "n", 1)
	logger.With("loop", "main").WithGroup("task").Warn("slow", "name", "t1", slog.Group("step", "held", "2ms"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { sink.Logger().Info("concurrent") })
	}
	wg.Wait()

	records := sink.Records()
	if len(records) != 6 {
		t.Fatalf("Records() = %v; want 6 records", records)
	}
	if r := records[0]; r.Level != slog.LevelDebug || r.Message != "quiet" || r.Attrs["n"] != "1" {
		t.Errorf("first record = %+v; want the debug record with n=1", r)
	}
	want := map[string]string{"loop": "main", "task.name": "t1", "task.step.held": "2ms"}
	r := records[1]
	if r.Level != slog.LevelWarn || r.Message != "slow" || len(r.Attrs) != len(want) {
		t.Errorf("second record = %+v; want the warning with attributes %v", r, want)
	}
	for k, v := range want {
		if r.Attrs[k] != v {
			t.Errorf("second record's %s = %q; want %q", k, r.Attrs[k], v)
		}
	}
	if found := sink.Find("slow", "task.name", "t"); len(found) != 1 {
		t.Errorf("Find(slow, task.name, t) = %v; want the warning", found)
	}
	if found := sink.Find("slow", "task.name", "t2"); len(found) != 0 {
		t.Errorf("Find(slow, task.name, t2) = %v; want none", found)
	}
	text := sink.String()
	if lines := strings.Count(text, "\n"); lines != 6 {
		t.Errorf("String() has %d lines; want 6:\n%s", lines, text)
	}
	if !contains(text, `level=WARN msg=slow loop=main task.name=t1 task.step.held=2ms`, "level=DEBUG msg=quiet n=1") {
		t.Errorf("String() = %q; want the records as slog's text handler writes them", text)
	}
}
