package testkit_test

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// fakeT is a testkit.TB that records what the kit reports, for checking the
// kit's failure paths without failing the test that checks them.
type fakeT struct {
	name     string
	errors   []string
	fatals   []string
	cleanups []func()
	restore  time.Duration // a setting to put back, for the test's own use
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Name() string      { return f.name }
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, a ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, a...))
}
func (f *fakeT) Fatalf(format string, a ...any) {
	f.fatals = append(f.fatals, fmt.Sprintf(format, a...))
}

// cleanup runs the registered cleanups, last registered first, as testing
// does.
func (f *fakeT) cleanup() {
	for _, fn := range slices.Backward(f.cleanups) {
		fn()
	}
	f.cleanups = nil
}

// contains reports whether s contains every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
