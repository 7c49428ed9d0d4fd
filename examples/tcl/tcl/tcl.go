// Package tcl runs Tcl 8.6 interpreters on threadrunner loops: the example
// of a real thread-affine C library hosted by the aio loop.
//
// A Tcl interpreter may be used only by the thread that created it, and Tcl
// keeps its timers, file events and event queue per thread. So an [Interp]
// is an aio.Resource: [Interpreter]'s Enter creates it on the loop's thread,
// every [Interp.Eval] runs there, and Exit deletes it there. Any goroutine
// evaluates scripts through threadrunner.Run; they run one at a time, on that
// one thread, with no lock.
//
//	r := threadrunner.New()
//	defer r.Close()
//	in, err := threadrunner.Keep(ctx, r, tcl.Interpreter())
//	v, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) {
//		return in.Eval(t, "expr {6 * 7}")
//	})
//
// # Events
//
// Tcl's notifier is replaced (Tcl_SetNotifier) by one that the aio loop
// drives: Tcl's timer is a task sleeping on the loop's timers
// ([aio.Select] with [aio.After]), each file handler (fileevent) a task
// waiting in [aio.WaitReadable] or [aio.WaitWritable], and both service
// Tcl's events (Tcl_ServiceAll) on the loop, between other tasks. So `after`, `fileevent` and Go commands that fire later work
// without any task waiting for them, and an idle interpreter, pending
// timers included, costs no CPU. A nested event loop (vwait, update) runs
// inside the script that calls it, blocking the loop's thread until its
// event comes, as any blocking call in a task does; a vwait with nothing
// that could ever end it fails at once ("would wait forever").
//
// # Loading
//
// Package tcl needs cgo, but not Tcl's headers: it opens libtcl8.6 at run
// time (dlopen), so that a module that imports it builds on any machine,
// and [Load] says whether Tcl is there. It works on Linux. Tcl 9.1 no
// longer lets a host replace its notifier (Tcl_SetNotifier panics there),
// so it is Tcl 8.6 that this package loads.
//
// # Cancellation
//
// A script runs inside one task step: the end of the caller's context does
// not interrupt it (Tcl_CancelEval could; this package does not use it), so
// a script that loops, or a vwait for an event that never comes, holds the
// loop until it returns, and the Run that started it waits for it.
package tcl

import "errors"

// ErrUnavailable is what [Load], and an [Interpreter]'s Enter, return where
// libtcl8.6 cannot be loaded (or the platform or a build without cgo cannot
// load it); the message says why. It may be wrapped; test with errors.Is.
var ErrUnavailable = errors.New("tcl: libtcl8.6 is not available")

// An Error is a Tcl error raised by a script: its message, and Tcl's
// errorInfo (the message and the Tcl stack trace).
type Error struct {
	Msg  string
	Info string
}

// Error returns the message, prefixed with "tcl: ".
func (e *Error) Error() string { return "tcl: " + e.Msg }
