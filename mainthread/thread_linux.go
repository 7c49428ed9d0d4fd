package mainthread

import (
	"os"
	"syscall"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// onMainThread reports whether the caller is the main goroutine on the
// process's main thread, whose thread id is the process id on Linux.
func onMainThread() bool { return goid.Get() == 1 && syscall.Gettid() == os.Getpid() }
