package testkit_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

//go:noinline
func hangForWatchdogTest() { select {} }

// TestWatchdogFailsAHungTest re-runs the test binary as a subprocess whose
// test hangs under a short watchdog, and checks that the binary fails with
// the test's name and every goroutine's stack.
func TestWatchdogFailsAHungTest(t *testing.T) {
	out, ok, child := testkit.InSubprocess(t)
	if child {
		testkit.Watchdog(t, 10*time.Millisecond)
		hangForWatchdogTest()
	}
	if ok {
		t.Fatalf("the hung test's binary exited cleanly; want it to fail:\n%s", out)
	}
	if !contains(out, "watchdog: TestWatchdogFailsAHungTest did not end within 10ms", "goroutine ", "hangForWatchdogTest") {
		t.Errorf("the hung test's binary wrote:\n%s\nwant the watchdog's report, naming the test, with the stack of the hung goroutine", out)
	}
}

func TestWatchdogStopsWhenTheTestEnds(t *testing.T) {
	ft := &fakeT{name: "quick"}
	testkit.Watchdog(ft, 20*time.Millisecond)
	ft.cleanup()
	time.Sleep(40 * time.Millisecond) // a fired watchdog would end the binary; not asserted otherwise
}

func TestCheckRegistersWatchdogThenLeakCheck(t *testing.T) {
	ft := &fakeT{name: "checked"}
	testkit.Check(ft)
	if len(ft.cleanups) != 2 {
		t.Fatalf("Check registered %d cleanups; want 2, the watchdog's and the leak check's", len(ft.cleanups))
	}
	ft.cleanup()
	if len(ft.errors)+len(ft.fatals) != 0 {
		t.Errorf("Check of a test that started nothing reported %q %q; want nothing", ft.errors, ft.fatals)
	}
}
