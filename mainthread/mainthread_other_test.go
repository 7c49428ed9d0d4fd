//go:build !linux

package mainthread_test

// threadID and mainThreadID return 0 where there is no cheap thread id:
// there the tests cannot tell threads apart, and their thread checks hold
// trivially.
func threadID() int     { return 0 }
func mainThreadID() int { return 0 }
