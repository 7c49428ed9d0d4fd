package mainthread_test

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/mainthread"
)

// threadID returns the calling OS thread's id.
func threadID() int { return syscall.Gettid() }

// mainThreadID returns the id of the process's main thread, which on Linux
// is the process id.
func mainThreadID() int { return os.Getpid() }

func TestRunOffTheMainThread(t *testing.T) {
	testkit.Check(t)
	called := false
	fn := func(*threadrunner.Runner) error {
		called = true
		return nil
	}
	if err := mainthread.Run(fn); !errors.Is(err, mainthread.ErrNotMainThread) {
		t.Errorf("Run() from a test goroutine = %v; want %v", err, mainthread.ErrNotMainThread)
	}
	// Even a goroutine locked to its thread is not the main one.
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- mainthread.Run(fn)
	}()
	if err := <-done; !errors.Is(err, mainthread.ErrNotMainThread) {
		t.Errorf("Run() from a locked goroutine = %v; want %v", err, mainthread.ErrNotMainThread)
	}
	if called {
		t.Error("Run() off the main thread called fn; want it refused")
	}
}
