//go:build !linux

package mainthread

// onMainThread cannot be checked cheaply here; the init lock keeps the main
// goroutine on the main thread, so Run trusts its caller.
func onMainThread() bool { return true }
