//go:build !linux

package aio

import (
	"runtime"
	"time"
)

const haveFutex = false

func futexWait(addr *uint32, val uint32, timeout time.Duration) {
	panic("aio: no futex on this system")
}
func futexWake(addr *uint32, n int) { panic("aio: no futex on this system") }

// osYield lets other goroutines run; there is no portable thread yield.
func osYield() { runtime.Gosched() }
