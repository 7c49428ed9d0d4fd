package js_test

import "syscall"

// threadID returns the calling OS thread's id.
func threadID() int { return syscall.Gettid() }
