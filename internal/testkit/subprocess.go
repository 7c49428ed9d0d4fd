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

// PassInSubprocess is [InSubprocess] for a test whose child must pass: in the
// parent it fails t, with the child's output, unless the child exited cleanly
// and reported the test passed, and returns the output for any further
// checks; in the child it returns child = true at once.
//
//	out, child := testkit.PassInSubprocess(t, "GODEBUG=panicnil=1")
//	if !child {
//		... further checks of out, if any ...
//		return
//	}
//	... the risky part ...
func PassInSubprocess(t TB, env ...string) (out string, child bool) {
	t.Helper()
	out, ok, child := InSubprocess(t, env...)
	if !child && (!ok || !strings.Contains(out, "--- PASS: "+t.Name())) {
		with := ""
		if len(env) > 0 {
			with = " with " + strings.Join(env, " ")
		}
		t.Fatalf("testkit: %s failed in a subprocess%s, or the subprocess died:\n%s", t.Name(), with, out)
	}
	return out, child
}
