package aio

import "syscall"

// threadID returns the calling OS thread's id, or 0 where the system has none
// to offer cheaply.
func threadID() int { return syscall.Gettid() }
