package testkit

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// subprocessEnv marks a run of the test binary by [InSubprocess]; its value
// is the name of the test the child runs.
const subprocessEnv = "TESTKIT_SUBPROCESS"

// InSubprocess runs the calling test again in a child process (the test
// binary, with -test.run naming only that test and -test.v), with env added
// to its environment, and returns what the child printed and whether it
// exited cleanly. In the child itself it returns child = true at once, and the
// caller then does the risky part: a regression that kills the process, or a
// fatal runtime error the test means to show, then fails (or passes) the
// parent's test instead of ending the whole binary. The child is bounded by
// [Timeout]; under the race detector it skips the detector's one-second sleep
// at exit.
//
//	if out, ok, child := testkit.InSubprocess(t, "GODEBUG=panicnil=1"); !child {
//		... check ok and out, e.g. for "--- PASS" ...
//		return
//	}
//	... the risky part ...
func InSubprocess(t TB, env ...string) (out string, ok, child bool) {
	t.Helper()
	if os.Getenv(subprocessEnv) == t.Name() {
		return "", false, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v")
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(append(os.Environ(), subprocessEnv+"="+t.Name(), "GORACE="+race), env...)
	b, err := cmd.CombinedOutput()
	return string(b), err == nil, false
}
