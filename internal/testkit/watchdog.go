package testkit

import (
	"fmt"
	"os"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// WatchdogTimeout is how long [Check] lets a test run before its watchdog
// fires. A healthy test ends long before it.
var WatchdogTimeout = 2 * time.Minute

// Watchdog fails t's test binary, with every goroutine's stack, if t has not
// ended d from now. A hung test cannot be ended from another goroutine, so the
// watchdog writes its report to standard error and panics, which ends the
// binary and fails the package, rather than leaving it to go test's -timeout
// ten minutes later. It costs a timer, not a goroutine, until it fires.
func Watchdog(t TB, d time.Duration) {
	t.Helper()
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		fmt.Fprintf(os.Stderr, "testkit: watchdog: %s did not end within %v; goroutines:\n\n%s\n", name, d, goid.Stacks())
		panic(fmt.Sprintf("testkit: watchdog: %s did not end within %v", name, d))
	})
	t.Cleanup(func() { timer.Stop() })
}
