package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// childEnv marks a run of the test binary as the child that runs the example.
const childEnv = "THREADRUNNER_EXAMPLE_MAINTHREAD_CHILD"

// TestMain runs on the main goroutine, which package mainthread's init has
// locked to the main thread: in the child process, it runs the example there,
// as main does. mainthread.Run cannot run inside a test function, whose
// goroutine is not the main one.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := run(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "mainthread:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestMainThread(t *testing.T) {
	testkit.Check(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainThread$")
	// With -race, a process sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("example run = %v; want nil\nstdout:\n%s\nstderr:\n%s", err, out, &stderr)
	}
	pid := cmd.Process.Pid
	got := string(out)

	// Every task reports the thread it ran on: the child's main thread,
	// whose id is the child's process id as this process sees it.
	tasks := regexp.MustCompile(`task \d+ ran on thread (\d+)`).FindAllStringSubmatch(got, -1)
	if len(tasks) != 3 {
		t.Fatalf("example reported %d tasks; want 3\noutput:\n%s", len(tasks), got)
	}
	for _, m := range tasks {
		if m[1] != fmt.Sprint(pid) {
			t.Errorf("a task ran on thread %s; want %d, the main thread\noutput:\n%s", m[1], pid, got)
		}
	}
	fn := regexp.MustCompile(`fn runs on another goroutine, on thread (\d+)`).FindStringSubmatch(got)
	if fn == nil || fn[1] == fmt.Sprint(pid) {
		t.Errorf("fn's thread = %v; want a thread other than the main thread %d\noutput:\n%s", fn, pid, got)
	}
	if want := "errors.Is ErrNotMainThread: true"; !strings.Contains(got, want) {
		t.Errorf("example output does not mention %q; output:\n%s", want, got)
	}
}
