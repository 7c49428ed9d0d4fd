package testkit

import "syscall"

// HaveThreadIDs reports whether [ThreadID] tells OS threads apart here.
const HaveThreadIDs = true

// ThreadID returns the calling OS thread's id (syscall.Gettid).
func ThreadID() int { return syscall.Gettid() }
