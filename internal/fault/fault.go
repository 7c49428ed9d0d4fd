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
// Catch; during a Goexit it stops nothing, control never comes back, and
// the outer deferred call sees that. A panic raised by one of fn's deferred
// calls while fn Goexits is stopped by the inner recover and then lost: the
// Goexit goes on, and the goroutine was exiting anyway.
//
// Its two frames are small on purpose: a task's coroutine sits under them
// whenever it is suspended, and the Go runtime sizes new goroutines' stacks
// from the average depth of those it scans, so every byte here is paid by
// each suspended task (100,000 of them hold 2 KB each rather than 4 KB).
func Catch(fn func(), goexit func()) (value any, stack []byte, panicked bool) {
	returned := false
	defer func() {
		if !returned && goexit != nil {
			goexit()
		}
	}()
	c := recoverFrom(fn)
	returned = true
	if c == nil {
		return nil, nil, false
	}
	return c.value, c.stack, true
}

// caught is what recoverFrom stopped: a panic's value and stack.
type caught struct {
	value any
	stack []byte
}

// recoverFrom calls fn and returns nil if it returned, or what it panicked
// with. During a Goexit its deferred call runs too, but it cannot stop it,
// and what it returns is never seen.
func recoverFrom(fn func()) (c *caught) {
	returned := false
	defer func() {
		if !returned {
			c = &caught{recover(), debug.Stack()}
		}
	}()
	fn()
	returned = true
	return nil
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
