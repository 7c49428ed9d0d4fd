package testkit

import "io"

// CloseAtEnd registers a cleanup that closes c when t ends and fails t if
// Close returns an error: what a test does with the runner or loop it makes.
// Call [Check] before it, so that the leak check runs after the Close.
func CloseAtEnd(t TB, c io.Closer) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
}
