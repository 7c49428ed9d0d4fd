package aio_test

import "syscall"

// haveThreadIDs reports whether threadID and Loop.ThreadID tell threads
// apart here.
const haveThreadIDs = true

// threadID returns the calling OS thread's id.
func threadID() int { return syscall.Gettid() }
