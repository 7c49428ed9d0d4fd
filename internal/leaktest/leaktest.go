// Package leaktest forwards to the leak check of internal/testkit, its one
// home. It stays only until the aio package's tests import testkit directly;
// new tests call testkit.Check or testkit.LeakCheck.
package leaktest

import "github.com/threadrunner/threadrunner/internal/testkit"

// Check is [testkit.LeakCheck].
func Check(t testkit.TB) {
	t.Helper()
	testkit.LeakCheck(t)
}
