package aio_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestOptionsRefused checks that options that conflict or are out of range
// are refused, not silently overridden: the loop refuses all work with an
// error saying why, and Serve, Close and Run return it.
func TestOptionsRefused(t *testing.T) {
	testkit.Check(t)
	tests := []struct {
		name string
		give []aio.Option
		want string
	}{
		{"Workers(0)", []aio.Option{aio.Workers(0)}, "Workers(0)"},
		{"Spin(-1)", []aio.Option{aio.Spin(-1)}, "Spin(-1ns)"},
		{"ParkInRuntime and Spin", []aio.Option{aio.ParkInRuntime(), aio.Spin(time.Millisecond)}, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, aio.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s = %v; want ErrInvalid saying %q", what, err, tt.want)
				}
			}
			l := aio.NewLoop(tt.give...)
			check("Serve()", l.Serve())
			_, err := aio.Call(testkit.Context(t), l, func(*aio.Task) (int, error) { return 1, nil })
			check("Call()", err)
			_, err = aio.Spawn(testkit.Context(t), l, func(*aio.Task) (int, error) { return 1, nil }).Wait(testkit.Context(t))
			check("Spawn().Wait()", err)
			check("Post()", l.Post(func() {}))
			check("Close()", l.Close())
			_, err = aio.Run(testkit.Context(t), func(*aio.Task) (int, error) { return 1, nil }, tt.give...)
			check("Run()", err)
		})
	}
	// Spin(0) with ParkInRuntime agrees with it.
	l := startLoop(t, aio.ParkInRuntime(), aio.Spin(0))
	if got := call(t, l, func(*aio.Task) (int, error) { return 2, nil }); got != 2 {
		t.Errorf("Call() with ParkInRuntime and Spin(0) = %d; want 2", got)
	}
}

func TestLoggerOption(t *testing.T) {
	testkit.Check(t)
	logger := new(testkit.LogSink).Logger()
	l := startLoop(t, aio.Logger(logger))

	if l.Logger() != logger {
		t.Errorf("Logger() = %p; want the logger given with aio.Logger, %p", l.Logger(), logger)
	}
	if def := startLoop(t, aio.Logger(nil)); def.Logger() == nil {
		t.Errorf("Logger() with aio.Logger(nil) = nil; want the default logger")
	}
}
