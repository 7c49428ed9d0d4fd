//go:build !linux

package aio_test

// haveThreadIDs reports whether threadID and Loop.ThreadID tell threads
// apart here.
const haveThreadIDs = false

// threadID returns 0: without a cheap thread id, Loop.ThreadID is 0 too, and
// thread affinity is not checked.
func threadID() int { return 0 }
