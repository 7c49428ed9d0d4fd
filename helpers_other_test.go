//go:build !linux

package threadrunner_test

// threadID returns 0: without a cheap thread id, thread affinity is not
// checked here.
func threadID() int { return 0 }
