// panic(nil) is tested in its hardest form: under panicnil=1, recover
// returns nil for it, as it does when nothing panicked. (Under the default,
// panic(nil) is a *runtime.PanicNilError, a panic like any other; aio's
// TestPanicNil covers that.)
//
//go:debug panicnil=1

package fault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestCatch(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name       string
		fn         func()
		panicked   bool
		value      any
		stackHolds string
	}{
		{name: "returns", fn: func() {}},
		{name: "panics with a value", fn: func() { panic("v") }, panicked: true, value: "v", stackHolds: "TestCatch"},
		{name: "panics with an error", fn: func() { panic(boom) }, panicked: true, value: boom, stackHolds: "TestCatch"},
		{name: "panic(nil) under panicnil=1", fn: func() { panic(nil) }, panicked: true, value: nil, stackHolds: "TestCatch"},
		{name: "panics in a deferred call", fn: func() { defer func() { panic("late") }() }, panicked: true, value: "late"},
	} {
		t.Run(c.name, func(t *testing.T) {
			goexits := 0
			value, stack, panicked := Catch(c.fn, func() { goexits++ })
			if panicked != c.panicked || value != c.value {
				t.Fatalf("Catch() = %v, panicked %v; want %v, %v", value, panicked, c.value, c.panicked)
			}
			if goexits != 0 {
				t.Errorf("goexit called %d times; want 0 (fn did not Goexit)", goexits)
			}
			if !panicked && stack != nil {
				t.Errorf("stack = %q; want nil when fn returned", stack)
			}
			if !strings.Contains(string(stack), c.stackHolds) {
				t.Errorf("stack does not hold %q:\n%s", c.stackHolds, stack)
			}
		})
	}
}

// A Goexit cannot be stopped: Catch calls goexit as the goroutine unwinds
// and never returns; the fn's own deferred calls run first.
func TestCatchGoexit(t *testing.T) {
	for _, withGoexit := range []bool{true, false} {
		var order []string
		returned := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			var goexit func()
			if withGoexit {
				goexit = func() { order = append(order, "goexit") }
			}
			Catch(func() {
				defer func() { order = append(order, "fn's defer") }()
				runtime.Goexit()
			}, goexit)
			returned = true
		}()
		<-done
		want := "fn's defer"
		if withGoexit {
			want += " goexit"
		}
		if got := strings.Join(order, " "); got != want || returned {
			t.Errorf("goexit func given %v: order %q, Catch returned %v; want %q, false", withGoexit, got, returned, want)
		}
	}
}

// A panic in fn that a deferred call of fn turns into a Goexit is a
// Goexit.
func TestCatchPanicThenGoexit(t *testing.T) {
	goexited, returned := false, false
	done := make(chan struct{})
	go func() {
		defer close(done)
		Catch(func() {
			defer runtime.Goexit()
			panic("then goexit")
		}, func() { goexited = true })
		returned = true
	}()
	<-done
	if !goexited || returned {
		t.Errorf("goexit called %v, Catch returned %v; want true, false", goexited, returned)
	}
}

// A Goexit during which one of fn's deferred calls panics is still a
// Goexit: the panic is stopped, the Goexit goes on.
func TestCatchGoexitThenPanic(t *testing.T) {
	goexits, returned := 0, false
	done := make(chan struct{})
	go func() {
		defer close(done)
		Catch(func() {
			defer func() { panic("late") }()
			runtime.Goexit()
		}, func() { goexits++ })
		returned = true
	}()
	<-done
	if goexits != 1 || returned {
		t.Errorf("goexit called %d times, Catch returned %v; want 1, false", goexits, returned)
	}
}

type panickingHandler struct{ slog.Handler }

func (panickingHandler) Handle(context.Context, slog.Record) error { panic("handler boom") }

// Log survives a handler that panics: the record goes to standard error.
func TestLog(t *testing.T) {
	var buf bytes.Buffer
	Log(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelWarn, "hello", "k", 1)
	if got := buf.String(); !strings.Contains(got, "level=WARN msg=hello k=1") {
		t.Errorf("logged %q; want the record", got)
	}

	stderr := captureStderr(t, func() {
		Log(slog.New(panickingHandler{slog.NewTextHandler(io.Discard, nil)}), slog.LevelError, "lost?", "k", 2)
	})
	for _, want := range []string{"the Logger panicked (handler boom)", "lost?", "[k 2]", "TestLog"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("standard error does not hold %q:\n%s", want, stderr)
		}
	}
}

// captureStderr runs fn with os.Stderr going to a pipe and returns what it
// wrote.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	fn()
	os.Stderr = saved
	w.Close()
	out := <-read
	r.Close()
	return out
}
