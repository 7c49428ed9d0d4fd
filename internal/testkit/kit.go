// Package testkit holds what the tests of every package share: a leak check,
// a watchdog that fails a hung test with every goroutine's stack, bounded
// waits and test contexts, a close-at-the-end cleanup, panic and Goexit
// catchers, error-tree checks, an slog handler that records, an ordered event
// log, and the calling thread's id.
//
// # Use
//
// A test that starts a loop calls [Check] first: its cleanup, which runs
// after every other, fails the test if a goroutine it started is still
// running, and a watchdog fails it with every goroutine's stack if it hangs.
// Waits that the code under test could make hang go through [Await],
// [WaitFor] or a [Context], bounded by [Timeout]; the time they take is never
// what a test asserts.
//
// The kit does not import package testing: it takes a [TB], which *testing.T,
// *testing.B and *testing.F satisfy, so that non-test code (the stress
// generator and the soak command) may use its recorders and catchers too. It
// imports neither threadrunner nor aio, so the tests of both may use it.
package testkit

// TB is the part of testing.TB the kit uses.
type TB interface {
	Helper()
	Name() string
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Check registers a [Watchdog] of [WatchdogTimeout] and a [LeakCheck] for t,
// in that order, so that the leak check runs after every cleanup the test
// registers later and the watchdog covers those cleanups too. Call it first in
// every test that starts a loop.
func Check(t TB) {
	t.Helper()
	Watchdog(t, WatchdogTimeout)
	LeakCheck(t)
}
