package cases

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
)

// A Sample is one measurement of one case on one system.
type Sample struct {
	Value  float64 // in the case's unit
	Allocs float64 // heap allocations per operation, the whole process counted; NaN if not measured
	Ops    int     // operations in the measured run
}

// Timed runs op(n) with n calibrated so that the run takes about d, and
// returns the time and allocations per operation of that last run. The
// calibration runs, growing n, warm the system up.
func Timed(d time.Duration, op func(n int) error) (Sample, error) {
	n := 1
	var el time.Duration
	for {
		var err error
		if el, err = timeOp(op, n); err != nil {
			return Sample{}, err
		}
		if el >= d/8 || n >= 1<<30 {
			break
		}
		next := n * 100
		if el > 0 {
			next = min(next, int(float64(n)*float64(d/8)/float64(el)*1.2))
		}
		n = max(next, n*2)
	}
	n = max(1, int(float64(n)*float64(d)/float64(max(el, 1))))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	el, err := timeOp(op, n)
	runtime.ReadMemStats(&after)
	if err != nil {
		return Sample{}, err
	}
	return Sample{
		Value:  float64(el.Nanoseconds()) / float64(n),
		Allocs: float64(after.Mallocs-before.Mallocs) / float64(n),
		Ops:    n,
	}, nil
}

func timeOp(op func(n int) error, n int) (time.Duration, error) {
	start := time.Now()
	err := op(n)
	return time.Since(start), err
}

// Counter returns a func that reports true n times, then false: the "more"
// of [peers.Streamer] and [peers.Spawner] for a run of n operations.
func Counter(n int) func() bool {
	i := 0
	return func() bool {
		if i < n {
			i++
			return true
		}
		return false
	}
}

// SuspendedBytes suspends n tasks with s and returns the memory they hold,
// per task: heap in use plus goroutine stacks, after a collection, while all
// are suspended, less the same before.
func SuspendedBytes(s interface {
	Suspend(n int, measure func()) error
}, n int) (float64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("cases: SuspendedBytes: n = %d; want > 0", n)
	}
	before := liveBytes()
	var during uint64
	if err := s.Suspend(n, func() { during = liveBytes() }); err != nil {
		return 0, err
	}
	return (float64(during) - float64(before)) / float64(n), nil
}

// liveBytes returns the heap and stack memory in use after a full collection.
func liveBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}

// IdleCPU makes warm round trips with call, then measures the CPU time the
// whole process uses over window while nothing is asked of anyone, and
// returns it in milliseconds per second. The first microseconds of the window
// include whatever spinning the system does after its last piece of work.
func IdleCPU(call func() (int, error), warm int, window time.Duration) (float64, error) {
	// Settle what earlier work left to the runtime (a collection, returning
	// freed memory to the system) so that it is not counted as idle CPU.
	debug.FreeOSMemory()
	for range warm {
		if _, err := call(); err != nil {
			return 0, err
		}
	}
	c0, err := processCPU()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(window)
	c1, err := processCPU()
	el := time.Since(t0)
	if err != nil {
		return 0, err
	}
	return float64(c1-c0) / float64(time.Millisecond) / el.Seconds(), nil
}
