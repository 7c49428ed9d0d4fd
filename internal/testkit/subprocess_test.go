package testkit_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestInSubprocess(t *testing.T) {
	out, ok, child := testkit.InSubprocess(t, "TESTKIT_TEST_VALUE=given")
	if child {
		// The child: it sees the environment it was given, and its output
		// reaches the parent.
		fmt.Printf("child saw %q\n", os.Getenv("TESTKIT_TEST_VALUE"))
		return
	}
	if !ok || !contains(out, `child saw "given"`, "--- PASS: TestInSubprocess") {
		t.Errorf("InSubprocess() = %q, %v; want the child's output and a clean exit", out, ok)
	}
}

func TestInSubprocessReportsAFailure(t *testing.T) {
	out, ok, child := testkit.InSubprocess(t)
	if child {
		t.Error("the child fails")
		return
	}
	if ok || !contains(out, "the child fails", "--- FAIL: TestInSubprocessReportsAFailure") {
		t.Errorf("InSubprocess() of a failing child = %q, %v; want its output and not ok", out, ok)
	}
}

func TestPassInSubprocess(t *testing.T) {
	out, child := testkit.PassInSubprocess(t)
	if child {
		fmt.Println("in the child")
		return
	}
	if !contains(out, "in the child") {
		t.Errorf("PassInSubprocess() = %q; want the child's output", out)
	}
}

func TestPassInSubprocessReportsAFailure(t *testing.T) {
	ft := &fakeT{name: t.Name()}
	if _, child := testkit.PassInSubprocess(ft, "TESTKIT_TEST_VALUE=given"); child {
		t.Error("the child fails")
		return
	}
	if len(ft.fatals) != 1 || !contains(ft.fatals[0], "TestPassInSubprocessReportsAFailure failed in a subprocess with TESTKIT_TEST_VALUE=given", "the child fails") {
		t.Errorf("PassInSubprocess() of a failing child reported %q; want one fatal error with the child's output", ft.fatals)
	}
}
