package aio

import (
	"syscall"
	"time"
	"unsafe"
)

const haveFutex = true

const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// futexWait sleeps while *addr == val, until futexWake or, if timeout >= 0,
// until timeout passes. It may return early; callers re-check their condition.
// It enters the kernel through syscall.Syscall6, so the runtime knows the
// thread blocks and can hand its P to other goroutines.
func futexWait(addr *uint32, val uint32, timeout time.Duration) {
	if timeout < 0 {
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(val), 0, 0, 0)
		return
	}
	ts := syscall.NsecToTimespec(int64(timeout))
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWake wakes up to n threads sleeping in futexWait on addr. It never
// blocks, so it skips the runtime's syscall bookkeeping.
func futexWake(addr *uint32, n int) {
	syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakePrivate, uintptr(n), 0, 0, 0)
}

// osYield gives the CPU to another thread that waits for it, if any
// (sched_yield): a spinning thread calls it now and then, so that when the
// thread it waits for shares its CPU (a loaded machine, a CPU set), that
// thread gets to run.
func osYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
