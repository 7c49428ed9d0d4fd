//go:build linux && cgo

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestCallbackNoAwait checks aio.NoAwait with a real cgo callback: the C
// library calls Go back on the loop's thread; an await there panics with
// NoAwait's message, which unwinds through the C frames to the task, and
// the loop serves on.
func TestCallbackNoAwait(t *testing.T) {
	testkit.Check(t)
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
	out, ok, child := testkit.InSubprocess(t)
	if child {
		r := threadrunner.New()
		threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) {
			defer func() { recover() }()
			visit(1, func(int) { aio.Sleep(t, time.Millisecond) })
			return 0, nil
		})
		fmt.Println("survived")
		return
	}
	if ok || strings.Contains(out, "survived") || !strings.Contains(out, "fatal error") {
		t.Errorf("an await in a cgo callback without NoAwait: exited cleanly %v, output:\n%s\nwant the process to die of a fatal error", ok, out)
	}
}
