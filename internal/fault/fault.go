// Package fault is the one place where threadrunner calls user code that may
// fail in any of the three ways Go has: return, panic (panic(nil)
// included), or runtime.Goexit. Packages aio and threadrunner call user
// code only through Catch, and log what nobody can receive through Log.
package fault

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
)

// Catch calls fn and reports whether it panicked, with the value and the
// panicking goroutine's stack. A panic(nil) counts: recover returns nil for
// it under GODEBUG=panicnil=1, but stops it all the same. A runtime.Goexit
// cannot be stopped: Catch then calls goexit, if not nil, from a deferred
// function while the goroutine unwinds, and does not return.
//
// It tells the three apart as iter.Pull and singleflight do: the inner
// function's deferred recover stops a panic, so control comes back to
// Catch; during a Goexit it does not, and only the outer deferred call runs.
func Catch(fn func(), goexit func()) (value any, stack []byte, panicked bool) {
	returned, recovered := false, false
	defer func() {
		if !returned && !recovered && goexit != nil {
			goexit()
		}
	}()
	func() {
		defer func() {
			if !returned {
				value, stack = recover(), debug.Stack()
			}
		}()
		fn()
		returned = true
	}()
	recovered = !returned
	return value, stack, recovered
}

// Log logs a record through logger from the calling goroutine. A logger
// whose handler panics does not take the caller down: the record and the
// handler's panic go to standard error instead. A Goexit in the handler goes
// on in the caller, which must be ready for it.
func Log(logger *slog.Logger, level slog.Level, msg string, args ...any) {
	value, stack, panicked := Catch(func() { logger.Log(context.Background(), level, msg, args...) }, nil)
	if panicked {
		fmt.Fprintf(os.Stderr, "threadrunner: the Logger panicked (%v) while logging: %s %v\n%s\n", value, msg, args, stack)
	}
}
