//go:build !linux

package js_test

// threadID returns 0: this system offers no cheap thread id, and the tests
// that compare them see equal ids.
func threadID() int { return 0 }
