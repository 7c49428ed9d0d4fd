//go:build !linux

package testkit

// HaveThreadIDs reports whether [ThreadID] tells OS threads apart here.
const HaveThreadIDs = false

// ThreadID returns 0: without a cheap thread id, thread affinity is not
// checked on this system.
func ThreadID() int { return 0 }
