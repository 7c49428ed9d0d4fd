// Package mainthread runs a threadrunner loop on the process's main OS thread,
// for libraries that must be called from it: Cocoa and AppKit on macOS, GLFW,
// SDL, and other GUI toolkits.
//
// Importing the package locks the main goroutine to the main thread in init,
// so only programs that import it pay for that. Call [Run] from main:
//
//	func main() {
//		err := mainthread.Run(func(r *threadrunner.Runner) error {
//			_, err := threadrunner.Run(ctx, r, func(t *aio.Task) (struct{}, error) {
//				return struct{}{}, glfw.Init() // on the main thread
//			})
//			return err
//		})
//		...
//	}
package mainthread

import (
	"errors"
	"runtime"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

func init() {
	// Keep the main goroutine on the main thread until Run serves the loop
	// there. The Go runtime starts main on the main thread; this lock keeps
	// it there, as the runtime documentation for LockOSThread suggests.
	runtime.LockOSThread()
}

// ErrNotMainThread is returned by [Run] when it is not called on the main
// thread, where it could not give the loop that thread.
var ErrNotMainThread = errors.New("mainthread: Run must be called from the main goroutine")

// Run runs a runner's loop on the calling goroutine, which must be the main
// goroutine (on the main OS thread), and fn on another goroutine with that
// runner. When fn returns, Run closes the runner, waits for the loop to stop,
// and returns errors.Join(fn's error, Close's error). If fn panics, the runner
// is closed and the panic goes on in the main goroutine. opts configure the
// loop; [aio.Unpinned] contradicts the point, the thread, and is refused
// (errors.Is [aio.ErrInvalid]) before fn runs. A task that
// calls runtime.Goexit does not end the main goroutine: its coroutine is left
// parked, and logged, when the loop stops.
func Run(fn func(r *threadrunner.Runner) error, opts ...aio.Option) error {
	if fn == nil {
		return errs.Invalid("mainthread: Run: nil function")
	}
	if !onMainThread() {
		return ErrNotMainThread
	}
	l := aio.NewLoop(opts...)
	if !l.Pinned() {
		l.Close()
		return errs.Invalid("mainthread: Run: option Unpinned: the loop must hold the main thread")
	}
	r := threadrunner.FromLoop(l)
	var (
		fnErr, closeErr error
		panicked        any
		done            = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer func() {
			panicked = recover()
			closeErr = r.Close()
		}()
		fnErr = fn(r)
	}()
	l.Serve()
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return errors.Join(fnErr, closeErr)
}
