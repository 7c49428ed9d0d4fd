//go:build linux && cgo

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// TestCallbackNoAwait checks aio.NoAwait with a real cgo callback: the C
// library calls Go back on the loop's thread; an await there panics with
// NoAwait's message, which unwinds through the C frames to the task, and
// the loop serves on.
func TestCallbackNoAwait(t *testing.T) {
	leaktest.Check(t)
	r := threadrunner.New()
	defer r.Close()
	ctx := context.Background()
	got, err := threadrunner.Run(ctx, r, func(t *aio.Task) ([]int, error) {
		var vs []int
		aio.NoAwait(t, func() { visit(3, func(v int) { vs = append(vs, v) }) })
		return vs, nil
	})
	if err != nil || !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("callbacks without awaits saw %v, %v; want [1 2 3]", got, err)
	}
	msg, err := threadrunner.Run(ctx, r, func(t *aio.Task) (p string, err error) {
		defer func() { p = fmt.Sprint(recover()) }()
		aio.NoAwait(t, func() {
			visit(2, func(int) { aio.Sleep(t, time.Millisecond) })
		})
		return "no panic", nil
	})
	if err != nil || !strings.Contains(msg, "inside NoAwait") {
		t.Errorf("an await in a cgo callback under NoAwait: %q, %v; want NoAwait's panic", msg, err)
	}
	if v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return 1, aio.Sleep(t, 0) }); v != 1 || err != nil {
		t.Errorf("Run() afterwards = %v, %v; want the loop serving", v, err)
	}
}

// TestCallbackAwaitWithoutNoAwaitIsFatal shows why NoAwait exists: without
// it, an await inside a cgo callback is a fatal runtime error that no
// recover catches. It runs in a subprocess, which must die.
func TestCallbackAwaitWithoutNoAwaitIsFatal(t *testing.T) {
	if os.Getenv("CGOCOUNTER_CHILD") == "1" {
		r := threadrunner.New()
		threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) {
			defer func() { recover() }()
			visit(1, func(int) { aio.Sleep(t, time.Millisecond) })
			return 0, nil
		})
		fmt.Println("survived")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCallbackAwaitWithoutNoAwaitIsFatal$")
	cmd.Env = append(os.Environ(), "CGOCOUNTER_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "survived") || !strings.Contains(string(out), "fatal error") {
		t.Errorf("an await in a cgo callback without NoAwait: exit %v, output:\n%s\nwant the process to die of a fatal error", err, out)
	}
}
