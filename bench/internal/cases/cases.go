// Package cases defines the measurements the report runs on every system
// that has an equivalent: the same code path as the go test benchmarks, timed
// by a calibrated run instead of testing.B.
package cases

import (
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// Units of the cases' values.
const (
	NsPerOp     = "ns/op"
	ItemsPerSec = "items/s"
	BytesPerTsk = "bytes/task"
	CPUMsPerSec = "cpu-ms/s"
)

// Config sizes the cases.
type Config struct {
	Duration   time.Duration // target length of one timed run
	Callers    int           // concurrent callers of the "run-8" case
	SleepTasks int           // concurrent sleepers of the "sleep" case
	SleepMax   time.Duration // sleeps are random in [0, SleepMax)
	SuspendN   int           // tasks of the "suspend" case
	PendingN   int           // goroutines awaiting a promise in the "js-pending" case
	IdleWindow time.Duration // idle time measured by the "idle" case
}

// DefaultConfig is the report's default sizing.
func DefaultConfig() Config {
	return Config{
		Duration:   150 * time.Millisecond,
		Callers:    8,
		SleepTasks: 1000,
		SleepMax:   100 * time.Microsecond,
		SuspendN:   100_000,
		PendingN:   10_000,
		IdleWindow: time.Second, // the target's definition: CPU over an idle second
	}
}

// A Case is one thing measured on every system that has an equivalent.
type Case struct {
	Name         string // short id, as in the benchmark names
	Title        string // what it measures, for the table
	Unit         string
	HigherBetter bool
	// NaiveRef and ChanRef name the case whose naive-locked and
	// chan-unlocked values are this case's references ("" for none).
	NaiveRef, ChanRef string
	// Applies reports whether peer p has an equivalent of the case.
	Applies func(p peers.Peer) bool
	// Measure measures sys, or reports false if sys has no equivalent.
	Measure func(sys peers.System, cfg Config) (Sample, bool, error)
}

// All returns the cases in report order: the callback cases, then the
// JavaScript cases (js.go) last.
func All() []Case {
	return append([]Case{
		{Name: "run", Applies: anyPeer, Title: "round trip, 1 caller (Run)", Unit: NsPerOp, NaiveRef: "run", ChanRef: "run", Measure: measureRun},
		{Name: "run-8", Applies: anyPeer, Title: "round trip, 8 callers, aggregate (Run)", Unit: NsPerOp, NaiveRef: "run-8", ChanRef: "run-8", Measure: measureRunN},
		{Name: "submit", Applies: peers.Implements[peers.Submitter], Title: "Submit + Future.Wait", Unit: NsPerOp, NaiveRef: "run", ChanRef: "run", Measure: measureSubmit},
		{Name: "iter", Applies: peers.Implements[peers.Streamer], Title: "Iter per item (buffered channel for peers)", Unit: ItemsPerSec, HigherBetter: true, NaiveRef: "iter", ChanRef: "iter", Measure: measureIter},
		{Name: "spawn", Applies: peers.Implements[peers.Spawner], Title: "spawn + await a child on the loop", Unit: NsPerOp, ChanRef: "spawn", Measure: measureSpawn},
		{Name: "sleep", Applies: peers.Implements[peers.Sleeper], Title: "timer churn: random sleeps < 100µs, 1000 tasks", Unit: NsPerOp, ChanRef: "sleep", Measure: measureSleep},
		{Name: "suspend", Applies: peers.Implements[peers.Suspender], Title: "memory per suspended task", Unit: BytesPerTsk, ChanRef: "suspend", Measure: measureSuspend},
		{Name: "idle", Applies: anyPeer, Title: "idle CPU after work (whole process)", Unit: CPUMsPerSec, Measure: measureIdle},
	}, append(callbackCases(), jsCases()...)...)
}

func measureRun(sys peers.System, cfg Config) (Sample, bool, error) {
	s, err := Timed(cfg.Duration, func(n int) error {
		for range n {
			if _, err := sys.Call(); err != nil {
				return err
			}
		}
		return nil
	})
	return s, true, err
}

func measureRunN(sys peers.System, cfg Config) (Sample, bool, error) {
	k := max(1, cfg.Callers)
	s, err := Timed(cfg.Duration, func(n int) error {
		return peers.Parallel(k, func(i int) error {
			for range share(n, k, i) {
				if _, err := sys.Call(); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return s, true, err
}

func measureSubmit(sys peers.System, cfg Config) (Sample, bool, error) {
	sub, ok := sys.(peers.Submitter)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		for range n {
			if _, err := sub.SubmitWait(); err != nil {
				return err
			}
		}
		return nil
	})
	return s, true, err
}

func measureIter(sys peers.System, cfg Config) (Sample, bool, error) {
	st, ok := sys.(peers.Streamer)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		got, sum, err := st.Stream(Counter(n))
		if err != nil {
			return err
		}
		if want := n * (n - 1) / 2; got != n || sum != want {
			return fmt.Errorf("cases: Stream gave %d values summing to %d; want %d summing to %d", got, sum, n, want)
		}
		return nil
	})
	s.Value = 1e9 / s.Value
	return s, true, err
}

func measureSpawn(sys peers.System, cfg Config) (Sample, bool, error) {
	sp, ok := sys.(peers.Spawner)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		got, err := sp.SpawnAwait(Counter(n))
		if err == nil && got != n {
			err = fmt.Errorf("cases: SpawnAwait awaited %d children; want %d", got, n)
		}
		return err
	})
	return s, true, err
}

func measureSleep(sys peers.System, cfg Config) (Sample, bool, error) {
	sl, ok := sys.(peers.Sleeper)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		return sl.Sleeps(n, cfg.SleepTasks, cfg.SleepMax)
	})
	return s, true, err
}

func measureSuspend(sys peers.System, cfg Config) (Sample, bool, error) {
	su, ok := sys.(peers.Suspender)
	if !ok {
		return Sample{}, false, nil
	}
	b, err := SuspendedBytes(su, cfg.SuspendN)
	return Sample{Value: b, Allocs: math.NaN(), Ops: cfg.SuspendN}, true, err
}

func measureIdle(sys peers.System, cfg Config) (Sample, bool, error) {
	v, err := IdleCPU(sys.Call, 1000, cfg.IdleWindow)
	return Sample{Value: v, Allocs: math.NaN(), Ops: 1}, true, err
}

func anyPeer(peers.Peer) bool { return true }

// share returns how many of n units the i-th of k workers does.
func share(n, k, i int) int {
	m := n / k
	if i < n%k {
		m++
	}
	return m
}

// Procs describes the parallelism the benchmarks run with.
func Procs() string {
	return fmt.Sprintf("GOMAXPROCS=%d NumCPU=%d", runtime.GOMAXPROCS(0), runtime.NumCPU())
}
