//go:build !linux

package mainthread

import "github.com/threadrunner/threadrunner/internal/goid"

// onMainThread reports whether the caller is the main goroutine (id 1),
// which this package's init locked to the main thread.
func onMainThread() bool { return goid.Get() == 1 }
