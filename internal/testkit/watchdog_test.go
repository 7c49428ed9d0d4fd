package testkit_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// hungEnv makes TestWatchdogFailsAHungTest play the hung test, in the
// subprocess it starts.
const hungEnv = "TESTKIT_HUNG_TEST"

//go:noinline
func hangForWatchdogTest() { select {} }

// TestWatchdogFailsAHungTest re-runs the test binary as a subprocess whose
// test hangs under a short watchdog, and checks that the binary fails with
// the test's name and every goroutine's stack.
func TestWatchdogFailsAHungTest(t *testing.T) {
	if os.Getenv(hungEnv) != "" {
		testkit.Watchdog(t, 10*time.Millisecond)
		hangForWatchdogTest()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogFailsAHungTest$", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), hungEnv+"=1")
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("the hung test's binary ended with %v; want it to fail:\n%s", err, out)
	}
	if !contains(string(out), "watchdog: TestWatchdogFailsAHungTest did not end within 10ms", "goroutine ", "hangForWatchdogTest") {
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
